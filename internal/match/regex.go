package match

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// compileRegex translates a Sigma regular expression (a PCRE subset) to a Go
// RE2 expression. Matching is an unanchored search, as in PCRE; it is
// case-sensitive unless the i flag is set. PCRE constructs RE2 cannot run
// (look-around, back-references, possessive quantifiers, atomic groups)
// give a clear error.
func compileRegex(r sigma.Regex) (*regexp.Regexp, error) {
	pat, err := translatePCRE(r.Pattern)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", r.Pattern, err)
	}
	if flags := r.Flags(); flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("regex %q: not supported by the RE2 engine: %w", r.Pattern, err)
	}
	return re, nil
}

// translatePCRE rewrites the few PCRE spellings RE2 spells differently and
// rejects the constructs RE2 lacks with a message naming them.
func translatePCRE(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n == 'Z' && !inClass:
				b.WriteString(`(?:\n?\z)`)
			case n == 'h' && !inClass:
				b.WriteString(`[\t ]`)
			case n >= '1' && n <= '9' && !inClass:
				return "", fmt.Errorf("back-reference \\%c at offset %d is not supported", n, i)
			case n == 'K' || n == 'G' || n == 'R' || n == 'X':
				return "", fmt.Errorf("PCRE escape \\%c at offset %d is not supported", n, i)
			case n == '/':
				b.WriteByte('/')
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is literal.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		case c == '(' && !inClass && strings.HasPrefix(p[i:], "(?"):
			rest := p[i+2:]
			switch {
			case strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "!") ||
				strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
				return "", fmt.Errorf("look-around at offset %d is not supported", i)
			case strings.HasPrefix(rest, ">"):
				return "", fmt.Errorf("atomic group at offset %d is not supported", i)
			case strings.HasPrefix(rest, "#"):
				return "", fmt.Errorf("comment group at offset %d is not supported", i)
			}
			b.WriteByte(c)
		case (c == '+') && !inClass && i > 0 && isQuantEnd(p, i):
			return "", fmt.Errorf("possessive quantifier at offset %d is not supported", i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// isQuantEnd reports whether p[i] ('+') follows a quantifier, making it
// possessive (a++, a*+, a?+, a{2}+).
func isQuantEnd(p string, i int) bool {
	prev := p[i-1]
	if i >= 2 && p[i-2] == '\\' {
		return false
	}
	return prev == '+' || prev == '*' || prev == '?' || prev == '}'
}
