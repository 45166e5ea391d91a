package sigma

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// LintResult is what lint found in one document (a rule, correlation or
// filter), or in a file as a whole when Doc is -1 (unreadable file,
// malformed YAML).
type LintResult struct {
	Path     string
	Doc      int
	Pos      Pos
	Kind     string // "rule", "correlation", "filter", or "" for the file
	ID       string
	Title    string
	Errors   ErrorList
	Warnings ErrorList
}

// LintReport is the result of linting a set of files.
type LintReport struct {
	Files    int
	Rules    int // documents: rules, correlations and filters
	Errors   int
	Warnings int
	Results  []*LintResult
}

// LintOptions tune Lint.
type LintOptions struct {
	// Progress, if set, is called after each file.
	Progress func(files int)
}

// Lint parses and validates rule files and folders (as Load does,
// including cross-document checks) and groups every error and warning by
// document.
func Lint(ctx context.Context, paths []string, opts LintOptions) (*LintReport, error) {
	rep := &LintReport{}
	files, ferrs := expandPaths(paths)
	for _, e := range ferrs {
		rep.add(&LintResult{Path: e.File, Doc: -1}, ErrorList{e})
	}
	type docKey struct {
		path string
		pos  Pos
	}
	byDoc := map[docKey]*LintResult{}
	var parsed []*File
	for i, path := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Files++
		data, errs := readRuleFile(path)
		if errs != nil {
			rep.add(&LintResult{Path: path, Doc: -1}, errs)
			continue
		}
		f, p := parseData(path, data)
		parsed = append(parsed, f)
		owned := make([]bool, len(p.errs))
		for di, d := range p.docs {
			if d.start == d.end && d.meta.Pos.Line == 0 {
				continue // empty document
			}
			for j := d.start; j < d.end; j++ {
				owned[j] = true
			}
			r := &LintResult{Path: path, Doc: di, Pos: d.pos, Kind: d.kind.String(), ID: d.meta.ID, Title: d.meta.Title}
			rep.Rules++
			rep.add(r, p.errs[d.start:d.end])
			byDoc[docKey{path, d.pos}] = r
		}
		var rest ErrorList
		for j, e := range p.errs {
			if !owned[j] {
				rest = append(rest, e)
			}
		}
		if len(rest) > 0 {
			rep.add(&LintResult{Path: path, Doc: -1}, rest)
		}
		if opts.Progress != nil {
			opts.Progress(i + 1)
		}
	}
	_, cerrs := LoadFiles(parsed...)
	for _, e := range cerrs {
		r := byDoc[docKey{e.File, e.Pos}]
		if r == nil {
			r = &LintResult{Path: e.File, Doc: -1}
			rep.Results = append(rep.Results, r)
		}
		if e.Warning {
			r.Warnings = append(r.Warnings, e)
			rep.Warnings++
		} else {
			r.Errors = append(r.Errors, e)
			rep.Errors++
		}
	}
	return rep, nil
}

func (k docKind) String() string {
	switch k {
	case docCorrelation:
		return "correlation"
	case docFilter:
		return "filter"
	}
	return "rule"
}

// add appends a result with its errors and warnings.
func (rep *LintReport) add(r *LintResult, errs ErrorList) {
	for _, e := range errs {
		if e.Warning {
			r.Warnings = append(r.Warnings, e)
			rep.Warnings++
		} else {
			r.Errors = append(r.Errors, e)
			rep.Errors++
		}
	}
	rep.Results = append(rep.Results, r)
}

// WriteText prints one line per problem: "path:line:col: error: msg" (or
// "warning:"), errors and warnings of each document in position order.
func (rep *LintReport) WriteText(w io.Writer, warnings bool) error {
	for _, r := range rep.Results {
		all := append(ErrorList(nil), r.Errors...)
		if warnings {
			all = append(all, r.Warnings...)
		}
		all.Sort()
		for _, e := range all {
			sev := "error"
			if e.Warning {
				sev = "warning"
			}
			if _, err := fmt.Fprintf(w, "%s: %s: %s\n", e.location(), sev, e.Msg); err != nil {
				return err
			}
		}
	}
	return nil
}

// location is "file:line:col", "file:line" or "file".
func (e *Error) location() string {
	switch {
	case e.Pos.Line > 0 && e.Pos.Col > 0:
		return fmt.Sprintf("%s:%d:%d", e.File, e.Pos.Line, e.Pos.Col)
	case e.Pos.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Pos.Line)
	}
	return e.File
}

// lintJSON is the JSON form of a LintResult.
type lintJSON struct {
	Path     string        `json:"path"`
	Doc      int           `json:"doc"`
	Kind     string        `json:"kind,omitempty"`
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Errors   []problemJSON `json:"errors"`
	Warnings []problemJSON `json:"warnings"`
}

type problemJSON struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

func problems(l ErrorList) []problemJSON {
	l = append(ErrorList(nil), l...)
	l.Sort()
	out := make([]problemJSON, 0, len(l))
	for _, e := range l {
		out = append(out, problemJSON{Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg})
	}
	return out
}

// WriteJSON prints one JSON object per line and per document:
// {"path","doc","kind","id","title","errors":[{line,col,message}],"warnings":[...]}.
func (rep *LintReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rep.Results {
		if err := enc.Encode(lintJSON{Path: r.Path, Doc: r.Doc, Kind: r.Kind, ID: r.ID, Title: r.Title,
			Errors: problems(r.Errors), Warnings: problems(r.Warnings)}); err != nil {
			return err
		}
	}
	return nil
}
