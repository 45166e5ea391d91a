package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Collection is a set of loaded documents with their cross-references
// checked.
type Collection struct {
	Files        []*File
	Rules        []*Rule
	Correlations []*Correlation
	Filters      []*Filter
}

// Load parses rule files and folders (recursively, *.yml and *.yaml, in
// sorted order) and checks the references between documents: duplicate
// ids and names, correlation references (to rules or correlations, by id
// or name) and cycles, filter references. It returns everything that
// parsed and every error and warning.
func Load(paths ...string) (*Collection, ErrorList) {
	var errs ErrorList
	files, ferrs := expandPaths(paths)
	errs = append(errs, ferrs...)
	c := &Collection{}
	for _, path := range files {
		f, ferrs := ParseFile(path)
		errs = append(errs, ferrs...)
		c.add(f)
	}
	errs = append(errs, c.Check()...)
	return c, errs
}

// LoadFiles builds a collection from already parsed files and checks it.
func LoadFiles(files ...*File) (*Collection, ErrorList) {
	c := &Collection{}
	for _, f := range files {
		c.add(f)
	}
	return c, c.Check()
}

func (c *Collection) add(f *File) {
	c.Files = append(c.Files, f)
	c.Rules = append(c.Rules, f.Rules...)
	c.Correlations = append(c.Correlations, f.Correlations...)
	c.Filters = append(c.Filters, f.Filters...)
}

// ErrNoRules is the cause of the error for a folder without rule files.
var ErrNoRules = errors.New("no rule files")

