package sigma

import (
	"encoding/base64"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// modKind classifies value modifiers.
type modKind uint8

const (
	modFlag      modKind = iota // all, neq, cased
	modTransform                // string transformations, chainable
	modType                     // turns the raw value into another value type
	modReFlag                   // i, m, s after re
)

// Modifiers lists every value modifier of Sigma v2.1 (plus pySigma's long
// names of the re flags), with its class.
var modifierKinds = map[string]modKind{
	"all": modFlag, "neq": modFlag, "cased": modFlag,
	"contains": modTransform, "startswith": modTransform, "endswith": modTransform,
	"windash": modTransform, "base64": modTransform, "base64offset": modTransform,
	"utf16le": modTransform, "utf16be": modTransform, "utf16": modTransform, "wide": modTransform,
	"re": modType, "cidr": modType, "exists": modType, "fieldref": modType, "expand": modType,
	"lt": modType, "lte": modType, "gt": modType, "gte": modType,
	"minute": modType, "hour": modType, "day": modType, "week": modType, "month": modType, "year": modType,
	"i": modReFlag, "m": modReFlag, "s": modReFlag,
	"ignorecase": modReFlag, "multiline": modReFlag, "dotall": modReFlag,
}

// KnownModifier reports whether name is a value modifier.
func KnownModifier(name string) bool {
	_, ok := modifierKinds[name]
	return ok
}

// suggestModifier returns the known modifier closest to name (edit
// distance at most 2), or "".
func suggestModifier(name string) string {
	best, bestD := "", 3
	for m := range modifierKinds {
		if len(m) == 1 {
			continue
		}
		if d := editDistance(name, m); d < bestD || (d == bestD && m < best) {
			best, bestD = m, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// rawValue is a YAML scalar before modifiers: its text and YAML type.
type rawValue struct {
	text string
	kind rawKind
}

type rawKind uint8

const (
	rawString rawKind = iota
	rawInt
	rawFloat
	rawBool
	rawNull
)

// initialValue is the value a scalar stands for without modifiers.
func initialValue(r rawValue) Value {
	switch r.kind {
	case rawNull:
		return Null{}
	case rawBool:
		return Bool{V: r.text == "true" || r.text == "True" || r.text == "TRUE"}
	case rawInt, rawFloat:
		if n, ok := parseNumber(r.text); ok {
			return n
		}
	}
	return ParseString(r.text)
}

// parseNumber reads a YAML integer or float.
func parseNumber(s string) (Number, bool) {
	n := Number{Raw: s}
	clean := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
		n.Int, n.Float, n.IsInt = i, float64(i), true
		return n, true
	}
	if strings.HasPrefix(clean, "0o") || strings.HasPrefix(clean, "0x") {
		return n, false
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil {
		n.Float = f
		return n, true
	}
	return n, false
}

// modError is an error of one modifier applied to one value.
type modError struct {
	msg string
	mod int // index of the modifier at fault, -1 for the value
}

// applyModifiers turns one raw value into its final Value by applying the
// modifiers in order. all/neq are handled by the caller.
func applyModifiers(r rawValue, mods []string) (Value, *modError) {
	cur := initialValue(r)
	typed := ""   // the type modifier applied, if any
	changed := -1 // index of the first transformation
	cased := false
	// expand works on the raw text wherever it is written
	// ("contains|expand" is common): the placeholder is made first and the
	// wildcard modifiers then wrap it.
	if i := indexOf(mods, "expand"); i >= 0 {
		v, msg := typeModifier("expand", r)
		if msg != "" {
			return nil, &modError{msg: msg, mod: -1}
		}
		cur, typed = v, "expand"
	}
	for i, m := range mods {
		fail := func(format string, args ...any) (Value, *modError) {
			return nil, &modError{msg: sprintf(format, args...), mod: i}
		}
		kind := modifierKinds[m]
		switch kind {
		case modFlag:
			if m == "cased" {
				cased = true
			}
			continue
		case modReFlag:
			re, ok := cur.(Regex)
			if !ok {
				return fail("modifier '%s' needs a preceding 're'", m)
			}
			switch m {
			case "i", "ignorecase":
				re.IgnoreCase = true
			case "m", "multiline":
				re.Multiline = true
			case "s", "dotall":
				re.DotAll = true
			}
			cur = re
			continue
		case modType:
			if m == "expand" {
				continue
			}
			if typed != "" {
				return fail("modifier '%s' cannot be combined with '%s'", m, typed)
			}
			if changed >= 0 {
				return fail("modifier '%s' cannot follow '%s'", m, mods[changed])
			}
			typed = m
			v, msg := typeModifier(m, r)
			if msg != "" {
				return nil, &modError{msg: msg, mod: -1}
			}
			cur = v
			continue
		}
		// String transformations.
		if typed != "" && typed != "expand" {
			return fail("modifier '%s' cannot follow '%s'", m, typed)
		}
		if changed < 0 {
			changed = i
		}
		switch c := cur.(type) {
		case Number, Bool:
			cur = LiteralString(r.text)
		case Null:
			return fail("modifier '%s' cannot apply to null", m)
		case Placeholder:
			switch m {
			case "contains":
				c.Prefix = anyPrefix(c.Prefix)
				c.Suffix = anySuffix(c.Suffix)
			case "startswith":
				c.Suffix = anySuffix(c.Suffix)
			case "endswith":
				c.Prefix = anyPrefix(c.Prefix)
			default:
				return fail("modifier '%s' cannot apply to a placeholder", m)
			}
			cur = c
			continue
		}
		v, msg := transform(m, cur)
		if msg != "" {
			return fail("%s", msg)
		}
		cur = v
	}
	if cased {
		switch cur.(type) {
		case String, Expansion:
			cur = setCased(cur)
		case Placeholder:
		default:
			return nil, &modError{msg: "modifier 'cased' applies to strings only", mod: indexOf(mods, "cased")}
		}
	}
	return cur, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func anyPrefix(t []Token) []Token {
	if len(t) > 0 && t[0].Kind == AnyChars {
		return t
	}
	return append([]Token{{Kind: AnyChars}}, t...)
}

func anySuffix(t []Token) []Token {
	if len(t) > 0 && t[len(t)-1].Kind == AnyChars {
		return t
	}
	return append(append([]Token(nil), t...), Token{Kind: AnyChars})
}

func setCased(v Value) Value {
	switch v := v.(type) {
	case String:
		v.Cased = true
		return v
	case Expansion:
		alts := make([]Value, len(v.Alts))
		for i, a := range v.Alts {
			alts[i] = setCased(a)
		}
		return Expansion{Alts: alts}
	}
	return v
}

// transform applies a string modifier to a String or to each alternative
// of an Expansion.
func transform(m string, v Value) (Value, string) {
	if e, ok := v.(Expansion); ok {
		alts := make([]Value, 0, len(e.Alts))
		for _, a := range e.Alts {
			t, msg := transform(m, a)
			if msg != "" {
				return nil, msg
			}
			if te, ok := t.(Expansion); ok {
				alts = append(alts, te.Alts...)
			} else {
				alts = append(alts, t)
			}
		}
		return Expansion{Alts: alts}, ""
	}
	s, ok := v.(String)
	if !ok {
		return nil, sprintf("modifier '%s' applies to strings only", m)
	}
	switch m {
	case "contains":
		s.Tokens = anySuffix(anyPrefix(s.Tokens))
		return s, ""
	case "startswith":
		s.Tokens = anySuffix(s.Tokens)
		return s, ""
	case "endswith":
		s.Tokens = anyPrefix(s.Tokens)
		return s, ""
	case "windash":
		return windash(s)
	case "base64", "base64offset":
		text, ok := s.Literal()
		if !ok {
			return nil, sprintf("modifier '%s' cannot encode a value with wildcards", m)
		}
		if m == "base64" {
			return LiteralString(base64.StdEncoding.EncodeToString([]byte(text))), ""
		}
		return base64Offsets(text), ""
	case "utf16le", "wide", "utf16be", "utf16":
		toks := make([]Token, len(s.Tokens))
		for i, t := range s.Tokens {
			if t.Kind == Literal {
				t.Text = encodeUTF16(t.Text, m == "utf16be")
			}
			toks[i] = t
		}
		if m == "utf16" {
			toks = append([]Token{{Kind: Literal, Text: "\xff\xfe"}}, toks...)
		}
		s.Tokens = normalizeTokens(toks)
		return s, ""
	}
	return nil, sprintf("unhandled modifier '%s'", m)
}

func encodeUTF16(s string, bigEndian bool) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b.WriteByte(byte(u >> 8))
			b.WriteByte(byte(u))
		} else {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		}
	}
	return b.String()
}

// base64Offsets returns the three encodings of text shifted by 0, 1 and 2
// bytes, with the characters that depend on the unknown neighbours cut.
func base64Offsets(text string) Value {
	alts := make([]Value, 0, 3)
	for shift := 0; shift < 3; shift++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), text...))
		// Leading characters that encode the unknown shift bytes.
		start := [3]int{0, 2, 3}[shift]
		// Trailing characters that depend on bytes after the value.
		end := len(enc)
		switch (len(text) + shift) % 3 {
		case 1:
			end -= 3
		case 2:
			end -= 2
		}
		if end < start {
			end = start
		}
		alts = append(alts, LiteralString(enc[start:end]))
	}
	return Expansion{Alts: alts}
}

