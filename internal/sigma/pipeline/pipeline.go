// Package pipeline holds field-mapping pipelines: ordered transformations
// applied to a Sigma rule before it is matched or converted, so that rules
// written with Sysmon-style field names (Image, CommandLine...) meet the
// ECS names of the logs (process.executable, process.command_line...).
//
// A pipeline is a list of steps. Each step may be limited to rules whose
// logsource matches, and does one thing: map field names, prefix unmapped
// field names, add a condition, drop or rename fields, convert values or
// expand placeholders. Pipelines chain: Resolve("ecs_linux,ecs_event_kind")
// runs the steps of both, in order. Apply never mutates its input; it
// returns a transformed deep copy.
//
// The built-in pipelines are none, ecs_linux, ecs_windows (the mapping of
// pySigma-backend-elasticsearch's ecs_windows pipeline) and the event-kind
// step ecs_event_kind. docs/pipelines.md describes them and the YAML format
// of custom pipelines.
package pipeline

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// Logsource is a logsource condition: every non-empty attribute must equal
// the rule's (exact match, as pySigma's LogsourceCondition).
type Logsource struct {
	Category string `yaml:"category"`
	Product  string `yaml:"product"`
	Service  string `yaml:"service"`
}

// Matches reports whether the rule logsource ls satisfies the condition.
func (c Logsource) Matches(ls sigma.Logsource) bool {
	return (c.Category == "" || c.Category == ls.Category) &&
		(c.Product == "" || c.Product == ls.Product) &&
		(c.Service == "" || c.Service == ls.Service)
}

// StepKind says what a step does.
type StepKind string

// Step kinds. The YAML name of each kind is its string value.
const (
	// FieldMap renames fields: Map[from] = to. Names are matched exactly.
	FieldMap StepKind = "field_mapping"
	// FieldPrefix prepends Prefix to every field name that no earlier
	// field_mapping step of the pipeline mapped and that does not already
	// look like a dotted ECS name (^\w+\.).
	FieldPrefix StepKind = "field_prefix"
	// AddCondition adds a search named Name holding the field/value pairs of
	// Conditions (AND-linked; a list of values is OR-linked) and ANDs it into
	// every condition of the rule: "<Name> and (<condition>)".
	AddCondition StepKind = "add_condition"
	// DropFields removes the detection items of the listed fields.
	DropFields StepKind = "drop_fields"
	// ValuesToString turns numbers into strings (pySigma's
	// ConvertTypeTransformation to str), except for the listed fields and
	// for items holding a null value.
	ValuesToString StepKind = "values_to_string"
	// BoolToString replaces boolean values of the listed fields: true by
	// True, false by False (ecs_windows' network.direction egress/ingress).
	BoolToString StepKind = "bool_to_string"
	// Placeholders replaces expand placeholders by the given values.
	Placeholders StepKind = "placeholders"
)

// Step is one transformation of a pipeline.
type Step struct {
	// ID names the step in messages; built-in steps carry pySigma's
	// processing item identifiers where one exists.
	ID   string
	Kind StepKind
	// When limits the step to rules whose logsource matches one of these
	// conditions; empty means every rule.
	When []Logsource

	Map        map[string]string   // FieldMap
	Prefix     string              // FieldPrefix
	Name       string              // AddCondition: search name (starts with '_')
	Conditions []FieldValues       // AddCondition
	Fields     []string            // DropFields, ValuesToString (excluded), BoolToString
	True       string              // BoolToString
	False      string              // BoolToString
	Values     map[string][]string // Placeholders
}

// FieldValues is one field of an added condition with its OR-linked values.
type FieldValues struct {
	Field  string
	Values []string
}

// Pipeline is an ordered list of steps.
type Pipeline struct {
	// Name is the spec it was resolved from, e.g. "ecs_linux,ecs_event_kind".
	Name  string
	Steps []Step
	// KeywordFields, when set by a pipeline file (keyword_fields), are the
	// fields that field-less keyword searches are bound to by back ends.
	KeywordFields []string
}

