package match

import (
	"bytes"
	"unicode/utf8"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// strKind is the specialised shape of a wildcard string.
type strKind uint8

const (
	strEquals   strKind = iota // no wildcard
	strPrefix                  // lit*
	strSuffix                  // *lit
	strContains                // *lit*
	strAny                     // * alone: any value (also empty)
	strGlob                    // anything else
)

// strMatcher matches one Sigma string value (with its wildcards) against a
// text. Unless cased, the text given to match is already case-folded and
// the pattern is folded at compile time.
type strMatcher struct {
	kind  strKind
	cased bool
	lit   []byte
	glob  []globTok
	// need is the longest literal of a glob: a text without it cannot
	// match, and a substring search is much faster than the glob.
	need []byte
	// acID is the needle's (lit for contains, need for globs) index in
	// the field's Aho–Corasick automaton, or -1.
	acID int
}

type globTok struct {
	kind sigma.TokenKind
	lit  []byte
}

// newStrMatcher compiles tokens; when wrap is set (keyword searches) the
// pattern is wrapped in '*' so that it matches anywhere in the text.
func newStrMatcher(s sigma.String, wrap bool) *strMatcher {
	toks := make([]sigma.Token, 0, len(s.Tokens)+2)
	if wrap && (len(s.Tokens) == 0 || s.Tokens[0].Kind != sigma.AnyChars) {
		toks = append(toks, sigma.Token{Kind: sigma.AnyChars})
	}
	toks = append(toks, s.Tokens...)
	if wrap && toks[len(toks)-1].Kind != sigma.AnyChars {
		toks = append(toks, sigma.Token{Kind: sigma.AnyChars})
	}
	// Normalise: merge adjacent literals, collapse runs of '*', drop
	// empty literals.
	var norm []globTok
	for _, t := range toks {
		if t.Kind == sigma.Literal {
			if t.Text == "" {
				continue
			}
			lit := []byte(t.Text)
			if !s.Cased {
				lit = appendFold(nil, lit)
			}
			if n := len(norm); n > 0 && norm[n-1].kind == sigma.Literal {
				norm[n-1].lit = append(norm[n-1].lit, lit...)
				continue
			}
			norm = append(norm, globTok{kind: sigma.Literal, lit: lit})
			continue
		}
		if t.Kind == sigma.AnyChars {
			if n := len(norm); n > 0 && norm[n-1].kind == sigma.AnyChars {
				continue
			}
		}
		norm = append(norm, globTok{kind: t.Kind})
	}
	m := &strMatcher{cased: s.Cased, acID: -1}
	isLit := func(i int) bool { return i < len(norm) && norm[i].kind == sigma.Literal }
	isStar := func(i int) bool { return i < len(norm) && norm[i].kind == sigma.AnyChars }
	switch {
	case len(norm) == 0:
		m.kind = strEquals
		m.lit = []byte{}
	case len(norm) == 1 && isLit(0):
		m.kind, m.lit = strEquals, norm[0].lit
	case len(norm) == 1 && isStar(0):
		m.kind = strAny
	case len(norm) == 2 && isLit(0) && isStar(1):
		m.kind, m.lit = strPrefix, norm[0].lit
	case len(norm) == 2 && isStar(0) && isLit(1):
		m.kind, m.lit = strSuffix, norm[1].lit
	case len(norm) == 3 && isStar(0) && isLit(1) && isStar(2):
		m.kind, m.lit = strContains, norm[1].lit
	default:
		m.kind, m.glob = strGlob, norm
		for _, t := range norm {
			if t.kind == sigma.Literal && len(t.lit) > len(m.need) {
				m.need = t.lit
			}
		}
	}
	return m
}

// needle returns the literal the AC prefilter can look for, if any.
func (m *strMatcher) needle() []byte {
	if m.cased {
		return nil
	}
	var n []byte
	switch m.kind {
	case strContains:
		n = m.lit
	case strGlob:
		n = m.need
	}
	if len(n) == 0 || bytes.IndexByte(n, 0) >= 0 {
		return nil
	}
	return n
}

// match reports whether text (folded unless m.cased) matches.
func (m *strMatcher) match(text []byte) bool {
	switch m.kind {
	case strEquals:
		return bytes.Equal(text, m.lit)
	case strPrefix:
		return bytes.HasPrefix(text, m.lit)
	case strSuffix:
		return bytes.HasSuffix(text, m.lit)
	case strContains:
		return bytes.Contains(text, m.lit)
	case strAny:
		return true
	}
	if len(m.need) > 0 && !bytes.Contains(text, m.need) {
		return false
	}
	return globMatch(m.glob, text)
}

func (m *strMatcher) cost() int {
	switch m.kind {
	case strEquals, strAny:
		return 2
	case strPrefix, strSuffix:
		return 3
	case strContains:
		return 6
	}
	return 10
}

// globMatch matches text against tokens where '*' is any run of bytes and
// '?' exactly one UTF-8 character. It backtracks only to the last '*', so
// it runs in O(len(text) * len(pattern)) at worst.
func globMatch(toks []globTok, text []byte) bool {
	ti, pi := 0, 0
	starPi, starTi := -1, 0
	for {
		if pi < len(toks) {
			t := toks[pi]
			switch t.kind {
			case sigma.AnyChars:
				starPi, starTi = pi, ti
				pi++
				continue
			case sigma.AnyChar:
				if ti < len(text) {
					_, n := utf8.DecodeRune(text[ti:])
					ti += n
					pi++
					continue
				}
			case sigma.Literal:
				if bytes.HasPrefix(text[ti:], t.lit) {
					ti += len(t.lit)
					pi++
					continue
				}
			}
		} else if ti == len(text) {
			return true
		}
		// Mismatch: let the last '*' swallow one more character.
		if starPi < 0 || starTi >= len(text) {
			return false
		}
		_, n := utf8.DecodeRune(text[starTi:])
		starTi += n
		pi, ti = starPi+1, starTi
	}
}