// windashChars are the alternatives of a dash or slash under windash.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindashPositions bounds the alternatives of a windash value (5^n).
const maxWindashPositions = 6

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// windash expands each '-' or '/' that starts a word (after a non-word
// character or the start of a literal part) into the five dash forms.
func windash(s String) (Value, string) {
	type spot struct{ tok, off int }
	var spots []spot
	for ti, t := range s.Tokens {
		if t.Kind != Literal {
			continue
		}
		prevWord := false
		for off, r := range t.Text {
			if (r == '-' || r == '/') && !prevWord {
				next, _ := utf8.DecodeRuneInString(t.Text[off+1:])
				if off+1 < len(t.Text) && isWordRune(next) {
					spots = append(spots, spot{ti, off})
				}
			}
			prevWord = isWordRune(r)
		}
	}
	if len(spots) == 0 {
		return s, ""
	}
	if len(spots) > maxWindashPositions {
		return nil, sprintf("windash: %d dash positions would give %d alternatives (limit %d positions)", len(spots), pow5(len(spots)), maxWindashPositions)
	}
	total := pow5(len(spots))
	alts := make([]Value, 0, total)
	choice := make([]int, len(spots))
	for n := 0; n < total; n++ {
		k := n
		for i := len(spots) - 1; i >= 0; i-- {
			choice[i] = k % 5
			k /= 5
		}
		toks := make([]Token, len(s.Tokens))
		copy(toks, s.Tokens)
		// Rebuild each literal token with the chosen characters.
		si := 0
		for ti, t := range s.Tokens {
			if t.Kind != Literal {
				continue
			}
			var b strings.Builder
			last := 0
			for ; si < len(spots) && spots[si].tok == ti; si++ {
				b.WriteString(t.Text[last:spots[si].off])
				b.WriteString(windashChars[choice[si]])
				last = spots[si].off + 1
			}
			b.WriteString(t.Text[last:])
			toks[ti].Text = b.String()
		}
		alts = append(alts, String{Tokens: toks, Cased: s.Cased})
	}
	return Expansion{Alts: alts}, ""
}