// Chain returns a pipeline running the steps of all ps in order.
func Chain(ps ...*Pipeline) *Pipeline {
	out := &Pipeline{}
	var names []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		names = append(names, p.Name)
		out.Steps = append(out.Steps, p.Steps...)
		if len(p.KeywordFields) > 0 {
			out.KeywordFields = slices.Clone(p.KeywordFields)
		}
	}
	out.Name = strings.Join(names, ",")
	return out
}

// WithEventKind returns p followed by the ecs_event_kind step (what hunt
// and label apply by default so that a rule only sees its own kind of
// event). p may be nil.
func WithEventKind(p *Pipeline) *Pipeline {
	ek, _ := Builtin("ecs_event_kind")
	return Chain(p, ek)
}

// WithPlaceholders returns p followed by a step expanding the given
// placeholder values (e.g. from --placeholder name=v1,v2).
func WithPlaceholders(p *Pipeline, values map[string][]string) *Pipeline {
	if len(values) == 0 {
		return p
	}
	return Chain(p, &Pipeline{Name: "placeholders", Steps: []Step{{ID: "cli_placeholders", Kind: Placeholders, Values: values}}})
}

// Resolve builds the pipeline named by spec: a comma-separated list of
// built-in names (none, ecs_linux, ecs_windows, ecs_event_kind) and paths
// of pipeline YAML files, chained in order. The empty spec is "none".
func Resolve(spec string) (*Pipeline, error) {
	var parts []*Pipeline
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if p, ok := Builtin(name); ok {
			parts = append(parts, p)
			continue
		}
		if strings.ContainsAny(name, "/\\") || strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml") {
			p, err := LoadFile(name)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
			continue
		}
		if _, err := os.Stat(name); err == nil {
			p, err := LoadFile(name)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
			continue
		}
		return nil, fmt.Errorf("pipeline %q: not a built-in pipeline (%s) nor a file", name, strings.Join(BuiltinNames(), ", "))
	}
	p := Chain(parts...)
	if p.Name == "" {
		p.Name = "none"
	}
	return p, nil
}

// Apply returns a transformed deep copy of r; r is not modified. A
// pipeline is safe for concurrent use.
func (p *Pipeline) Apply(r *sigma.Rule) (*sigma.Rule, error) {
	out := cloneRule(r)
	if p == nil || out.Detection == nil {
		return out, nil
	}
	st := &state{mapped: map[*sigma.Item]bool{}}
	for i := range p.Steps {
		s := &p.Steps[i]
		if len(s.When) > 0 && !slices.ContainsFunc(s.When, func(c Logsource) bool { return c.Matches(out.Logsource) }) {
			continue
		}
		if err := s.apply(out, st); err != nil {
			return nil, fmt.Errorf("pipeline %s, step %s: %w", p.Name, s.ID, err)
		}
	}
	if err := checkPlaceholders(out); err != nil {
		return nil, err
	}
	return out, nil
}

// state tracks, across the steps of one Apply, which items a field
// mapping renamed (pySigma's FieldNameProcessingItemAppliedCondition).
type state struct {
	mapped map[*sigma.Item]bool
	added  int
}

// ecsName is pySigma ecs_windows' "already an ECS name" test: \w+\. at
// the start of the field name.
var ecsName = regexp.MustCompile(`^\w+\.`)

