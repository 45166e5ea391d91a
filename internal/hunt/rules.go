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
	rs.Correlations = col.Correlations
	return rs, nil
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
	rs := &RuleSet{Correlations: corrs}
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