func pow5(n int) int {
	p := 1
	for range n {
		p *= 5
	}
	return p
}

// typeModifier turns the raw value into the value type of modifier m.
func typeModifier(m string, r rawValue) (Value, string) {
	switch m {
	case "re":
		if r.kind == rawNull || r.kind == rawBool {
			return nil, "modifier 're' needs a string value"
		}
		return Regex{Pattern: r.text}, ""
	case "cidr":
		if r.kind != rawString {
			return nil, sprintf("modifier 'cidr' needs a network like 10.0.0.0/8, not %q", r.text)
		}
		p, err := parseCIDR(r.text)
		if err != nil {
			return nil, sprintf("invalid CIDR %q: %v", r.text, err)
		}
		return CIDR{Prefix: p}, ""
	case "exists":
		if r.kind != rawBool {
			return nil, sprintf("modifier 'exists' needs true or false, not %q", r.text)
		}
		return Exists{Want: initialValue(r).(Bool).V}, ""
	case "fieldref":
		if r.kind != rawString || r.text == "" {
			return nil, "modifier 'fieldref' needs a field name"
		}
		return FieldRef{Field: r.text}, ""
	case "expand":
		if r.kind != rawString {
			return nil, "modifier 'expand' needs a string with a %placeholder%"
		}
		return parsePlaceholder(r.text)
	case "lt", "lte", "gt", "gte", "minute", "hour", "day", "week", "month", "year":
		n, ok := parseNumber(r.text)
		if !ok || r.kind == rawBool || r.kind == rawNull {
			return nil, sprintf("modifier '%s' needs a number, not %q", m, r.text)
		}
		switch m {
		case "lt":
			return Compare{Op: LT, Num: n}, ""
		case "lte":
			return Compare{Op: LTE, Num: n}, ""
		case "gt":
			return Compare{Op: GT, Num: n}, ""
		case "gte":
			return Compare{Op: GTE, Num: n}, ""
		}
		unit := map[string]TimeUnit{"minute": Minute, "hour": Hour, "day": Day, "week": Week, "month": Month, "year": Year}[m]
		return TimePart{Unit: unit, Num: n}, ""
	}
	return nil, sprintf("unhandled modifier '%s'", m)
}

