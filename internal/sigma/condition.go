package sigma

import (
	"fmt"
	"strings"
)

// MaxConditionDepth bounds the nesting of parentheses and 'not' in a
// condition, so that back ends that recurse over the tree stay safe.
const MaxConditionDepth = 1000

// ConditionError is a syntax error in a condition at a byte offset of the
// condition text.
type ConditionError struct {
	Offset int
	Msg    string
	Err    error // ErrCondition, ErrUnsupportedV1 or ErrLimit
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the sentinel cause.
func (e *ConditionError) Unwrap() error { return e.Err }

// v1Message is the error for Sigma 1 aggregation syntax.
const v1Message = "v1 aggregation %s is unsupported since Sigma 2 (use a correlation rule)"

// ParseCondition parses one condition expression (syntax only: OfExpr
// names are not resolved). Errors are *ConditionError.
func ParseCondition(src string) (Expr, error) {
	p := condParser{lex: newLexer(src), src: src}
	p.next()
	e := p.parseOr()
	if p.err == nil && p.tok.typ != itemEOF {
		p.unexpected("condition", "'and', 'or' or end of condition")
	}
	if p.err != nil {
		return nil, p.err
	}
	return e, nil
}

type condParser struct {
	lex   *lexer
	src   string
	tok   item
	depth int
	err   *ConditionError
}

func (p *condParser) next() {
	if p.err != nil {
		p.tok = item{typ: itemEOF, pos: len(p.src)}
		return
	}
	p.tok = p.lex.nextItem()
	if p.tok.typ == itemError {
		p.fail(p.tok.pos, ErrCondition, "%s", p.tok.val)
	}
}

func (p *condParser) fail(off int, cause error, format string, args ...any) {
	if p.err == nil {
		p.err = &ConditionError{Offset: off, Msg: fmt.Sprintf(format, args...), Err: cause}
	}
	p.tok = item{typ: itemEOF, pos: len(p.src)}
}

// unexpected reports the current token: "unexpected X in Y, expected Z".
func (p *condParser) unexpected(context, expected string) {
	switch p.tok.typ {
	case itemPipe:
		p.fail(p.tok.pos, ErrUnsupportedV1, v1Message, "'| "+v1Agg(p.src[p.tok.pos+1:])+"'")
		return
	case itemNear:
		p.fail(p.tok.pos, ErrUnsupportedV1, v1Message, "'near'")
		return
	}
	p.fail(p.tok.pos, ErrCondition, "unexpected %s in %s, expected %s", p.tok.describe(), context, expected)
}

// v1Agg names the aggregation function after a '|' for messages.
func v1Agg(rest string) string {
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '('); i > 0 {
		return rest[:i] + "()"
	}
	if i := strings.IndexAny(rest, " \t"); i > 0 {
		return rest[:i]
	}
	if rest == "" {
		return "..."
	}
	return rest
}

func (p *condParser) parseOr() Expr {
	l := p.parseAnd()
	for p.tok.typ == itemOr {
		off := l.Offset()
		p.next()
		r := p.parseAnd()
		l = &OrExpr{L: l, R: r, Off: off}
	}
	return l
}

func (p *condParser) parseAnd() Expr {
	l := p.parseNot()
	for p.tok.typ == itemAnd {
		off := l.Offset()
		p.next()
		r := p.parseNot()
		l = &AndExpr{L: l, R: r, Off: off}
	}
	return l
}

func (p *condParser) enter(off int) bool {
	p.depth++
	if p.depth > MaxConditionDepth {
		p.fail(off, ErrLimit, "condition nested too deeply (more than %d levels)", MaxConditionDepth)
		return false
	}
	return true
}

func (p *condParser) parseNot() Expr {
	if p.tok.typ != itemNot {
		return p.parsePrimary()
	}
	off := p.tok.pos
	if !p.enter(off) {
		return &IdentExpr{Off: off}
	}
	p.next()
	x := p.parseNot()
	p.depth--
	return &NotExpr{X: x, Off: off}
}

func (p *condParser) parsePrimary() Expr {
	tok := p.tok
	switch tok.typ {
	case itemIdent:
		p.next()
		return &IdentExpr{Name: tok.val, Off: tok.pos}
	case itemNumber, itemAll:
		return p.parseOf()
	case itemLParen:
		if !p.enter(tok.pos) {
			return &IdentExpr{Off: tok.pos}
		}
		p.next()
		x := p.parseOr()
		switch x := x.(type) {
		case *AndExpr:
			x.Paren = true
		case *OrExpr:
			x.Paren = true
		}
		if p.err == nil && p.tok.typ != itemRParen {
			p.unexpected("parenthesised expression", "')'")
		}
		p.next()
		p.depth--
		return x
	}
	if p.err == nil {
		p.unexpected("condition", "identifier, '1 of', 'all of', 'not' or '('")
	}
	return &IdentExpr{Off: tok.pos}
}

