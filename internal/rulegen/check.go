package rulegen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
)

// CheckOptions control Check.
type CheckOptions struct {
	// Slack widens every procedure window on both sides (clock skew,
	// Caldera's one-second timestamps). Default 0.
	Slack time.Duration
	// NoEventKind leaves out the ecs_event_kind step, which otherwise
	// restricts process_creation rules to event.category:process AND
	// event.type:start.
	NoEventKind bool
	// Progress, if set, is called after each log file.
	Progress func(files int)
}

// LogInput is one ECS log file (NDJSON, gzip NDJSON or a JSON array):
// read from R, or, when R is nil, opened by name when its turn comes (so
// that a long list of files is never open at once).
type LogInput struct {
	Name string
	R    io.Reader
}

// RuleQuality is how one generated rule fared on the logs.
type RuleQuality struct {
	Path      string    `json:"path"`
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Procedure string    `json:"procedure"`
	Start     time.Time `json:"window_start"`
	End       time.Time `json:"window_end"`
	// Inside and Outside count matched events with @timestamp inside and
	// outside the procedure's window; NoTime counts matches without a
	// usable @timestamp.
	Inside  int64 `json:"inside"`
	Outside int64 `json:"outside"`
	NoTime  int64 `json:"no_timestamp"`
	// Verdict: "ok" (inside only), "too broad" (matches outside), "no
	// match" (nothing inside), "unknown procedure" (not in the scenario).
	Verdict string `json:"verdict"`
}

// CheckReport is the rule-quality report.
type CheckReport struct {
	Rules   []RuleQuality    `json:"rules"`
	Events  int64            `json:"events"`
	Skipped map[string]int64 `json:"skipped_records"`
	// RuleErrors are rules that could not be loaded or compiled.
	RuleErrors []string `json:"rule_errors,omitempty"`
}

// procedureOf returns the procedure a generated rule belongs to: its
// folder name (rules generate writes <procedure>/<procedure>_<n>.yml).
func procedureOf(path string) string {
	return filepath.Base(filepath.Dir(path))
}

// Check matches the rules against the logs and counts, per rule, the
// events inside and outside its procedure's time window.
func Check(ctx context.Context, s *scenario.Scenario, rules []*sigma.Rule, logs []LogInput, opts CheckOptions) (*CheckReport, error) {
	rep := &CheckReport{Skipped: map[string]int64{}}
	var p *pipeline.Pipeline
	if !opts.NoEventKind {
		p = pipeline.WithEventKind(nil)
	}
	var compiled []*sigma.Rule
	var owners []int // index into rep.Rules
	for _, r := range rules {
		q := RuleQuality{Path: r.Path, ID: r.ID, Title: r.Title, Procedure: procedureOf(r.Path)}
		var proc *scenario.Procedure
		for i := range s.Procedures {
			if s.Procedures[i].ID == q.Procedure {
				proc = &s.Procedures[i]
			}
		}
		if proc == nil {
			q.Verdict = "unknown procedure"
		} else {
			q.Start, q.End = proc.Start.Add(-opts.Slack).UTC(), proc.End.Add(opts.Slack).UTC()
		}
		rep.Rules = append(rep.Rules, q)
		rr := r
		if p != nil {
			var err error
			if rr, err = p.Apply(r); err != nil {
				rep.RuleErrors = append(rep.RuleErrors, fmt.Sprintf("%s: pipeline: %v", r.Path, err))
				continue
			}
		}
		compiled = append(compiled, rr)
		owners = append(owners, len(rep.Rules)-1)
	}
	set, errs := match.Compile(compiled)
	for _, e := range errs {
		rep.RuleErrors = append(rep.RuleErrors, e.Error())
	}
	if set == nil {
		return rep, errors.New("rules do not compile")
	}
	// Compile leaves failed rules out: map set rules back to report rows.
	byRule := map[*sigma.Rule]int{}
	for i, r := range compiled {
		byRule[r] = owners[i]
	}
	rowOf := make([]int, len(set.Rules))
	for i, r := range set.Rules {
		rowOf[i] = byRule[r.Rule]
	}
	ts := ecs.NewFields([]string{"@timestamp"})
	var tev ecs.Event
	m := set.NewMatcher()
	var hits []int
	for fi, in := range logs {
		var rd *ecs.Reader
		var err error
		if in.R != nil {
			rd, err = ecs.NewReader(in.R, in.Name, ecs.Options{})
		} else {
			rd, err = ecs.Open(in.Name, ecs.Options{})
		}
		if err != nil {
			return rep, fmt.Errorf("logs %s: %w", in.Name, err)
		}
		for {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return rep, fmt.Errorf("logs %s: %w", in.Name, err)
			}
			rep.Events++
			hits, err = m.Match(rec.Raw, hits[:0])
			if err != nil {
				rep.Skipped["undecodable event"]++
				continue
			}
			if len(hits) == 0 {
				continue
			}
			var at time.Time
			okTime := false
			if err := ts.Extract(rec.Raw, &tev); err == nil {
				if vs := tev.Values(0); len(vs) > 0 {
					if t, err := vs[0].Time(); err == nil {
						at, okTime = t, true
					}
				}
			}
			for _, h := range hits {
				q := &rep.Rules[rowOf[h]]
				switch {
				case !okTime:
					q.NoTime++
				case q.Verdict != "unknown procedure" && !at.Before(q.Start) && !at.After(q.End):
					q.Inside++
				default:
					q.Outside++
				}
			}
		}
		st := rd.Stats()
		for k, v := range st.Skipped {
			rep.Skipped[k] += v
		}
		_ = rd.Close()
		if opts.Progress != nil {
			opts.Progress(fi + 1)
		}
	}
	for i := range rep.Rules {
		q := &rep.Rules[i]
		switch {
		case q.Verdict != "":
		case q.Outside > 0:
			q.Verdict = "too broad"
		case q.Inside == 0:
			q.Verdict = "no match"
		default:
			q.Verdict = "ok"
		}
	}
	sort.SliceStable(rep.Rules, func(i, j int) bool { return rep.Rules[i].Path < rep.Rules[j].Path })
	return rep, nil
}

// WriteText prints the report as a table.
func (r *CheckReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPROCEDURE\tINSIDE\tOUTSIDE\tNO TIME\tVERDICT")
	for _, q := range r.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", q.Path, q.Procedure, q.Inside, q.Outside, q.NoTime, q.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range r.RuleErrors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil
}

// WriteJSON prints the report as one JSON document.
func (r *CheckReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary is a one-line account of the report.
func (r *CheckReport) Summary() string {
	counts := map[string]int{}
	for _, q := range r.Rules {
		counts[q.Verdict]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	var skipped int64
	for _, v := range r.Skipped {
		skipped += v
	}
	return fmt.Sprintf("%d rules (%s), %d events, %d records skipped", len(r.Rules), strings.Join(parts, ", "), r.Events, skipped)
}