func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// parsePlaceholder reads "prefix%name%suffix" of the expand modifier.
func parsePlaceholder(s string) (Value, string) {
	i := strings.IndexByte(s, '%')
	j := -1
	if i >= 0 {
		j = strings.IndexByte(s[i+1:], '%')
	}
	if i < 0 || j <= 0 {
		return nil, sprintf("modifier 'expand' needs a %%placeholder%%, got %q", s)
	}
	name := s[i+1 : i+1+j]
	if strings.ContainsAny(name, " \t") {
		return nil, sprintf("invalid placeholder name %q", name)
	}
	p := Placeholder{Name: name}
	p.Prefix = ParseString(s[:i]).Tokens
	p.Suffix = ParseString(s[i+2+j:]).Tokens
	if strings.Contains(s[i+2+j:], "%") {
		return nil, sprintf("only one placeholder per value is supported, got %q", s)
	}
	return p, ""
}

// RegexpSource returns the Go (RE2) form of a Sigma regex, with its flags
// as a leading group.
func (r Regex) RegexpSource() string {
	flags := r.Flags()
	if flags == "" {
		return r.Pattern
	}
	return "(?" + flags + ")" + r.Pattern
}

// Compile compiles the regex with Go's RE2 engine.
func (r Regex) Compile() (*regexp.Regexp, error) { return regexp.Compile(r.RegexpSource()) }

// outsidePCRESubset names the first construct of a pattern that is outside
// the metacharacters the Sigma spec allows (. ^ $ * + ? {n,m} [..] | ()),
// or "" when it stays inside.
func outsidePCRESubset(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			if strings.IndexByte("dDwWsSbBAzZpPQEG", n) >= 0 {
				return "\\" + string(n)
			}
			if n >= '1' && n <= '9' && !inClass {
				return "backreference \\" + string(n)
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			end := min(i+3, len(p))
			return "group syntax " + p[i:end]
		case (c == '*' || c == '+' || c == '?' || c == '}') && i+1 < len(p) && (p[i+1] == '?' || p[i+1] == '+'):
			if c == '?' && i > 0 && p[i-1] == '(' {
				continue
			}
			return "lazy or possessive quantifier " + p[i:i+2]
		}
	}
	return ""
}
