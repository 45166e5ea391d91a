package lucene

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// A small tokenizer of OpenSearch's query_string syntax (Lucene's classic
// QueryParser.jj token rules), independent of the writer, used to check
// that no value can change a query's structure.

type qsKind int

const (
	qsTerm qsKind = iota // TERM, PREFIXTERM, WILDTERM
	qsQuoted
	qsRegex
	qsAnd
	qsOr
	qsNot
	qsPlus
	qsMinus
	qsLParen
	qsRParen
	qsColon
	qsCaret
	qsTilde
	qsRange
	qsStar
)

// qsChar is one character of a term: Escaped when written with '\'.
type qsChar struct {
	R       rune
	Escaped bool
}

type qsTok struct {
	kind  qsKind
	raw   string
	chars []qsChar
}

func qsWhite(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
}

// qsTermStart is _TERM_START_CHAR without the escape alternative.
func qsTermStart(r rune) bool {
	return !qsWhite(r) && !strings.ContainsRune(`+-!():^[]"{}~*?\/`, r)
}

func qsLex(s string) ([]qsTok, error) {
	var toks []qsTok
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if qsWhite(r) {
			i += n
			continue
		}
		start := i
		switch {
		case r == '(':
			toks = append(toks, qsTok{kind: qsLParen, raw: "("})
			i++
			continue
		case r == ')':
			toks = append(toks, qsTok{kind: qsRParen, raw: ")"})
			i++
			continue
		case r == ':':
			toks = append(toks, qsTok{kind: qsColon, raw: ":"})
			i++
			continue
		case r == '^':
			toks = append(toks, qsTok{kind: qsCaret, raw: "^"})
			i++
			continue
		case r == '~':
			toks = append(toks, qsTok{kind: qsTilde, raw: "~"})
			i++
			continue
		case r == '+':
			toks = append(toks, qsTok{kind: qsPlus, raw: "+"})
			i++
			continue
		case r == '-':
			toks = append(toks, qsTok{kind: qsMinus, raw: "-"})
			i++
			continue
		case r == '!':
			toks = append(toks, qsTok{kind: qsNot, raw: "!"})
			i++
			continue
		case r == '[' || r == '{':
			toks = append(toks, qsTok{kind: qsRange, raw: string(r)})
			i++
			continue
		case r == '"':
			t := qsTok{kind: qsQuoted}
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated quote at %d", start)
				}
				c, m := utf8.DecodeRuneInString(s[i:])
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					if i+1 >= len(s) {
						return nil, fmt.Errorf("dangling escape at %d", i)
					}
					c2, m2 := utf8.DecodeRuneInString(s[i+1:])
					t.chars = append(t.chars, qsChar{c2, true})
					i += 1 + m2
					continue
				}
				t.chars = append(t.chars, qsChar{c, false})
				i += m
			}
			t.raw = s[start:i]
			toks = append(toks, t)
			continue
		case r == '/':
			i++
			for i < len(s) && s[i] != '/' {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == '/' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated regex at %d", start)
			}
			i++
			toks = append(toks, qsTok{kind: qsRegex, raw: s[start:i]})
			continue
		}
		// A term: (_TERM_START_CHAR | [*?] | escape) (_TERM_CHAR | [*?] | escape)*
		t := qsTok{kind: qsTerm}
		first := true
		for i < len(s) {
			c, m := utf8.DecodeRuneInString(s[i:])
			if c == '\\' {
				if i+1 >= len(s) {
					return nil, fmt.Errorf("dangling escape at %d", i)
				}
				c2, m2 := utf8.DecodeRuneInString(s[i+1:])
				t.chars = append(t.chars, qsChar{c2, true})
				i += 1 + m2
				first = false
				continue
			}
			ok := qsTermStart(c) || c == '*' || c == '?' || (!first && (c == '-' || c == '+'))
			if !ok {
				break
			}
			t.chars = append(t.chars, qsChar{c, false})
			i += m
			first = false
		}
		if i == start {
			return nil, fmt.Errorf("unexpected %q at %d", r, i)
		}
		t.raw = s[start:i]
		switch t.raw {
		case "AND", "&&":
			t.kind = qsAnd
		case "OR", "||":
			t.kind = qsOr
		case "NOT":
			t.kind = qsNot
		case "*":
			t.kind = qsStar
		}
		toks = append(toks, t)
	}
	return toks, nil
}

