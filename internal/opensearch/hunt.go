package opensearch

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/lucene"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// HuntBackend runs Sigma rules on OpenSearch: each rule (already through
// its pipeline) is converted by internal/lucene to a query_string, bounded
// by an @timestamp range, and every hit is pulled with point in time and
// search_after. It implements hunt.Backend and emits the same matches as
// the file backend for the same events loaded with LoadFiles: file and
// line come from the provenance fields written at ingest, the event is the
// document's source without them.
type HuntBackend struct {
	Client *Client
	// Index is an index name or pattern ("logs-*", "a,b").
	Index string
	// Since and Until bound @timestamp: Since <= t < Until. Zero values
	// leave that side open.
	Since, Until time.Time
	// KeywordFields bind field-less keyword searches (default: the
	// catch-all field rangehunt.all, which holds every value of the event,
	// as the evaluator's keyword search sees it).
	KeywordFields []string
	// PageSize is the number of hits per page (default 1000).
	PageSize int
	// Warn, when set, receives warnings about the indices searched (an
	// index whose mapping rangehunt did not create).
	Warn io.Writer
	// Progress, when set, is told the hits pulled as the run goes.
	Progress func(n int64)
}

// QueryFor returns the OpenSearch query for one converted rule: its
// query_string (conditions OR-ed) with the time range as a filter.
func (b *HuntBackend) QueryFor(queries []string) map[string]any {
	q := queries[0]
	if len(queries) > 1 {
		q = "(" + strings.Join(queries, ") OR (") + ")"
	}
	fields := b.keywordFields()
	qs := map[string]any{"query_string": map[string]any{
		"query":                  q,
		"fields":                 fields,
		"allow_leading_wildcard": true,
	}}
	rng := map[string]any{}
	if !b.Since.IsZero() {
		rng["gte"] = b.Since.UTC().Format(time.RFC3339Nano)
	}
	if !b.Until.IsZero() {
		rng["lt"] = b.Until.UTC().Format(time.RFC3339Nano)
	}
	if len(rng) == 0 {
		return qs
	}
	rng["format"] = "strict_date_optional_time"
	return map[string]any{"bool": map[string]any{
		"must":   []any{qs},
		"filter": []any{map[string]any{"range": map[string]any{"@timestamp": rng}}},
	}}
}

func (b *HuntBackend) keywordFields() []string {
	if len(b.KeywordFields) > 0 {
		return b.KeywordFields
	}
	return DefaultFields
}

type huntHit struct {
	file  string
	line  int64
	index string
	id    string
	rule  int
}

