package match

import (
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to the canonical member of its simple case-folding orbit:
// the ASCII lower-case letter when the orbit holds an ASCII letter (so the
// ASCII fast path and the Unicode path agree: K, k and the Kelvin sign all
// fold to 'k'), otherwise the smallest rune of the orbit.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			if 'A' <= f && f <= 'Z' {
				return f + 'a' - 'A'
			}
			return f
		}
		if f < min {
			min = f
		}
	}
	return min
}

// appendFold appends the case-folded form of s to dst. ASCII input takes a
// fast path; invalid UTF-8 bytes are copied unchanged.
func appendFold(dst, s []byte) []byte {
	ascii := true
	for _, c := range s {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for _, c := range s {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

// foldString returns the case-folded form of s.
func foldString(s string) string { return string(appendFold(nil, []byte(s))) }

// Fold returns the case-folded form of s, the form in which Sigma values
// compare case-insensitively (Unicode simple case folding; K, k and the
// Kelvin sign fold alike). Correlations use it for group-by keys and
// value_count distinctness.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return string(appendFold(make([]byte, 0, len(s)), []byte(s)))
		}
	}
	return s
}