// expandPaths lists the rule files under paths: files as given, folders
// walked for *.yml and *.yaml, each folder's files sorted.
func expandPaths(paths []string) ([]string, ErrorList) {
	var out []string
	var errs ErrorList
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs.add(p, Pos{}, err, false, "%v", unwrapPathError(err))
			continue
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs.add(path, Pos{}, err, false, "%v", unwrapPathError(err))
				return nil
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(path); ext == ".yml" || ext == ".yaml" {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			errs.add(p, Pos{}, err, false, "%v", err)
		}
		if len(found) == 0 && err == nil {
			// An empty folder is most likely a wrong path: say so rather
			// than report success over nothing.
			errs.add(p, Pos{}, ErrNoRules, false, "no Sigma rule files (*.yml, *.yaml) in this folder")
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, errs
}

// docRef is any loaded document, for reference checks.
type docRef struct {
	meta *Meta
	kind string // "rule", "correlation", "filter"
	corr *Correlation
}

func at(m *Meta) string { return fmt.Sprintf("%s:%d", m.Path, m.Pos.Line) }

// Check validates the references between the collection's documents.
func (c *Collection) Check() ErrorList {
	var errs ErrorList
	var docs []docRef
	for _, r := range c.Rules {
		docs = append(docs, docRef{meta: &r.Meta, kind: "rule"})
	}
	for _, co := range c.Correlations {
		docs = append(docs, docRef{meta: &co.Meta, kind: "correlation", corr: co})
	}
	for _, f := range c.Filters {
		docs = append(docs, docRef{meta: &f.Meta, kind: "filter"})
	}
	byID := map[string]docRef{}
	byName := map[string]docRef{}
	for _, d := range docs {
		if id := d.meta.ID; id != "" {
			if prev, ok := byID[id]; ok {
				errs.add(d.meta.Path, d.meta.Pos, ErrReference, false, "duplicate id %s (also the %s at %s)", id, prev.kind, at(prev.meta))
			} else {
				byID[id] = d
			}
		}
		if name := d.meta.Name; name != "" {
			if prev, ok := byName[name]; ok {
				errs.add(d.meta.Path, d.meta.Pos, ErrReference, false, "duplicate name %q (also the %s at %s)", name, prev.kind, at(prev.meta))
			} else {
				byName[name] = d
			}
		}
	}
	lookup := func(ref string) (docRef, bool) {
		if d, ok := byID[ref]; ok {
			return d, true
		}
		d, ok := byName[ref]
		return d, ok
	}
	for _, co := range c.Correlations {
		for _, ref := range co.Rules {
			d, ok := lookup(ref)
			switch {
			case !ok:
				errs.add(co.Path, co.Pos, ErrReference, false, "correlation %q references unknown rule %q", co.Title, ref)
			case d.kind == "filter":
				errs.add(co.Path, co.Pos, ErrReference, false, "correlation %q references %q, which is a filter", co.Title, ref)
			}
		}
	}
	// Cycles: depth-first search over correlation → correlation edges.
	const (
		white = iota
		grey
		black
	)
	color := map[*Correlation]int{}
	var stack []*Correlation
	reported := map[*Correlation]bool{}
	var visit func(co *Correlation)
	visit = func(co *Correlation) {
		color[co] = grey
		stack = append(stack, co)
		for _, ref := range co.Rules {
			d, ok := lookup(ref)
			if !ok || d.corr == nil {
				continue
			}
			switch color[d.corr] {
			case white:
				visit(d.corr)
			case grey:
				// The cycle is the stack from d.corr to the top.
				i := len(stack) - 1
				for i >= 0 && stack[i] != d.corr {
					i--
				}
				cycle := stack[i:]
				if reported[cycle[0]] {
					continue
				}
				names := make([]string, 0, len(cycle)+1)
				for _, x := range cycle {
					names = append(names, corrLabel(x))
					reported[x] = true
				}
				names = append(names, corrLabel(cycle[0]))
				errs.add(cycle[0].Path, cycle[0].Pos, ErrReference, false, "correlation reference cycle: %s", strings.Join(names, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[co] = black
	}
	for _, co := range c.Correlations {
		if color[co] == white {
			visit(co)
		}
	}
	// Aliases name the referenced rules (by name, as the spec says, or by
	// id): each must be one of the correlation's rules.
	for _, co := range c.Correlations {
		referenced := map[*Meta]bool{}
		for _, ref := range co.Rules {
			if d, ok := lookup(ref); ok {
				referenced[d.meta] = true
			}
		}
		for _, a := range co.Aliases {
			keys := make([]string, 0, len(a.Fields))
			for k := range a.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			covered := map[*Meta]bool{}
			for _, k := range keys {
				d, ok := lookup(k)
				switch {
				case !ok && contains(co.Rules, k):
					// already reported as an unknown reference
				case !ok:
					errs.add(co.Path, co.Pos, ErrReference, false, "alias %q maps unknown rule %q", a.Name, k)
				case !referenced[d.meta]:
					errs.add(co.Path, co.Pos, ErrReference, false, "alias %q maps rule %q, which the correlation does not reference", a.Name, k)
				default:
					covered[d.meta] = true
				}
			}
			for _, ref := range co.Rules {
				if d, ok := lookup(ref); ok && !covered[d.meta] {
					errs.add(co.Path, co.Pos, nil, true, "alias %q has no field for rule %q", a.Name, ref)
				}
			}
		}
	}
	for _, f := range c.Filters {
		if f.FiltersAllRules() {
			continue
		}
		for _, ref := range f.Rules {
			d, ok := lookup(ref)
			switch {
			case !ok:
				errs.add(f.Path, f.Pos, nil, true, "filter %q references rule %q, which is not loaded", f.Title, ref)
			case d.kind != "rule":
				errs.add(f.Path, f.Pos, ErrReference, false, "filter %q references %q, which is a %s, not a rule", f.Title, ref, d.kind)
			}
		}
	}
	return errs
}

func corrLabel(c *Correlation) string {
	if c.Name != "" {
		return c.Name
	}
	if c.ID != "" {
		return c.ID
	}
	return c.Title
}

// Rule returns the rule with the given id or name, or nil.
func (c *Collection) Rule(ref string) *Rule {
	for _, r := range c.Rules {
		if r.ID == ref || (r.Name != "" && r.Name == ref) {
			return r
		}
	}
	return nil
}

// ApplyFilters adds every filter's condition to the rules it references
// whose logsource matches the filter's: each condition of the rule becomes
// "(rule condition) and (filter condition)", with the filter's searches
// copied into the rule under names starting with "_filter" (so that a
// rule's "them" never picks them up). Rules are replaced by modified
// copies; the parsed documents are not changed. It returns how many
// (filter, rule) pairs were applied.
func (c *Collection) ApplyFilters() int {
	applied := 0
	for fi, f := range c.Filters {
		for ri, r := range c.Rules {
			if !filterTargets(f, r) || !logsourceMatches(f.Logsource, r.Logsource) {
				continue
			}
			c.Rules[ri] = applyFilter(r, f, fi)
			applied++
		}
	}
	return applied
}

// FiltersAllRules reports whether the filter applies to every rule of its
// logsource ("rules: any", "rules: all" or an empty list).
func (f *Filter) FiltersAllRules() bool {
	return len(f.Rules) == 1 && (f.Rules[0] == "any" || f.Rules[0] == "all")
}

func filterTargets(f *Filter, r *Rule) bool {
	if f.FiltersAllRules() {
		return true
	}
	for _, ref := range f.Rules {
		if ref == r.ID && ref != "" || ref == r.Name && ref != "" {
			return true
		}
	}
	return false
}

// logsourceMatches reports whether every attribute the filter sets is the
// rule's.
func logsourceMatches(f, r Logsource) bool {
	return (f.Category == "" || strings.EqualFold(f.Category, r.Category)) &&
		(f.Product == "" || strings.EqualFold(f.Product, r.Product)) &&
		(f.Service == "" || strings.EqualFold(f.Service, r.Service))
}

// applyFilter returns a copy of r with filter f's condition ANDed to each
// of its conditions (see Collection.ApplyFilters); n distinguishes the
// search names of several filters.
func applyFilter(r *Rule, f *Filter, n int) *Rule {
	out := r.Clone()
	prefix := fmt.Sprintf("_filter%d_", n)
	renamed := make(map[string]string, len(f.Detection.Searches))
	for _, s := range f.Detection.Searches {
		ns := s.Clone()
		ns.Name = prefix + s.Name
		for out.Detection.Search(ns.Name) != nil {
			ns.Name = "_" + ns.Name
		}
		renamed[s.Name] = ns.Name
		out.Detection.Searches = append(out.Detection.Searches, ns)
	}
	rename := func(name string) string { return renamed[name] }
	var fexpr Expr
	for _, fc := range f.Detection.Conditions {
		e := explicitOf(cloneExpr(fc.Expr), rename)
		if fexpr == nil {
			fexpr = e
		} else {
			fexpr = &OrExpr{L: fexpr, R: e}
		}
	}
	if fexpr == nil {
		return out
	}
	for _, cond := range out.Detection.Conditions {
		cond.Expr = &AndExpr{L: cond.Expr, R: cloneExpr(fexpr)}
		cond.Source = cond.Expr.String()
	}
	return out
}

// explicitOf renames identifiers and turns "1 of"/"all of" into explicit
// or/and chains of the (renamed) names they matched.
func explicitOf(e Expr, rename func(string) string) Expr {
	switch x := e.(type) {
	case *AndExpr:
		x.L, x.R = explicitOf(x.L, rename), explicitOf(x.R, rename)
	case *OrExpr:
		x.L, x.R = explicitOf(x.L, rename), explicitOf(x.R, rename)
	case *NotExpr:
		x.X = explicitOf(x.X, rename)
	case *IdentExpr:
		x.Name = rename(x.Name)
	case *OfExpr:
		var out Expr
		for _, name := range x.Names {
			id := &IdentExpr{Name: rename(name), Off: x.Off}
			switch {
			case out == nil:
				out = id
			case x.All:
				out = &AndExpr{L: out, R: id, Off: x.Off}
			default:
				out = &OrExpr{L: out, R: id, Off: x.Off}
			}
		}
		if out == nil {
			return x
		}
		return out
	}
	return e
}
