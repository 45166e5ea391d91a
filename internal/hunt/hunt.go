// Package hunt runs Sigma rule sets over events and reports every match:
// over ECS log files with the embedded evaluator (FileBackend), or over any
// other Backend (OpenSearch registers one). Correlation rules run on the
// ordered stream of matches a backend emits, whatever the backend.
package hunt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// RuleRef names the rule (or correlation) of a match in the output.
type RuleRef struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Level string   `json:"level,omitempty"`
	Tags  []string `json:"tags"`
}

// RefOf returns the output reference of a rule's metadata.
func RefOf(m *sigma.Meta) RuleRef {
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	return RuleRef{ID: m.ID, Title: m.Title, Level: m.Level, Tags: tags}
}

// EventRef locates an event: file and line for files; index and document
// id for OpenSearch.
type EventRef struct {
	File  string `json:"file,omitempty"`
	Line  int64  `json:"line,omitempty"`
	Index string `json:"index,omitempty"`
	DocID string `json:"doc_id,omitempty"`
}

// String renders the reference as file:line (or index/id).
func (r EventRef) String() string {
	if r.File != "" {
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return r.Index + "/" + r.DocID
}

// Match is one detection: a rule matched one event, or a correlation
// matched a group of rule matches within a time window.
type Match struct {
	Rule RuleRef `json:"rule"`
	EventRef
	// Event is the raw event JSON (rule matches only). It may alias the
	// backend's buffers: valid only during the emit call (copy to keep).
	Event json.RawMessage `json:"event,omitempty"`
	// Correlation is set for correlation matches.
	Correlation *CorrelationMatch `json:"correlation,omitempty"`

	// Source is the rule that matched (nil for correlations); backends
	// set it so that correlations can find the rule by id or name.
	Source *sigma.Rule `json:"-"`
}

// CorrelationMatch describes a correlation rule's hit.
type CorrelationMatch struct {
	Type sigma.CorrelationType `json:"type"`
	// Group maps each group-by field to its value in this group.
	Group  map[string]string `json:"group"`
	Window Window            `json:"window"`
	// Value is the counted, summed, averaged or percentile value that met
	// the condition (the event count for event_count and temporal types).
	Value float64 `json:"value"`
	// Events are the contributing events, in stream order.
	Events []EventRef `json:"events"`
}

// Window is the time span of a correlation match.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Stats summarises a run.
type Stats struct {
	// Read counts records read, Events those that were events, Bytes the
	// input bytes; Skipped counts records skipped, per reason.
	Read, Events, Bytes int64
	Skipped             map[string]int64
	// Matched counts events that matched at least one rule.
	Matched int64
	// Rules is the number of rules run; RuleErrors the rules that could
	// not be run (compile or conversion errors), one message each.
	Rules      int
	RuleErrors []string
	// CorrelationIgnored counts rule matches that could not enter the
	// correlations referencing their rule, per reason.
	CorrelationIgnored map[string]int64
	// Hits counts matches per rule (or correlation): "id  title".
	Hits map[string]int64
}

// AddSkip counts n skipped records for reason.
func (s *Stats) AddSkip(reason string, n int64) {
	if n == 0 {
		return
	}
	if s.Skipped == nil {
		s.Skipped = map[string]int64{}
	}
	s.Skipped[reason] += n
}

// Backend runs rules over a source of events. Run calls emit for every
// match in a deterministic order (for files: file order, then line order,
// then rule order); an error from emit stops the run and is returned.
type Backend interface {
	Run(ctx context.Context, rules []*sigma.Rule, emit func(Match) error) (Stats, error)
}

// Run runs rs over backend: base rule matches go through the correlation
// engine, and every match that is to be reported (rule matches unless a
// correlation without generate suppresses them, and correlation matches) is
// written to out as one JSON line.
func Run(ctx context.Context, backend Backend, rs *RuleSet, out io.Writer) (Stats, error) {
	eng, corrErrs := newCorrelator(rs)
	// Hits are counted by (id, title), which costs no allocation per
	// match, and keyed "id  title" for the summary at the end.
	type hitKey struct{ id, title string }
	hits := map[hitKey]int64{}
	bw := bufio.NewWriterSize(out, 256<<10)
	w := &matchWriter{prefix: map[*sigma.Rule][]byte{}}
	write := func(m Match) error {
		hits[hitKey{m.Rule.ID, m.Rule.Title}]++
		line, err := w.append(m)
		if err != nil {
			return err
		}
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write match: %w", err)
		}
		return nil
	}
	st, err := backend.Run(ctx, rs.Rules, func(m Match) error {
		if eng == nil {
			return write(m)
		}
		return eng.feed(m, write)
	})
	if err == nil && eng != nil {
		err = eng.flush(write)
	}
	if eng != nil && len(eng.ignored) > 0 {
		st.CorrelationIgnored = eng.ignored
	}
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write match: %w", ferr)
	}
	st.Hits = make(map[string]int64, len(hits))
	for k, n := range hits {
		st.Hits[strings.TrimSpace(k.id+"  "+k.title)] += n
	}
	st.RuleErrors = append(append(append([]string(nil), rs.Errors...), corrErrs...), st.RuleErrors...)
	return st, err
}