// Run implements hunt.Backend. Matches are emitted in the file backend's
// order: by file name, then line, then rule order (documents without
// provenance come last, by index and id).
func (b *HuntBackend) Run(ctx context.Context, rules []*sigma.Rule, emit func(hunt.Match) error) (hunt.Stats, error) {
	st := hunt.Stats{Skipped: map[string]int64{}}
	if b.Client == nil || b.Index == "" {
		return st, fmt.Errorf("opensearch backend: no client or index")
	}
	if b.Warn != nil {
		foreign, err := b.Client.ForeignIndices(ctx, b.Index)
		if err != nil {
			return st, err
		}
		for _, ix := range foreign {
			fmt.Fprintf(b.Warn, "warning: index %s was not created by rangehunt: its own mapping decides case sensitivity, and rangehunt sends Sigma's case-insensitive values lower-cased (load events with \"rangehunt opensearch ingest\" for Sigma semantics)\n", ix)
		}
	}
	// Events in range: what the file backend would have read.
	var countQuery map[string]any
	if !b.Since.IsZero() || !b.Until.IsZero() {
		countQuery = b.QueryFor([]string{"*:*"})
	}
	n, err := b.Client.Count(ctx, b.Index, countQuery)
	if err != nil {
		return st, err
	}
	st.Read, st.Events = n, n
	sources := map[string][]byte{} // index/id → event
	var hits []huntHit
	for i, r := range rules {
		if err := checkKeywords(r); err != nil {
			st.RuleErrors = append(st.RuleErrors, fmt.Sprintf("%s: rule %s: %v", r.Path, ruleName(r), err))
			continue
		}
		qs, err := lucene.Convert(r, lucene.Options{KeywordFields: b.keywordFields()})
		if err != nil {
			st.RuleErrors = append(st.RuleErrors, fmt.Sprintf("%s: rule %s: %v", r.Path, ruleName(r), err))
			continue
		}
		st.Rules++
		_, err = b.Client.SearchAll(ctx, b.Index, b.QueryFor(qs), SearchOptions{PageSize: b.PageSize}, func(h Hit) error {
			key := h.Index + "/" + h.ID
			if _, ok := sources[key]; !ok {
				sources[key] = h.Event()
			}
			hits = append(hits, huntHit{file: h.File, line: h.Line, index: h.Index, id: h.ID, rule: i})
			if b.Progress != nil {
				b.Progress(1)
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return st, err
			}
			// A query the server refuses (too many clauses, a bad regex)
			// fails that rule only.
			st.Rules--
			st.RuleErrors = append(st.RuleErrors, fmt.Sprintf("%s: rule %s: %v", r.Path, ruleName(r), err))
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, c := hits[i], hits[j]
		if (a.file == "") != (c.file == "") {
			return a.file != ""
		}
		if a.file != c.file {
			return a.file < c.file
		}
		if a.line != c.line {
			return a.line < c.line
		}
		if a.index != c.index {
			return a.index < c.index
		}
		if a.id != c.id {
			return a.id < c.id
		}
		return a.rule < c.rule
	})
	matched := map[string]bool{}
	for _, h := range hits {
		key := h.index + "/" + h.id
		matched[key] = true
		r := rules[h.rule]
		m := hunt.Match{Rule: hunt.RefOf(&r.Meta), Event: sources[key], Source: r}
		if h.file != "" {
			m.EventRef = hunt.EventRef{File: h.file, Line: h.line}
		} else {
			m.EventRef = hunt.EventRef{Index: h.index, DocID: h.id}
		}
		if err := emit(m); err != nil {
			return st, err
		}
	}
	st.Matched = int64(len(matched))
	return st, nil
}

func ruleName(r *sigma.Rule) string {
	if r.Meta.ID != "" {
		return r.Meta.ID
	}
	return fmt.Sprintf("%q", r.Meta.Title)
}

// ParseTime parses a --since/--until value: RFC 3339 (with or without
// fractional seconds) or a date (YYYY-MM-DD, midnight UTC). "" is the zero
// time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2024-05-01T10:00:00Z) or a date (2024-05-01)", s)
}

// checkKeywords rejects keyword (field-less) searches that need the
// original case of the values: cased strings and regular expressions. The
// catch-all field rangehunt.all only holds lower-cased values, so such a
// search would silently find nothing (or too much) on OpenSearch.
func checkKeywords(r *sigma.Rule) error {
	if r.Detection == nil {
		return nil
	}
	for _, s := range r.Detection.Searches {
		if !s.Keywords {
			continue
		}
		for _, g := range s.Groups {
			for _, it := range g.Items {
				for _, v := range it.Values {
					if needsCase(v) {
						return fmt.Errorf("search %s: keyword value %s needs the original case (cased or regex), which the OpenSearch backend's catch-all field does not keep: %w", s.Name, v, lucene.ErrUnsupported)
					}
				}
			}
		}
	}
	return nil
}

func needsCase(v sigma.Value) bool {
	switch x := v.(type) {
	case sigma.String:
		return x.Cased
	case sigma.Regex:
		return true
	case sigma.Expansion:
		for _, a := range x.Alts {
			if needsCase(a) {
				return true
			}
		}
	}
	return false
}
