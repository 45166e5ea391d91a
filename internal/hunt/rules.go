package hunt

import (
	"fmt"

	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
)

// RuleSet is what a hunt runs: detection rules after filters and the field
// mapping pipeline, and the correlation rules over them.
type RuleSet struct {
	Rules        []*sigma.Rule
	Correlations []*sigma.Correlation
	// Errors are the rules (or files) that could not be loaded or
	// transformed, one message each.
	Errors []string
}

// LoadOptions say how to load a rule set.
type LoadOptions struct {
	// Pipeline is a pipeline spec for pipeline.Resolve ("" = none).
	Pipeline string
	// NoEventKind leaves out the event-kind step that hunt adds by default
	// (pipeline.WithEventKind), so that a rule sees only its own kind of
	// event (process_creation: event.category process, event.type start).
	NoEventKind bool
}

// LoadRules loads rule files and folders, applies filter rules and the
// pipeline. Rules with errors are left out and reported in RuleSet.Errors;
// an error is returned only when the pipeline cannot be resolved.
func LoadRules(paths []string, opts LoadOptions) (*RuleSet, error) {
	p, err := pipeline.Resolve(opts.Pipeline)
	if err != nil {
		return nil, err
	}
	if !opts.NoEventKind {
		p = pipeline.WithEventKind(p)
	}
	col, errs := sigma.Load(paths...)
	rs := &RuleSet{}
	for _, e := range errs {
		if e.Warning {
			continue
		}
		rs.Errors = append(rs.Errors, e.Error())
	}
	if col == nil {
		return rs, nil
	}
	col.ApplyFilters()
	for _, r := range col.Rules {
		out, err := p.Apply(r)
		if err != nil {
			rs.Errors = append(rs.Errors, fmt.Sprintf("%s: rule %s: %v", r.Path, ruleName(r), err))
			continue
		}
		rs.Rules = append(rs.Rules, out)
	}
	rs.Correlations = mapCorrelations(p, col.Rules, col.Correlations)
	return rs, nil
}

// mapCorrelations returns copies of the correlations whose group-by and
// condition fields are mapped, per referenced rule, by the pipeline that
// mapped the rule (a group-by "User" becomes user.name for an ecs_linux
// process_creation rule), through per-rule aliases. Fields the user
// aliased explicitly are left alone. Output groups keep the names as
// written.
func mapCorrelations(p *pipeline.Pipeline, rules []*sigma.Rule, corrs []*sigma.Correlation) []*sigma.Correlation {
	byRef := map[string]*sigma.Rule{}
	for _, r := range rules {
		for _, n := range refsOf(&r.Meta) {
			byRef[n] = r
		}
	}
	var out []*sigma.Correlation
	for _, c := range corrs {
		cc := *c
		cc.Aliases = append([]sigma.Alias(nil), c.Aliases...)
		aliased := map[string]bool{}
		for _, a := range c.Aliases {
			aliased[a.Name] = true
		}
		fields := append([]string(nil), c.GroupBy...)
		if c.Condition.Field != "" {
			fields = append(fields, c.Condition.Field)
		}
		for _, f := range fields {
			if aliased[f] {
				continue
			}
			al := sigma.Alias{Name: f, Fields: map[string]string{}}
			for _, ref := range c.Rules {
				r, ok := byRef[ref]
				if !ok {
					continue // a correlation: its groups carry the names
				}
				if m := mapField(p, r.Logsource, f); m != f {
					al.Fields[ref] = m
				}
			}
			if len(al.Fields) > 0 {
				cc.Aliases = append(cc.Aliases, al)
				aliased[f] = true
			}
		}
		out = append(out, &cc)
	}
	return out
}

// mapField maps one field name as the pipeline maps it in a rule of the
// given logsource: a one-item probe rule goes through the pipeline.
func mapField(p *pipeline.Pipeline, ls sigma.Logsource, field string) string {
	probe := &sigma.Rule{Logsource: ls, Detection: &sigma.Detection{
		Searches: []*sigma.Search{{Name: "probe", Groups: []*sigma.Group{{Items: []*sigma.Item{{
			Field: field, Values: []sigma.Value{sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: "x"}}}},
		}}}}}},
		Conditions: []*sigma.Condition{{Source: "probe", Expr: &sigma.IdentExpr{Name: "probe"}}},
	}}
	out, err := p.Apply(probe)
	if err != nil || out.Detection == nil {
		return field
	}
	if s := out.Detection.Search("probe"); s != nil && len(s.Groups) == 1 && len(s.Groups[0].Items) == 1 {
		return s.Groups[0].Items[0].Field
	}
	return field
}

// NewRuleSet builds a rule set from rules already parsed (tests, other
// tools), applying the pipeline spec as LoadRules does.
func NewRuleSet(rules []*sigma.Rule, corrs []*sigma.Correlation, opts LoadOptions) (*RuleSet, error) {
	p, err := pipeline.Resolve(opts.Pipeline)
	if err != nil {
		return nil, err
	}
	if !opts.NoEventKind {
		p = pipeline.WithEventKind(p)
	}
	rs := &RuleSet{Correlations: mapCorrelations(p, rules, corrs)}
	for _, r := range rules {
		out, err := p.Apply(r)
		if err != nil {
			rs.Errors = append(rs.Errors, fmt.Sprintf("%s: rule %s: %v", r.Path, ruleName(r), err))
			continue
		}
		rs.Rules = append(rs.Rules, out)
	}
	return rs, nil
}
