package lucene

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

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

// condNode builds the tree of one condition. The condition's source text
// is parsed again here because the binary sigma.Expr tree does not keep
// parentheses, which decide pySigma's nesting; hand-built conditions
// without source fall back to the Expr tree.
func condNode(d *sigma.Detection, c *sigma.Condition, searches map[string]*node) (*node, error) {
	if strings.TrimSpace(c.Source) != "" {
		p := &condParser{src: c.Source, d: d, searches: searches}
		p.next()
		n, err := p.parseOr()
		if err == nil && p.tok.kind != tEOF {
			err = fmt.Errorf("offset %d: unexpected %q", p.tok.off, p.tok.text)
		}
		if err == nil {
			return n, nil
		}
		if c.Expr == nil {
			return nil, fmt.Errorf("condition %q: %w", c.Source, err)
		}
		// The parser accepted what this small parser does not: print the
		// parser's tree (same meaning, maybe other parentheses).
	}
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
		var flatten func(x sigma.Expr) error
		flatten = func(x sigma.Expr) error {
			var l, r sigma.Expr
			switch x := x.(type) {
			case *sigma.AndExpr:
				if k != kAnd {
					break
				}
				l, r = x.L, x.R
			case *sigma.OrExpr:
				if k != kOr {
					break
				}
				l, r = x.L, x.R
			}
			if l == nil {
				n, err := exprNode(d, x, searches)
				args = append(args, n)
				return err
			}
			if err := flatten(l); err != nil {
				return err
			}
			return flatten(r)
		}
		if err := flatten(e); err != nil {
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
		return ofNode(d, e.All, e.Pattern, searches), nil
	case nil:
		return nil, fmt.Errorf("empty condition")
	}
	return nil, fmt.Errorf("unknown condition node %T", e)
}

// ofNode resolves "1 of pattern"/"all of pattern" against the searches in
// file order; '_' names are only matched by patterns starting with '_'.
func ofNode(d *sigma.Detection, all bool, pattern string, searches map[string]*node) *node {
	var args []*node
	for _, s := range d.Searches {
		if strings.HasPrefix(s.Name, "_") && !strings.HasPrefix(pattern, "_") {
			continue
		}
		if pattern != "them" && !globMatch(pattern, s.Name) {
			continue
		}
		args = append(args, searches[s.Name])
	}
	k := kOr
	if all {
		k = kAnd
	}
	return multi(k, args)
}

func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(name, part)
		if i < 0 {
			return false
		}
		name = name[i+len(part):]
	}
	return len(name) >= len(last) && strings.HasSuffix(name, last)
}

// condition tokens
type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tWord
)

type tok struct {
	kind tokKind
	text string
	off  int
}

// condParser is a small recursive-descent parser of the condition grammar
// (precedence or < and < not < "x of" < parentheses) building n-ary nodes
// the way pySigma's infix_notation does.
type condParser struct {
	src      string
	pos      int
	tok      tok
	d        *sigma.Detection
	searches map[string]*node
	depth    int
}

func (p *condParser) next() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok = tok{kind: tEOF, off: p.pos}
		return
	}
	start := p.pos
	switch p.src[p.pos] {
	case '(':
		p.pos++
		p.tok = tok{kind: tLParen, text: "(", off: start}
		return
	case ')':
		p.pos++
		p.tok = tok{kind: tRParen, text: ")", off: start}
		return
	}
	for p.pos < len(p.src) && !unicode.IsSpace(rune(p.src[p.pos])) && p.src[p.pos] != '(' && p.src[p.pos] != ')' {
		p.pos++
	}
	p.tok = tok{kind: tWord, text: p.src[start:p.pos], off: start}
}

func (p *condParser) isWord(w string) bool {
	return p.tok.kind == tWord && strings.EqualFold(p.tok.text, w)
}

func (p *condParser) parseOr() (*node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	args := []*node{first}
	for p.isWord("or") {
		p.next()
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	return multi(kOr, args), nil
}

func (p *condParser) parseAnd() (*node, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	args := []*node{first}
	for p.isWord("and") {
		p.next()
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	return multi(kAnd, args), nil
}

func (p *condParser) parseNot() (*node, error) {
	if p.isWord("not") {
		p.depth++
		if p.depth > 200 {
			return nil, fmt.Errorf("offset %d: condition nested too deeply", p.tok.off)
		}
		p.next()
		x, err := p.parseNot()
		p.depth--
		if err != nil || x == nil {
			return x, err
		}
		return &node{kind: kNot, args: []*node{x}}, nil
	}
	return p.parsePrimary()
}

func (p *condParser) parsePrimary() (*node, error) {
	t := p.tok
	switch t.kind {
	case tLParen:
		p.depth++
		if p.depth > 200 {
			return nil, fmt.Errorf("offset %d: condition nested too deeply", t.off)
		}
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, fmt.Errorf("offset %d: expected ')'", p.tok.off)
		}
		p.depth--
		p.next()
		return n, nil
	case tWord:
		q := strings.ToLower(t.text)
		if q == "1" || q == "any" || q == "all" {
			save := *p
			p.next()
			if p.isWord("of") {
				p.next()
				if p.tok.kind != tWord {
					return nil, fmt.Errorf("offset %d: expected a search pattern after 'of'", p.tok.off)
				}
				pat := p.tok.text
				p.next()
				return ofNode(p.d, q == "all", pat, p.searches), nil
			}
			*p = save
		}
		p.next()
		n, ok := p.searches[t.text]
		if !ok {
			return nil, fmt.Errorf("offset %d: undefined search %q", t.off, t.text)
		}
		return n, nil
	}
	return nil, fmt.Errorf("offset %d: unexpected end of condition", t.off)
}
