package sigma

// Clone returns a deep copy of the rule: pipelines transform copies and
// leave the parsed rule untouched.
func (r *Rule) Clone() *Rule {
	if r == nil {
		return nil
	}
	c := *r
	c.Meta = r.Meta.clone()
	c.Detection = r.Detection.Clone()
	return &c
}

// Clone returns a deep copy of the correlation rule.
func (c *Correlation) Clone() *Correlation {
	if c == nil {
		return nil
	}
	n := *c
	n.Meta = c.Meta.clone()
	n.Rules = cloneStrings(c.Rules)
	n.GroupBy = cloneStrings(c.GroupBy)
	n.Condition.Ops = append([]CorrelationOp(nil), c.Condition.Ops...)
	if c.Aliases != nil {
		n.Aliases = make([]Alias, len(c.Aliases))
		for i, a := range c.Aliases {
			m := make(map[string]string, len(a.Fields))
			for k, v := range a.Fields {
				m[k] = v
			}
			n.Aliases[i] = Alias{Name: a.Name, Fields: m}
		}
	}
	return &n
}

func (m Meta) clone() Meta {
	m.References = cloneStrings(m.References)
	m.Tags = cloneStrings(m.Tags)
	m.FalsePositives = cloneStrings(m.FalsePositives)
	m.Fields = cloneStrings(m.Fields)
	m.Scope = cloneStrings(m.Scope)
	if m.Related != nil {
		m.Related = append([]Related(nil), m.Related...)
	}
	return m
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append(make([]string, 0, len(s)), s...)
}

// Clone returns a deep copy of the detection.
func (d *Detection) Clone() *Detection {
	if d == nil {
		return nil
	}
	c := &Detection{
		Searches:   make([]*Search, len(d.Searches)),
		Conditions: make([]*Condition, len(d.Conditions)),
	}
	for i, s := range d.Searches {
		c.Searches[i] = s.Clone()
	}
	for i, cond := range d.Conditions {
		n := *cond
		n.Expr = cloneExpr(cond.Expr)
		c.Conditions[i] = &n
	}
	return c
}

// Clone returns a deep copy of the search.
func (s *Search) Clone() *Search {
	if s == nil {
		return nil
	}
	c := *s
	c.Groups = make([]*Group, len(s.Groups))
	for i, g := range s.Groups {
		ng := &Group{Pos: g.Pos, Items: make([]*Item, len(g.Items))}
		for j, it := range g.Items {
			ng.Items[j] = it.Clone()
		}
		c.Groups[i] = ng
	}
	return &c
}

// Clone returns a deep copy of the item.
func (it *Item) Clone() *Item {
	if it == nil {
		return nil
	}
	c := *it
	c.Modifiers = cloneStrings(it.Modifiers)
	c.Values = make([]Value, len(it.Values))
	for i, v := range it.Values {
		c.Values[i] = cloneValue(v)
	}
	return &c
}