// checkValue lexes "f:<rendered>" and checks that the value is one term
// whose characters are exactly want (wildcards unescaped, every literal
// '*' and '?' escaped), and that OpenSearch will not read it as a range.
func checkValue(rendered string, want sigma.String, lower bool) error {
	toks, err := qsLex("f:" + rendered)
	if err != nil {
		return err
	}
	if len(toks) != 3 || toks[0].kind != qsTerm || toks[0].raw != "f" || toks[1].kind != qsColon {
		return fmt.Errorf("structure changed: %d tokens %+v", len(toks), toks)
	}
	v := toks[2]
	if v.kind == qsStar { // "f:*": any value (OpenSearch: exists)
		v = qsTok{kind: qsTerm, raw: "*", chars: []qsChar{{'*', false}}}
	}
	var exp []qsChar // wildcards as unescaped '*'/'?'
	for _, tk := range want.Tokens {
		switch tk.Kind {
		case sigma.AnyChars:
			exp = append(exp, qsChar{'*', false})
		case sigma.AnyChar:
			exp = append(exp, qsChar{'?', false})
		default:
			text := tk.Text
			if lower {
				text = strings.ToLower(text)
			}
			for _, r := range text {
				exp = append(exp, qsChar{r, true}) // Escaped = "literal" here
			}
		}
	}
	switch v.kind {
	case qsQuoted:
		if want.HasWildcards() {
			return fmt.Errorf("wildcard value quoted (wildcards are literal in a phrase)")
		}
		if len(want.Tokens) == 0 && len(v.chars) == 0 {
			return nil
		}
	case qsTerm:
		if !want.HasWildcards() && len(v.chars) > 0 && (v.chars[0].R == '<' || v.chars[0].R == '>') {
			return fmt.Errorf("term %q starts with a range sign", v.raw)
		}
	default:
		return fmt.Errorf("value lexed as %v (%q)", v.kind, v.raw)
	}
	if len(v.chars) != len(exp) {
		return fmt.Errorf("value %q has %d chars, want %d", v.raw, len(v.chars), len(exp))
	}
	for i, c := range v.chars {
		e := exp[i]
		if c.R != e.R {
			return fmt.Errorf("char %d: got %q want %q in %q", i, c.R, e.R, v.raw)
		}
		isWild := (c.R == '*' || c.R == '?') && !c.Escaped && v.kind == qsTerm
		if wantWild := !e.Escaped; isWild != wantWild {
			return fmt.Errorf("char %d %q: wildcard=%v, want %v in %q", i, c.R, isWild, wantWild, v.raw)
		}
	}
	return nil
}

var pool = []rune(`+-=&|!(){}[]<>^"~*?:\/ ` + "\t\n\r\u3000\u00a0\x00\x7f" + `abcANDORNTxyz019._@#%'é日`)

func randomString(rng *rand.Rand) sigma.String {
	var toks []sigma.Token
	n := rng.IntN(8)
	if rng.IntN(10) == 0 {
		return sigma.LiteralString([]string{"AND", "OR", "NOT", "&&", "||", "<5", ">=3", "-1"}[rng.IntN(8)])
	}
	for range n {
		switch rng.IntN(6) {
		case 0:
			toks = append(toks, sigma.Token{Kind: sigma.AnyChars})
		case 1:
			toks = append(toks, sigma.Token{Kind: sigma.AnyChar})
		default:
			var b strings.Builder
			for range 1 + rng.IntN(5) {
				b.WriteRune(pool[rng.IntN(len(pool))])
			}
			if k := len(toks); k > 0 && toks[k-1].Kind == sigma.Literal {
				toks[k-1].Text += b.String()
			} else {
				toks = append(toks, sigma.Token{Kind: sigma.Literal, Text: b.String()})
			}
		}
	}
	return sigma.String{Tokens: toks}
}

