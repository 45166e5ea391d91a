package sigma

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Allowed values of the status, level and related type attributes.
var (
	validStatus  = map[string]bool{"stable": true, "test": true, "experimental": true, "deprecated": true, "unsupported": true}
	validLevel   = map[string]bool{"informational": true, "low": true, "medium": true, "high": true, "critical": true}
	validRelated = map[string]bool{"derived": true, "obsolete": true, "merged": true, "renamed": true, "similar": true}
)

var (
	uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// tagRE is "namespace.name": lower case letters, digits, '_', '-' and
	// further dots (attack.t1059.001, cve.2021-44228).
	tagRE  = regexp.MustCompile(`^[a-z0-9_-]+\.[a-z0-9_.-]+$`)
	dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// validateMeta reports questionable metadata as warnings: what the spec
// calls mandatory or recommends, checked without rejecting the rule.
func (p *parser) validateMeta(m *Meta, kind docKind, pairs []pair) {
	val := func(key string) *yaml.Node {
		for _, kv := range pairs {
			if kv.key.Value == key {
				return kv.val
			}
		}
		return nil
	}
	pos := func(key string) Pos {
		if n := val(key); n != nil {
			return nodePos(n)
		}
		return m.Pos
	}
	if strings.TrimSpace(m.Title) == "" {
		p.warnf(m.Pos, "document has no title (the spec makes it mandatory)")
	} else if len(m.Title) > 256 {
		p.warnf(pos("title"), "title is %d characters long; the spec allows 256", len(m.Title))
	}
	switch {
	case m.ID == "" && kind != docFilter:
		p.warnf(m.Pos, "document has no id")
	case m.ID != "" && !uuidRE.MatchString(m.ID):
		p.warnf(pos("id"), "id %q is not a UUID", m.ID)
	}
	if m.Status != "" && !validStatus[m.Status] {
		p.warnf(pos("status"), "unknown status %q (want stable, test, experimental, deprecated or unsupported)", m.Status)
	}
	if m.Level != "" && !validLevel[m.Level] {
		p.warnf(pos("level"), "unknown level %q (want informational, low, medium, high or critical)", m.Level)
	}
	if n := val("tags"); n != nil && n.Kind == yaml.SequenceNode {
		for i, c := range n.Content {
			if i < len(m.Tags) && c.Kind == yaml.ScalarNode && !tagRE.MatchString(c.Value) {
				p.warnf(nodePos(c), "tag %q is not in the form namespace.name (lower case)", c.Value)
			}
		}
	}
	for _, key := range []string{"date", "modified"} {
		if n := val(key); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" && !dateRE.MatchString(n.Value) {
			p.warnf(nodePos(n), "%s %q is not in the form YYYY-MM-DD", key, n.Value)
		}
	}
	for i, r := range m.Related {
		if r.Type != "" && !validRelated[r.Type] {
			p.warnf(pos("related"), "related entry %d: unknown type %q (want derived, obsolete, merged, renamed or similar)", i+1, r.Type)
		}
		if r.ID == "" {
			p.warnf(pos("related"), "related entry %d has no id", i+1)
		}
	}
	if n := val("logsource"); n != nil && kind != docCorrelation {
		if r, ok := p.resolve(n); ok && r.Kind == yaml.MappingNode {
			empty := true
			for i := 0; i+1 < len(r.Content); i += 2 {
				switch r.Content[i].Value {
				case "category", "product", "service":
					if r.Content[i+1].Value != "" {
						empty = false
					}
				}
			}
			if empty {
				p.warnf(nodePos(n), "logsource has no category, product or service: the rule applies to every event")
			}
		}
	}
}

// checkUnused warns about searches that no condition uses.
func (p *parser) checkUnused(d *Detection) {
	used := make(map[string]bool, len(d.Searches))
	for _, c := range d.Conditions {
		Walk(c.Expr, func(e Expr) bool {
			switch e := e.(type) {
			case *IdentExpr:
				used[e.Name] = true
			case *OfExpr:
				for _, n := range e.Names {
					used[n] = true
				}
			}
			return true
		})
	}
	for _, s := range d.Searches {
		if !used[s.Name] {
			p.warnf(s.Pos, "search %q is not used by the condition", s.Name)
		}
	}
}
