package sigma

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// correlationTypes are the types of Sigma v2.1.
var correlationTypes = map[CorrelationType]bool{
	EventCount: true, ValueCount: true, Temporal: true, TemporalOrdered: true,
	ValueSum: true, ValueAvg: true, ValuePercentile: true,
}

// needsField reports whether a correlation type needs condition.field.
func (t CorrelationType) needsField() bool {
	switch t {
	case ValueCount, ValueSum, ValueAvg, ValuePercentile:
		return true
	}
	return false
}

// ParseTimespan reads a correlation timespan: a positive integer and one
// of s, m, h, d (lower case), e.g. "90m".
func ParseTimespan(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 || !isDigits(s[:len(s)-1]) {
		return 0, false
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	default:
		return 0, false
	}
	if n > int64(1<<62)/int64(unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

var correlationOps = map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "neq": true}

func (p *parser) correlation(c *Correlation, n *yaml.Node) {
	pairs, ok := p.mapping(n, "correlation")
	if !ok {
		return
	}
	var typeNode, rulesNode, groupNode, spanNode, condNode *yaml.Node
	for _, kv := range pairs {
		switch kv.key.Value {
		case "type":
			typeNode = kv.val
			c.Type = CorrelationType(p.str(kv.val, "correlation type"))
		case "rules":
			rulesNode = kv.val
			c.Rules = p.strList(kv.val, "correlation rules")
		case "group-by":
			groupNode = kv.val
			c.GroupBy = p.strList(kv.val, "correlation group-by")
		case "timespan":
			spanNode = kv.val
			s := p.str(kv.val, "correlation timespan")
			d, ok := ParseTimespan(s)
			if !ok {
				p.errorf(nodePos(kv.val), ErrParse, "invalid timespan %q: want a number and s, m, h or d, e.g. 5m", s)
			}
			c.Timespan = d
		case "condition":
			condNode = kv.val
		case "aliases":
			c.Aliases = p.aliases(kv.val)
		case "generate":
			v, ok := p.resolve(kv.val)
			if ok && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
				c.Generate = v.Value == "true"
			} else if ok {
				p.errorf(nodePos(kv.val), ErrParse, "generate must be true or false")
			}
		case "timeframe":
			p.errorf(nodePos(kv.key), ErrParse, "unknown correlation attribute 'timeframe' (did you mean 'timespan'?)")
		default:
			p.errorf(nodePos(kv.key), ErrParse, "unknown correlation attribute %q", kv.key.Value)
		}
	}
	if n.Kind == yaml.AliasNode {
		n, _ = p.resolve(n)
	}
	pos := nodePos(n)
	// Generate is also allowed at the document level (spec §Generate).
	switch {
	case typeNode == nil:
		p.errorf(pos, ErrParse, "correlation has no type")
	case !correlationTypes[c.Type]:
		p.errorf(nodePos(typeNode), ErrParse, "unknown correlation type %q (want event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile)", c.Type)
	}
	if rulesNode == nil || len(c.Rules) == 0 {
		p.errorf(pos, ErrParse, "correlation has no rules")
	}
	if (c.Type == Temporal || c.Type == TemporalOrdered) && rulesNode != nil && len(c.Rules) < 2 {
		p.warnf(nodePos(rulesNode), "a %s correlation over a single rule is always true once the rule matches", c.Type)
	}
	if spanNode == nil {
		p.errorf(pos, ErrParse, "correlation has no timespan")
	}
	if groupNode == nil && c.Type != "" {
		p.warnf(pos, "correlation has no group-by: all events form one group")
	}
	switch {
	case condNode != nil:
		c.Condition = p.corrCondition(c.Type, condNode)
	case c.Type == Temporal || c.Type == TemporalOrdered:
	case correlationTypes[c.Type]:
		p.errorf(pos, ErrParse, "%s correlation has no condition", c.Type)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (p *parser) corrCondition(t CorrelationType, n *yaml.Node) CorrelationCondition {
	var cc CorrelationCondition
	pairs, ok := p.mapping(n, "correlation condition")
	if !ok {
		return cc
	}
	for _, kv := range pairs {
		k := kv.key.Value
		switch {
		case k == "field":
			cc.Field = p.str(kv.val, "condition field")
		case k == "percentile":
			s := p.str(kv.val, "condition percentile")
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 || f > 100 {
				p.errorf(nodePos(kv.val), ErrParse, "percentile must be a number from 0 to 100, not %q", s)
			}
			cc.Percentile = f
		case correlationOps[k]:
			s := p.str(kv.val, "condition "+k)
			f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
			if err != nil {
				p.errorf(nodePos(kv.val), ErrParse, "correlation condition %s needs a number, not %q", k, s)
				continue
			}
			cc.Ops = append(cc.Ops, CorrelationOp{Op: k, Value: f})
		default:
			p.errorf(nodePos(kv.key), ErrParse, "unknown correlation condition %q (want gt, gte, lt, lte, eq, neq or field)", k)
		}
	}
	if len(cc.Ops) == 0 {
		p.errorf(nodePos(n), ErrParse, "correlation condition has no comparison (gt, gte, lt, lte, eq or neq)")
	}
	if len(cc.Ops) > 2 {
		p.errorf(nodePos(n), ErrParse, "correlation condition has %d comparisons; at most two (a range) are allowed", len(cc.Ops))
	}
	if t.needsField() && cc.Field == "" {
		p.errorf(nodePos(n), ErrParse, "%s correlation condition needs a field", t)
	}
	if !t.needsField() && cc.Field != "" && correlationTypes[t] {
		p.warnf(nodePos(n), "%s correlation ignores condition field %q", t, cc.Field)
	}
	return cc
}

func (p *parser) aliases(n *yaml.Node) []Alias {
	pairs, ok := p.mapping(n, "aliases")
	if !ok {
		return nil
	}
	out := make([]Alias, 0, len(pairs))
	for _, kv := range pairs {
		a := Alias{Name: kv.key.Value, Fields: map[string]string{}}
		inner, ok := p.mapping(kv.val, "alias "+strconv.Quote(a.Name))
		if !ok {
			continue
		}
		for _, f := range inner {
			a.Fields[f.key.Value] = p.str(f.val, "alias field")
		}
		out = append(out, a)
	}
	return out
}

// filter parses a filter document's filter section: rules, searches and
// a condition.
func (p *parser) filter(f *Filter, n *yaml.Node) {
	pairs, ok := p.mapping(n, "filter")
	if !ok {
		return
	}
	var rulesNode *yaml.Node
	for _, kv := range pairs {
		if kv.key.Value == "rules" {
			rulesNode = kv.val
			f.Rules = p.strList(kv.val, "filter rules")
		}
	}
	switch {
	case rulesNode == nil:
		p.errorf(nodePos(n), ErrParse, "filter has no rules (use 'rules: any' to filter every rule of its logsource)")
	case len(f.Rules) == 0:
		// An empty list means every rule, as in pySigma.
		f.Rules = []string{"any"}
	case len(f.Rules) == 1 && (strings.EqualFold(f.Rules[0], "any") || strings.EqualFold(f.Rules[0], "all")):
		f.Rules[0] = strings.ToLower(f.Rules[0])
	}
	f.Detection = p.detection(n, nil, map[string]bool{"rules": true})
}
