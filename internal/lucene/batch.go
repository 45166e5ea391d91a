package lucene

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
)

// Output formats of ConvertPaths.
const (
	FormatLucene = "lucene" // the query string
	FormatDSL    = "dsl"    // the OpenSearch search request body
)

// BatchOptions control ConvertPaths.
type BatchOptions struct {
	Options
	// Pipeline is applied to every rule first (nil: none).
	Pipeline *pipeline.Pipeline
	// Format is FormatLucene or FormatDSL.
	Format string
	// JSON prints one object per rule: {"path","id","queries","error"}.
	JSON bool
	// Since and Until bound @timestamp in the DSL body (RFC 3339 times,
	// dates, or OpenSearch date math such as now-1d); empty = unbounded.
	Since, Until string
	// Errors receives "path: message" lines for rules that could not be
	// converted when JSON is false (nil: dropped).
	Errors io.Writer
	// Progress is called after each file (may be nil).
	Progress func()
}

// BatchStats count what ConvertPaths did.
type BatchStats struct {
	Files, Rules, Converted, Failed int
	// Reasons counts failures by kind ("parse", "pipeline", "convert",
	// "correlation").
	Reasons map[string]int
}

// Record is one rule's result in --json output.
type Record struct {
	Path    string  `json:"path"`
	ID      string  `json:"id"`
	Queries []any   `json:"queries"`
	Error   *string `json:"error"`
}

// CheckTime validates a --since/--until value: RFC 3339, a date
// (2006-01-02) or OpenSearch date math starting with "now".
func CheckTime(s string) error {
	if s == "" || strings.HasPrefix(s, "now") {
		return nil
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return nil
	}
	return fmt.Errorf("time %q: want RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02) or date math (now-1d)", s)
}

// DSL returns the OpenSearch search request body for a query string.
func DSL(query, since, until string) map[string]any {
	qs := map[string]any{"query": query, "analyze_wildcard": true}
	b := map[string]any{"must": []any{map[string]any{"query_string": qs}}}
	if since != "" || until != "" {
		rng := map[string]any{}
		if since != "" {
			rng["gte"] = since
		}
		if until != "" {
			rng["lte"] = until
		}
		b["filter"] = []any{map[string]any{"range": map[string]any{"@timestamp": rng}}}
	}
	return map[string]any{"query": map[string]any{"bool": b}}
}

// ConvertPaths loads the Sigma files and folders in paths, applies the
// pipeline and writes each rule's queries to w. A rule that cannot be
// converted is reported (in its JSON record, or on opt.Errors) and counted;
// it never stops the run. The error return is for write failures and
// cancellation only.
func ConvertPaths(ctx context.Context, w io.Writer, paths []string, opt BatchOptions) (BatchStats, error) {
	st := BatchStats{Reasons: map[string]int{}}
	if opt.Format == "" {
		opt.Format = FormatLucene
	}
	if opt.Format != FormatLucene && opt.Format != FormatDSL {
		return st, fmt.Errorf("unknown format %q (want lucene or dsl)", opt.Format)
	}
	for _, t := range []string{opt.Since, opt.Until} {
		if err := CheckTime(t); err != nil {
			return st, err
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	c, errs := sigma.Load(paths...)
	c.ApplyFilters()
	// Errors by file; errors without a file that parsed go out first.
	byFile := map[string][]string{}
	parsed := map[string]bool{}
	for _, f := range c.Files {
		if f != nil {
			parsed[f.Path] = true
		}
	}
	var orphans []string
	for _, e := range errs.Errors() {
		if e.File != "" {
			byFile[e.File] = append(byFile[e.File], e.Error())
			if !parsed[e.File] {
				orphans = append(orphans, e.File)
			}
		}
	}
	sort.Strings(orphans)
	emit := func(path, id string, queries []string, err error, reason string) error {
		if err != nil {
			st.Failed++
			st.Reasons[reason]++
		} else {
			st.Converted++
		}
		if opt.JSON {
			rec := Record{Path: path, ID: id, Queries: []any{}}
			for _, q := range queries {
				if opt.Format == FormatDSL {
					rec.Queries = append(rec.Queries, DSL(q, opt.Since, opt.Until))
				} else {
					rec.Queries = append(rec.Queries, q)
				}
			}
			if err != nil {
				msg := err.Error()
				rec.Error = &msg
			}
			return enc.Encode(rec)
		}
		if err != nil {
			if opt.Errors != nil {
				if msg := err.Error(); strings.HasPrefix(msg, path+":") {
					fmt.Fprintln(opt.Errors, msg)
				} else {
					fmt.Fprintf(opt.Errors, "%s: %s\n", path, msg)
				}
			}
			return nil
		}
		for _, q := range queries {
			if opt.Format == FormatDSL {
				if err := enc.Encode(DSL(q, opt.Since, opt.Until)); err != nil {
					return err
				}
				continue
			}
			if strings.ContainsAny(q, "\n\r") && opt.Errors != nil {
				fmt.Fprintf(opt.Errors, "%s: warning: a query holds a line break (a value or regex class with a newline), so it spans lines here; --json prints it on one line\n", path)
			}
			bw.WriteString(q)
			bw.WriteByte('\n')
		}
		return nil
	}
	seen := map[string]bool{}
	for _, path := range orphans {
		if seen[path] {
			continue
		}
		seen[path] = true
		st.Files++
		if err := emit(path, "", nil, fmt.Errorf("%s", strings.Join(byFile[path], "; ")), "parse"); err != nil {
			return st, err
		}
	}
	for _, f := range c.Files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if f == nil {
			continue
		}
		st.Files++
		if msgs := byFile[f.Path]; len(msgs) > 0 {
			if err := emit(f.Path, "", nil, fmt.Errorf("%s", strings.Join(msgs, "; ")), "parse"); err != nil {
				return st, err
			}
			if opt.Progress != nil {
				opt.Progress()
			}
			continue
		}
		for _, r := range f.Rules {
			st.Rules++
			queries, reason, err := convertOne(r, opt)
			if err := emit(f.Path, r.ID, queries, err, reason); err != nil {
				return st, err
			}
		}
		for _, co := range f.Correlations {
			st.Rules++
			err := fmt.Errorf("correlation rule %s: a query_string cannot count or order events; use rangehunt hunt: %w", co.Title, ErrUnsupported)
			if err := emit(f.Path, co.ID, nil, err, "correlation"); err != nil {
				return st, err
			}
		}
		if opt.Progress != nil {
			opt.Progress()
		}
	}
	return st, bw.Flush()
}

func convertOne(r *sigma.Rule, opt BatchOptions) ([]string, string, error) {
	lopt := opt.Options
	if opt.Pipeline != nil {
		var err error
		r, err = opt.Pipeline.Apply(r)
		if err != nil {
			return nil, "pipeline", err
		}
		if len(lopt.KeywordFields) == 0 && len(opt.Pipeline.KeywordFields) > 0 {
			lopt.KeywordFields = opt.Pipeline.KeywordFields
		}
	}
	q, err := Convert(r, lopt)
	if err != nil {
		return nil, "convert", err
	}
	return q, "", nil
}