// TestEscapingProperty sends random strings through the writer and
// checks with the tokenizer above that each stays one term, intact.
func TestEscapingProperty(t *testing.T) {
	// The checker catches pySigma's defects: a raw tab splits the term,
	// a leading '<' turns into a range.
	for _, bad := range []string{"a\tb", "<x"} {
		v := sigma.LiteralString(bad)
		if err := checkValue(compatString(v), v, false); err == nil {
			t.Errorf("checker accepts pySigma's rendering %q of %q", compatString(v), bad)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		s := randomString(rng)
		cased := rng.IntN(2) == 0
		s.Cased = cased
		got := quoteString(s, !cased)
		if err := checkValue(got, s, !cased); err != nil {
			t.Fatalf("value %q (cased=%v) rendered %q: %v", s.String(), cased, got, err)
		}
	}
}

// TestConvertStructureProperty converts rules holding random values and
// checks that the query keeps its structure: f:v AND g:w.
func TestConvertStructureProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 3000; i++ {
		a, b := randomString(rng), randomString(rng)
		r := &sigma.Rule{Detection: &sigma.Detection{
			Searches: []*sigma.Search{{Name: "sel", Groups: []*sigma.Group{{Items: []*sigma.Item{
				{Field: "f", Values: []sigma.Value{a}}, {Field: "g", Values: []sigma.Value{b}},
			}}}}},
			Conditions: []*sigma.Condition{{Source: "sel", Expr: &sigma.IdentExpr{Name: "sel"}}},
		}}
		qs, err := Convert(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		toks, err := qsLex(qs[0])
		if err != nil {
			t.Fatalf("%q: %v", qs[0], err)
		}
		if len(toks) != 7 || toks[3].kind != qsAnd || toks[1].kind != qsColon || toks[5].kind != qsColon {
			t.Fatalf("values %q, %q: query %q lexes to %d tokens", a.String(), b.String(), qs[0], len(toks))
		}
	}
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"a b", `C:\Windows\*`, "AND", "<x", "-5", "a\tb", "*x?y*"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, cased bool) {
		if !utf8.ValidString(s) || len(s) > 1000 {
			return
		}
		v := sigma.ParseString(s)
		v.Cased = cased
		got := quoteString(v, !cased)
		if err := checkValue(got, v, !cased); err != nil {
			t.Fatalf("%q rendered %q: %v", s, got, err)
		}
	})
}

// qsParser checks that a token list is a well-formed query_string with
// every term bound to a field (bare terms search all fields, which the
// correct mode never emits).
type qsParser struct {
	toks      []qsTok
	i         int
	allowBare bool
}

func (p *qsParser) peek() *qsTok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *qsParser) expr() error {
	if err := p.clause(); err != nil {
		return err
	}
	for t := p.peek(); t != nil && (t.kind == qsAnd || t.kind == qsOr); t = p.peek() {
		p.i++
		if err := p.clause(); err != nil {
			return err
		}
	}
	return nil
}

func (p *qsParser) clause() error {
	t := p.peek()
	if t == nil {
		return fmt.Errorf("unexpected end")
	}
	switch t.kind {
	case qsNot:
		p.i++
		return p.clause()
	case qsLParen:
		p.i++
		if err := p.expr(); err != nil {
			return err
		}
		if t := p.peek(); t == nil || t.kind != qsRParen {
			return fmt.Errorf("missing ) at token %d", p.i)
		}
		p.i++
		return nil
	case qsTerm, qsStar, qsQuoted:
		p.i++
		if c := p.peek(); c != nil && c.kind == qsColon && t.kind == qsTerm {
			p.i++
			return p.value()
		}
		if !p.allowBare {
			return fmt.Errorf("bare term %q (searches every field)", t.raw)
		}
		return nil
	}
	return fmt.Errorf("unexpected %q at token %d", t.raw, p.i)
}

func (p *qsParser) value() error {
	t := p.peek()
	if t == nil {
		return fmt.Errorf("missing value")
	}
	p.i++
	switch t.kind {
	case qsTerm, qsQuoted, qsRegex, qsStar:
		return nil
	case qsLParen:
		for {
			v := p.peek()
			if v == nil || (v.kind != qsTerm && v.kind != qsQuoted && v.kind != qsStar) {
				return fmt.Errorf("bad list value at token %d", p.i)
			}
			p.i++
			n := p.peek()
			if n == nil {
				return fmt.Errorf("unterminated list")
			}
			p.i++
			if n.kind == qsRParen {
				return nil
			}
			if n.kind != qsOr {
				return fmt.Errorf("unexpected %q in list", n.raw)
			}
		}
	}
	return fmt.Errorf("unexpected value %q", t.raw)
}

func checkQuery(q string, allowBare bool) error {
	toks, err := qsLex(q)
	if err != nil {
		return err
	}
	p := &qsParser{toks: toks, allowBare: allowBare}
	if err := p.expr(); err != nil {
		return err
	}
	if p.i != len(toks) {
		return fmt.Errorf("trailing %q", toks[p.i].raw)
	}
	return nil
}
