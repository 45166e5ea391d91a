package lucene

import (
	"fmt"
	"slices"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// kind is the type of a query tree node.
type kind uint8

const (
	kAnd     kind = iota // AND of args
	kOr                  // OR of args
	kNot                 // NOT args[0]
	kField               // field compared with value
	kKeyword             // field-less value
)

// node is the query tree a rule condition is turned into before printing.
// Its shape follows pySigma's condition tree, which decides where the
// Lucene output gets parentheses: a chain "a and b and c" is one n-ary
// node; a parenthesised sub-expression, a search with several items or
// groups, and a value list are nested nodes.
type node struct {
	kind  kind
	args  []*node
	field string
	value sigma.Value
}

func (n *node) isNull() bool {
	if n.kind != kField {
		return false
	}
	_, ok := n.value.(sigma.Null)
	return ok
}

// multi builds an n-ary AND/OR, dropping nil args; one arg is returned
// as is and none gives nil (pySigma's ConditionItem.postprocess).
func multi(k kind, args []*node) *node {
	out := args[:0:0]
	for _, a := range args {
		if a != nil {
			out = append(out, a)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return &node{kind: k, args: out}
}

// searchNode turns a detection search into its tree: an OR of groups, each
// an AND of items.
func searchNode(s *sigma.Search) (*node, error) {
	var groups []*node
	for _, g := range s.Groups {
		var items []*node
		for _, it := range g.Items {
			n, err := itemNode(it)
			if err != nil {
				return nil, err
			}
			items = append(items, n)
		}
		groups = append(groups, multi(kAnd, items))
	}
	return multi(kOr, groups), nil
}

func itemNode(it *sigma.Item) (*node, error) {
	leaf := kField
	if it.Field == "" {
		leaf = kKeyword
	}
	values := it.Values
	if slices.Contains(it.Modifiers, "windash") {
		// pySigma's windash yields an expansion even for a value without
		// a dash; it prints as a one-element list "f:(x)".
		values = slices.Clone(values)
		for i, v := range values {
			if _, ok := v.(sigma.Expansion); !ok {
				values[i] = sigma.Expansion{Alts: []sigma.Value{v}}
			}
		}
	}
	var n *node
	switch len(values) {
	case 0:
		if leaf == kKeyword {
			return nil, fmt.Errorf("keyword search without values")
		}
		n = &node{kind: kField, field: it.Field, value: sigma.Null{}}
	case 1:
		n = &node{kind: leaf, field: it.Field, value: values[0]}
	default:
		k := kOr
		if it.All {
			k = kAnd
		}
		args := make([]*node, len(values))
		for i, v := range values {
			args[i] = &node{kind: leaf, field: it.Field, value: v}
		}
		n = &node{kind: k, args: args}
	}
	if it.Negate {
		n = &node{kind: kNot, args: []*node{n}}
	}
	return n, nil
}

// condNode builds the tree of one condition from the parser's tree. Same-
// kind chains are flattened except where the author wrote parentheses
// (Paren), which is how pySigma nests its output.
func condNode(d *sigma.Detection, c *sigma.Condition, searches map[string]*node) (*node, error) {
	n, err := exprNode(d, c.Expr, searches)
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", c.Source, err)
	}
	return n, nil
}

func exprNode(d *sigma.Detection, e sigma.Expr, searches map[string]*node) (*node, error) {
	switch e := e.(type) {
	case *sigma.AndExpr, *sigma.OrExpr:
		k := kAnd
		if _, ok := e.(*sigma.OrExpr); ok {
			k = kOr
		}
		var args []*node
		var flatten func(x sigma.Expr, top bool) error
		flatten = func(x sigma.Expr, top bool) error {
			var l, r sigma.Expr
			switch x := x.(type) {
			case *sigma.AndExpr:
				if k != kAnd || (x.Paren && !top) {
					break
				}
				l, r = x.L, x.R
			case *sigma.OrExpr:
				if k != kOr || (x.Paren && !top) {
					break
				}
				l, r = x.L, x.R
			}
			if l == nil {
				n, err := exprNode(d, x, searches)
				args = append(args, n)
				return err
			}
			if err := flatten(l, false); err != nil {
				return err
			}
			return flatten(r, false)
		}
		if err := flatten(e, true); err != nil {
			return nil, err
		}
		return multi(k, args), nil
	case *sigma.NotExpr:
		x, err := exprNode(d, e.X, searches)
		if err != nil || x == nil {
			return x, err
		}
		return &node{kind: kNot, args: []*node{x}}, nil
	case *sigma.IdentExpr:
		n, ok := searches[e.Name]
		if !ok {
			return nil, fmt.Errorf("condition refers to undefined search %q", e.Name)
		}
		return n, nil
	case *sigma.OfExpr:
		return ofNode(e, searches), nil
	case nil:
		return nil, fmt.Errorf("empty condition")
	}
	return nil, fmt.Errorf("unknown condition node %T", e)
}

// ofNode is "1 of pattern"/"all of pattern" over the searches the parser
// resolved the pattern to (file order; "them" leaves out '_' names), the
// same list the embedded evaluator uses.
func ofNode(e *sigma.OfExpr, searches map[string]*node) *node {
	var args []*node
	for _, name := range e.Names {
		if n, ok := searches[name]; ok {
			args = append(args, n)
		}
	}
	k := kOr
	if e.All {
		k = kAnd
	}
	return multi(k, args)
}