// matchWriter renders matches as JSON lines. Rule matches are assembled
// from a cached per-rule prefix and the raw event (already validated by the
// reader), which is much faster than re-encoding the event.
type matchWriter struct {
	prefix map[*sigma.Rule][]byte
	buf    []byte
	// file and fileJSON cache the JSON string of the last file name:
	// matches come file by file.
	file     string
	fileJSON []byte
}

func (w *matchWriter) append(m Match) ([]byte, error) {
	if m.Correlation != nil || m.Source == nil || m.File == "" {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode match: %w", err)
		}
		return append(b, '\n'), nil
	}
	p, ok := w.prefix[m.Source]
	if !ok {
		r, err := json.Marshal(m.Rule)
		if err != nil {
			return nil, fmt.Errorf("encode match: %w", err)
		}
		p = append(append([]byte(`{"rule":`), r...), `,"file":`...)
		w.prefix[m.Source] = p
	}
	b := append(w.buf[:0], p...)
	if w.fileJSON == nil || m.File != w.file {
		w.file = m.File
		w.fileJSON, _ = json.Marshal(m.File)
	}
	b = append(b, w.fileJSON...)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, m.Line, 10)
	b = append(b, `,"event":`...)
	if bytes.IndexByte(m.Event, '\n') >= 0 || bytes.IndexByte(m.Event, '\r') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, m.Event); err != nil {
			return nil, fmt.Errorf("%s:%d: event: %w", m.File, m.Line, err)
		}
		b = append(b, c.Bytes()...)
	} else {
		b = append(b, m.Event...)
	}
	b = append(b, '}', '\n')
	w.buf = b
	return b, nil
}

// WriteSummary prints the run's summary for a person (on stderr).
func WriteSummary(w io.Writer, st Stats, elapsed time.Duration) {
	fmt.Fprintf(w, "rules: %d run, %d failed\n", st.Rules, len(st.RuleErrors))
	for _, e := range st.RuleErrors {
		fmt.Fprintf(w, "  rule error: %s\n", e)
	}
	rate := ""
	if elapsed > 0 && st.Bytes > 0 {
		rate = fmt.Sprintf(", %.1f MB/s", float64(st.Bytes)/1e6/elapsed.Seconds())
	}
	fmt.Fprintf(w, "events: %d read, %d matched; %d records skipped (%d bytes in %s%s)\n",
		st.Events, st.Matched, total(st.Skipped), st.Bytes, elapsed.Round(time.Millisecond), rate)
	for _, k := range sortedKeys(st.Skipped) {
		fmt.Fprintf(w, "  skipped %d: %s\n", st.Skipped[k], k)
	}
	for _, k := range sortedKeys(st.CorrelationIgnored) {
		fmt.Fprintf(w, "  correlations ignored %d rule matches: %s\n", st.CorrelationIgnored[k], k)
	}
	type hc struct {
		name string
		n    int64
	}
	var hs []hc
	for k, v := range st.Hits {
		hs = append(hs, hc{k, v})
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].n != hs[j].n {
			return hs[i].n > hs[j].n
		}
		return hs[i].name < hs[j].name
	})
	if len(hs) > 0 {
		fmt.Fprintf(w, "hits per rule:\n")
	}
	for _, h := range hs {
		fmt.Fprintf(w, "  %8d  %s\n", h.n, h.name)
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ruleName is a rule's name in messages.
func ruleName(r *sigma.Rule) string { return match.RuleName(r) }

func trimErr(err error) string { return strings.TrimSpace(err.Error()) }