func (s *Step) apply(r *sigma.Rule, st *state) error {
	switch s.Kind {
	case FieldMap:
		eachItem(r, func(it *sigma.Item) {
			if to, ok := s.Map[it.Field]; ok && it.Field != "" {
				it.Field = to
				st.mapped[it] = true
			}
			mapFieldRefs(it, s.Map)
		})
	case FieldPrefix:
		eachItem(r, func(it *sigma.Item) {
			if it.Field == "" || st.mapped[it] || ecsName.MatchString(it.Field) {
				return
			}
			it.Field = s.Prefix + it.Field
		})
	case AddCondition:
		return s.addCondition(r, st)
	case DropFields:
		for _, se := range r.Detection.Searches {
			for _, g := range se.Groups {
				g.Items = slices.DeleteFunc(g.Items, func(it *sigma.Item) bool { return slices.Contains(s.Fields, it.Field) })
			}
		}
	case ValuesToString:
		eachItem(r, func(it *sigma.Item) {
			if slices.Contains(s.Fields, it.Field) {
				return
			}
			for _, v := range it.Values {
				if _, ok := v.(sigma.Null); ok {
					return
				}
			}
			for i, v := range it.Values {
				it.Values[i] = numberToString(v)
			}
		})
	case BoolToString:
		eachItem(r, func(it *sigma.Item) {
			if !slices.Contains(s.Fields, it.Field) || len(it.Values) == 0 {
				return
			}
			// pySigma's MatchValueCondition(cond="all"): every value must be
			// the same boolean.
			want, ok := it.Values[0].(sigma.Bool)
			if !ok {
				return
			}
			for _, v := range it.Values {
				if b, ok := v.(sigma.Bool); !ok || b.V != want.V {
					return
				}
			}
			text := s.False
			if want.V {
				text = s.True
			}
			for i := range it.Values {
				it.Values[i] = sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: text}}}
			}
		})
	case Placeholders:
		return expandPlaceholders(r, s.Values)
	default:
		return fmt.Errorf("unknown step kind %q", s.Kind)
	}
	return nil
}

func numberToString(v sigma.Value) sigma.Value {
	switch v := v.(type) {
	case sigma.Number:
		return sigma.LiteralString(v.Raw)
	case sigma.Expansion:
		for i, a := range v.Alts {
			v.Alts[i] = numberToString(a)
		}
	}
	return v
}

func mapFieldRefs(it *sigma.Item, m map[string]string) {
	for i, v := range it.Values {
		if fr, ok := v.(sigma.FieldRef); ok {
			if to, ok := m[fr.Field]; ok {
				it.Values[i] = sigma.FieldRef{Field: to}
			}
		}
	}
}

func eachItem(r *sigma.Rule, fn func(*sigma.Item)) {
	for _, se := range r.Detection.Searches {
		for _, g := range se.Groups {
			for _, it := range g.Items {
				fn(it)
			}
		}
	}
}

func (s *Step) addCondition(r *sigma.Rule, st *state) error {
	name := s.Name
	if name == "" {
		st.added++
		name = fmt.Sprintf("_cond%d", st.added)
	}
	if !strings.HasPrefix(name, "_") {
		return fmt.Errorf("added search name %q must start with '_' (so that 'them' does not select it)", name)
	}
	for r.Detection.Search(name) != nil {
		name += "_"
	}
	g := &sigma.Group{}
	for _, fv := range s.Conditions {
		it := &sigma.Item{Field: fv.Field}
		for _, v := range fv.Values {
			it.Values = append(it.Values, sigma.ParseString(v))
		}
		g.Items = append(g.Items, it)
	}
	r.Detection.Searches = append(r.Detection.Searches, &sigma.Search{Name: name, Groups: []*sigma.Group{g}})
	for _, c := range r.Detection.Conditions {
		switch x := c.Expr.(type) {
		case *sigma.AndExpr:
			x.Paren = true
		case *sigma.OrExpr:
			x.Paren = true
		}
		c.Expr = &sigma.AndExpr{L: &sigma.IdentExpr{Name: name}, R: c.Expr}
		if c.Source != "" {
			c.Source = name + " and (" + c.Source + ")"
		}
	}
	return nil
}

// expandPlaceholders replaces every Placeholder whose name has values by an
// Expansion of prefix+value+suffix alternatives (a single value gives a
// plain String).
func expandPlaceholders(r *sigma.Rule, values map[string][]string) error {
	eachItem(r, func(it *sigma.Item) {
		for i, v := range it.Values {
			ph, ok := v.(sigma.Placeholder)
			if !ok {
				continue
			}
			vals, ok := values[ph.Name]
			if !ok {
				continue
			}
			var alts []sigma.Value
			for _, val := range vals {
				toks := slices.Clone(ph.Prefix)
				toks = append(toks, sigma.ParseString(val).Tokens...)
				toks = append(toks, ph.Suffix...)
				alts = append(alts, sigma.String{Tokens: mergeLiterals(toks)})
			}
			if len(alts) == 1 {
				it.Values[i] = alts[0]
			} else {
				it.Values[i] = sigma.Expansion{Alts: alts}
			}
		}
	})
	return nil
}

