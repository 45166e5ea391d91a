package sigma

import (
	"strconv"
	"strings"
)

// ParseString reads a plain Sigma string value: unescaped '*' and '?' are
// wildcards; a backslash escapes '*', '?' and itself; any other backslash
// is literal (so "C:\Windows" and "C:\\Windows" are the same value).
func ParseString(s string) String {
	var toks []Token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, Token{Kind: Literal, Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			toks = append(toks, Token{Kind: AnyChars})
		case '?':
			flush()
			toks = append(toks, Token{Kind: AnyChar})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return String{Tokens: toks}
}

// LiteralString returns a String holding s as literal text (no wildcards).
func LiteralString(s string) String {
	if s == "" {
		return String{}
	}
	return String{Tokens: []Token{{Kind: Literal, Text: s}}}
}

// Literal returns the string's text when it holds no wildcard.
func (s String) Literal() (string, bool) {
	switch len(s.Tokens) {
	case 0:
		return "", true
	case 1:
		if s.Tokens[0].Kind == Literal {
			return s.Tokens[0].Text, true
		}
		return "", false
	}
	var b strings.Builder
	for _, t := range s.Tokens {
		if t.Kind != Literal {
			return "", false
		}
		b.WriteString(t.Text)
	}
	return b.String(), true
}

// HasWildcards reports whether the string holds a '*' or '?' wildcard.
func (s String) HasWildcards() bool {
	for _, t := range s.Tokens {
		if t.Kind != Literal {
			return true
		}
	}
	return false
}

// IsEmpty reports whether the string is the empty value ”.
func (s String) IsEmpty() bool { return len(s.Tokens) == 0 }

// StartsWithAny reports whether the string begins with a '*' wildcard.
func (s String) StartsWithAny() bool {
	return len(s.Tokens) > 0 && s.Tokens[0].Kind == AnyChars
}

// EndsWithAny reports whether the string ends with a '*' wildcard.
func (s String) EndsWithAny() bool {
	return len(s.Tokens) > 0 && s.Tokens[len(s.Tokens)-1].Kind == AnyChars
}

// Clone returns a copy that shares no memory with s.
func (s String) Clone() String {
	if s.Tokens == nil {
		return s
	}
	s.Tokens = append(make([]Token, 0, len(s.Tokens)), s.Tokens...)
	return s
}

// normalize merges adjacent literal tokens and drops empty ones.
func normalizeTokens(toks []Token) []Token {
	out := toks[:0]
	for _, t := range toks {
		if t.Kind == Literal {
			if t.Text == "" {
				continue
			}
			if n := len(out); n > 0 && out[n-1].Kind == Literal {
				out[n-1].Text += t.Text
				continue
			}
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func writeTokens(b *strings.Builder, toks []Token) {
	for _, t := range toks {
		switch t.Kind {
		case AnyChars:
			b.WriteByte('*')
		case AnyChar:
			b.WriteByte('?')
		default:
			for i := 0; i < len(t.Text); i++ {
				c := t.Text[i]
				if c == '*' || c == '?' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
}

// String renders the value in Sigma notation ('*' and '?' are wildcards,
// literal ones and backslashes are escaped).
func (s String) String() string {
	var b strings.Builder
	writeTokens(&b, s.Tokens)
	return b.String()
}

func (r Regex) String() string {
	return "/" + r.Pattern + "/" + r.Flags()
}

func (c CIDR) String() string { return c.Prefix.String() }

func (n Number) String() string {
	if n.Raw != "" {
		return n.Raw
	}
	if n.IsInt {
		return strconv.FormatInt(n.Int, 10)
	}
	return strconv.FormatFloat(n.Float, 'g', -1, 64)
}

func (b Bool) String() string { return strconv.FormatBool(b.V) }

func (Null) String() string { return "null" }

func (e Exists) String() string { return "exists:" + strconv.FormatBool(e.Want) }

var compareOpNames = [...]string{LT: "lt", LTE: "lte", GT: "gt", GTE: "gte"}

// String returns the modifier name of the operator.
func (o CompareOp) String() string {
	if int(o) < len(compareOpNames) {
		return compareOpNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

func (c Compare) String() string { return c.Op.String() + ":" + c.Num.String() }

func (f FieldRef) String() string { return "fieldref:" + f.Field }

var timeUnitNames = [...]string{Minute: "minute", Hour: "hour", Day: "day", Week: "week", Month: "month", Year: "year"}

// String returns the modifier name of the unit.
func (u TimeUnit) String() string {
	if int(u) < len(timeUnitNames) {
		return timeUnitNames[u]
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

func (t TimePart) String() string { return t.Unit.String() + ":" + t.Num.String() }

func (e Expansion) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, a := range e.Alts {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte('}')
	return b.String()
}

func (p Placeholder) String() string {
	var b strings.Builder
	writeTokens(&b, p.Prefix)
	b.WriteByte('%')
	b.WriteString(p.Name)
	b.WriteByte('%')
	writeTokens(&b, p.Suffix)
	return b.String()
}

// cloneValue deep-copies a value.
func cloneValue(v Value) Value {
	switch v := v.(type) {
	case String:
		return v.Clone()
	case Expansion:
		alts := make([]Value, len(v.Alts))
		for i, a := range v.Alts {
			alts[i] = cloneValue(a)
		}
		return Expansion{Alts: alts}
	case Placeholder:
		v.Prefix = append([]Token(nil), v.Prefix...)
		v.Suffix = append([]Token(nil), v.Suffix...)
		return v
	}
	return v // the other value types hold no shared memory
}