// parseOf parses "1 of X" or "all of X" (X a pattern or 'them').
func (p *condParser) parseOf() Expr {
	tok := p.tok
	all := tok.typ == itemAll
	if !all && tok.val != "1" {
		p.fail(tok.pos, ErrCondition, "unsupported quantifier %q: only '1 of' and 'all of' exist", tok.val)
		return &IdentExpr{Off: tok.pos}
	}
	p.next()
	if p.tok.typ != itemOf {
		if p.err == nil {
			p.unexpected(fmt.Sprintf("'%s of' expression", tok.val), "'of'")
		}
		return &IdentExpr{Off: tok.pos}
	}
	p.next()
	switch p.tok.typ {
	case itemThem:
		p.next()
		return &OfExpr{All: all, Pattern: "them", Them: true, Off: tok.pos}
	case itemIdent:
		pat := p.tok.val
		p.next()
		return &OfExpr{All: all, Pattern: pat, Off: tok.pos}
	}
	if p.err == nil {
		p.unexpected(fmt.Sprintf("'%s of' expression", tok.val), "pattern or 'them'")
	}
	return &IdentExpr{Off: tok.pos}
}

// String methods print the tree with the fewest parentheses that keep it:
// 'and' and 'or' are left-associative, so a right operand of the same kind
// is parenthesised. Printing is linear in the size of the tree.

func (e *OrExpr) String() string  { return exprString(e) }
func (e *AndExpr) String() string { return exprString(e) }
func (e *NotExpr) String() string { return exprString(e) }

func (e *IdentExpr) String() string { return e.Name }

func (e *OfExpr) String() string {
	if e.All {
		return "all of " + e.Pattern
	}
	return "1 of " + e.Pattern
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func isBinary(e Expr) bool {
	switch e.(type) {
	case *AndExpr, *OrExpr:
		return true
	}
	return false
}

func isOr(e Expr) bool { _, ok := e.(*OrExpr); return ok }

func writeWrapped(b *strings.Builder, e Expr, wrap bool) {
	if wrap {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *OrExpr:
		writeExpr(b, e.L)
		b.WriteString(" or ")
		writeWrapped(b, e.R, isOr(e.R))
	case *AndExpr:
		writeWrapped(b, e.L, isOr(e.L))
		b.WriteString(" and ")
		writeWrapped(b, e.R, isBinary(e.R))
	case *NotExpr:
		b.WriteString("not ")
		writeWrapped(b, e.X, isBinary(e.X))
	case nil:
	default:
		b.WriteString(e.String())
	}
}

// EqualExpr reports whether two trees have the same shape and names,
// ignoring offsets.
func EqualExpr(a, b Expr) bool {
	switch a := a.(type) {
	case *AndExpr:
		b, ok := b.(*AndExpr)
		return ok && EqualExpr(a.L, b.L) && EqualExpr(a.R, b.R)
	case *OrExpr:
		b, ok := b.(*OrExpr)
		return ok && EqualExpr(a.L, b.L) && EqualExpr(a.R, b.R)
	case *NotExpr:
		b, ok := b.(*NotExpr)
		return ok && EqualExpr(a.X, b.X)
	case *IdentExpr:
		b, ok := b.(*IdentExpr)
		return ok && a.Name == b.Name
	case *OfExpr:
		b, ok := b.(*OfExpr)
		return ok && a.All == b.All && a.Them == b.Them && a.Pattern == b.Pattern
	}
	return a == nil && b == nil
}

// Walk calls fn for every node of the tree, parents first. If fn returns
// false the node's children are skipped.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *AndExpr:
		Walk(e.L, fn)
		Walk(e.R, fn)
	case *OrExpr:
		Walk(e.L, fn)
		Walk(e.R, fn)
	case *NotExpr:
		Walk(e.X, fn)
	}
}

// matchPattern reports whether name matches a condition pattern, where
// '*' matches any run of characters.
func matchPattern(pattern, name string) bool {
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
	return strings.HasSuffix(name, last)
}

// cloneExpr deep-copies a condition tree.
func cloneExpr(e Expr) Expr {
	switch e := e.(type) {
	case *AndExpr:
		return &AndExpr{L: cloneExpr(e.L), R: cloneExpr(e.R), Off: e.Off, Paren: e.Paren}
	case *OrExpr:
		return &OrExpr{L: cloneExpr(e.L), R: cloneExpr(e.R), Off: e.Off, Paren: e.Paren}
	case *NotExpr:
		return &NotExpr{X: cloneExpr(e.X), Off: e.Off}
	case *IdentExpr:
		c := *e
		return &c
	case *OfExpr:
		c := *e
		c.Names = append([]string(nil), e.Names...)
		return &c
	}
	return e
}
