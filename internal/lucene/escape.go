package lucene

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// compatEscaped is pySigma's Lucene escape set: str_quote + add_escaped
// plus the wildcard characters.
const compatEscaped = `"+-=&|!(){}[]<>^~*?:\/ `

// compatString prints a Sigma string as pySigma's LuceneBackend does:
// wildcards unescaped, every char of compatEscaped backslash-escaped,
// nothing else (tabs and newlines stay raw), and the empty string as "".
func compatString(s sigma.String) string {
	if len(s.Tokens) == 0 {
		return `""`
	}
	var b strings.Builder
	for _, t := range s.Tokens {
		switch t.Kind {
		case sigma.AnyChars:
			b.WriteByte('*')
		case sigma.AnyChar:
			b.WriteByte('?')
		default:
			for _, c := range t.Text {
				if c < utf8.RuneSelf && strings.IndexByte(compatEscaped, byte(c)) >= 0 {
					b.WriteByte('\\')
				}
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

// escapeFieldCompat is pySigma's field escaping: whitespace and '*'.
func escapeFieldCompat(f string) string {
	if !strings.ContainsFunc(f, func(r rune) bool { return r == '*' || unicode.IsSpace(r) }) {
		return f
	}
	var b strings.Builder
	for _, c := range f {
		if c == '*' || unicode.IsSpace(c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// reserved are the characters with a meaning in OpenSearch's query_string
// syntax (Lucene classic plus '=', '<', '>', '/', '&', '|').
const reserved = `\+-=&|!(){}[]<>^"~*?:/`

// mustEscape reports whether c must be backslash-escaped inside a term:
// reserved characters, whitespace (Lucene splits terms on it, including
// U+3000) and control characters.
func mustEscape(c rune) bool {
	if c < utf8.RuneSelf && strings.IndexByte(reserved, byte(c)) >= 0 {
		return true
	}
	return unicode.IsSpace(c) || unicode.IsControl(c)
}

// escapeField escapes a field name for query_string: every reserved or
// white-space character ('.' stays, it separates object fields).
func escapeField(f string) string {
	if !strings.ContainsFunc(f, mustEscape) {
		return f
	}
	var b strings.Builder
	for _, c := range f {
		if mustEscape(c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// escapeTerm escapes literal text as one query_string term.
func escapeTerm(s string) string {
	var b strings.Builder
	writeEscaped(&b, s, true)
	if isOperator(s) {
		return `\` + s
	}
	return b.String()
}

func writeEscaped(b *strings.Builder, s string, _ bool) {
	for _, c := range s {
		if mustEscape(c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
}

// isOperator reports whether a bare term would be read as a boolean
// operator.
func isOperator(s string) bool {
	return s == "AND" || s == "OR" || s == "NOT"
}

// quoteString prints a Sigma string as one query_string term with correct
// semantics: wildcards as '*' and '?', every other character escaped so
// that no value can change the query's structure, lower-cased when lower
// is set (the index's lowercase normalizer makes matching
// case-insensitive; lower-casing here also covers the analyzed text
// fields). A value that OpenSearch would read as a range ('<' or '>' first)
// or as an operator is quoted or escaped; the empty value is "".
func quoteString(s sigma.String, lower bool) string {
	if len(s.Tokens) == 0 {
		return `""`
	}
	lit, isLit := s.Literal()
	if isLit {
		if lower {
			lit = strings.ToLower(lit)
		}
		if lit[0] == '<' || lit[0] == '>' {
			// "The > and < signs cannot be escaped": OpenSearch looks at
			// the unescaped term. A phrase is not a range.
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(lit) + `"`
		}
		return escapeTerm(lit)
	}
	var b strings.Builder
	for _, t := range s.Tokens {
		switch t.Kind {
		case sigma.AnyChars:
			b.WriteByte('*')
		case sigma.AnyChar:
			b.WriteByte('?')
		default:
			text := t.Text
			if lower {
				text = strings.ToLower(text)
			}
			writeEscaped(&b, text, false)
		}
	}
	return b.String()
}

// compatRegex is pySigma's regex rendering: '/' escaped (also when it is
// already escaped), flags as an inline (?ims) prefix.
func compatRegex(r sigma.Regex) string {
	flags := r.Flags()
	p := strings.ReplaceAll(r.Pattern, "/", `\/`)
	if flags != "" {
		p = "(?" + flags + ")" + p
	}
	return p
}