func mergeLiterals(toks []sigma.Token) []sigma.Token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.Kind == sigma.Literal && t.Text == "" {
			continue
		}
		if n := len(out); n > 0 && t.Kind == sigma.Literal && out[n-1].Kind == sigma.Literal {
			out[n-1].Text += t.Text
			continue
		}
		out = append(out, t)
	}
	return out
}

// ErrPlaceholder is the cause of errors about placeholders left unexpanded.
var ErrPlaceholder = fmt.Errorf("unresolved placeholder")

// checkPlaceholders fails when the rule still holds placeholders the
// pipeline gave no values for.
func checkPlaceholders(r *sigma.Rule) error {
	missing := map[string]bool{}
	eachItem(r, func(it *sigma.Item) {
		for _, v := range it.Values {
			if ph, ok := v.(sigma.Placeholder); ok {
				missing[ph.Name] = true
			}
		}
	})
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, "%"+n+"%")
	}
	sort.Strings(names)
	return fmt.Errorf("%w %s: give values with --placeholder name=v1,v2 or a pipeline file's placeholders section", ErrPlaceholder, strings.Join(names, ", "))
}

// cloneRule deep-copies what pipelines may change: the detection.
func cloneRule(r *sigma.Rule) *sigma.Rule {
	out := *r
	out.Tags = slices.Clone(r.Tags)
	out.Fields = slices.Clone(r.Fields)
	if r.Detection == nil {
		return &out
	}
	d := &sigma.Detection{}
	for _, s := range r.Detection.Searches {
		ns := *s
		ns.Groups = make([]*sigma.Group, len(s.Groups))
		for i, g := range s.Groups {
			ng := *g
			ng.Items = make([]*sigma.Item, len(g.Items))
			for j, it := range g.Items {
				ni := *it
				ni.Modifiers = slices.Clone(it.Modifiers)
				ni.Values = make([]sigma.Value, len(it.Values))
				for k, v := range it.Values {
					ni.Values[k] = cloneValue(v)
				}
				ng.Items[j] = &ni
			}
			ns.Groups[i] = &ng
		}
		d.Searches = append(d.Searches, &ns)
	}
	for _, c := range r.Detection.Conditions {
		nc := *c
		nc.Expr = cloneExpr(c.Expr)
		d.Conditions = append(d.Conditions, &nc)
	}
	out.Detection = d
	return &out
}

func cloneValue(v sigma.Value) sigma.Value {
	switch v := v.(type) {
	case sigma.String:
		return sigma.String{Tokens: slices.Clone(v.Tokens), Cased: v.Cased}
	case sigma.Expansion:
		alts := make([]sigma.Value, len(v.Alts))
		for i, a := range v.Alts {
			alts[i] = cloneValue(a)
		}
		return sigma.Expansion{Alts: alts}
	case sigma.Placeholder:
		return sigma.Placeholder{Name: v.Name, Prefix: slices.Clone(v.Prefix), Suffix: slices.Clone(v.Suffix)}
	}
	return v
}

func cloneExpr(e sigma.Expr) sigma.Expr {
	switch e := e.(type) {
	case *sigma.AndExpr:
		return &sigma.AndExpr{L: cloneExpr(e.L), R: cloneExpr(e.R), Off: e.Off}
	case *sigma.OrExpr:
		return &sigma.OrExpr{L: cloneExpr(e.L), R: cloneExpr(e.R), Off: e.Off}
	case *sigma.NotExpr:
		return &sigma.NotExpr{X: cloneExpr(e.X), Off: e.Off}
	case *sigma.IdentExpr:
		c := *e
		return &c
	case *sigma.OfExpr:
		c := *e
		c.Names = slices.Clone(e.Names)
		return &c
	}
	return e
}

// ExpandPlaceholders returns a copy of r with its expand placeholders
// replaced by values; a placeholder without values is an error wrapping
// ErrPlaceholder.
func ExpandPlaceholders(r *sigma.Rule, values map[string][]string) (*sigma.Rule, error) {
	return Chain(&Pipeline{Name: "placeholders", Steps: []Step{{ID: "placeholders", Kind: Placeholders, Values: values}}}).Apply(r)
}
