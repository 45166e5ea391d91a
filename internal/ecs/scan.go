package ecs

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays in one record.
const maxDepth = 1000

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask returns, for the 8 bytes at b[i:], a mask whose lowest set
// bit is the high bit of the first byte that is special inside a JSON
// string: a control byte (< 0x20), '"', '\\' or a non-ASCII byte (>= 0x80).
// Zero means none is. (Borrows may set bits above the first special byte,
// never below it.)
func specialMask(b []byte, i int) uint64 {
	x := binary.LittleEndian.Uint64(b[i:])
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((x - lsb*0x20) | (q - lsb) | (s - lsb) | x) & msb
}

// special marks the bytes specialMask looks for.
var special = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	// Compact JSON has no space: test the common case with one compare.
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validString checks the string whose opening quote is at b[i-1] and returns
// the index after its closing quote. It checks escapes, control bytes and
// UTF-8.
func validString(b []byte, i int) (int, reason, int, string) {
	n := len(b)
	for {
		for i+8 <= n {
			if m := specialMask(b, i); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < n && !special[b[i]] {
			i++
		}
		if i >= n {
			return i, rTruncated, n, "unterminated string"
		}
	found:
		c := b[i]
		switch {
		case c == '"':
			return i + 1, rOK, 0, ""
		case c == '\\':
			if i+1 >= n {
				return i, rTruncated, n, "unterminated string"
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= n {
						return i, rTruncated, n, "unterminated string"
					}
					if !isHex(b[i+k]) {
						return i, rMalformed, i + k, "invalid \\u escape in string"
					}
				}
				i += 6
			default:
				return i, rMalformed, i, "invalid escape " + quoteByte(b[i+1]) + " in string"
			}
		case c < 0x20:
			return i, rMalformed, i, "control character " + quoteByte(c) + " in string"
		default: // >= 0x80
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				if !utf8.FullRune(b[i:]) {
					return i, rTruncated, n, "unterminated string"
				}
				return i, rInvalidUTF8, i, ""
			}
			i += size
		}
	}
}

// validNumber checks the JSON number starting at b[i] and returns the index
// after it.
func validNumber(b []byte, i int) (int, reason, int, string) {
	n := len(b)
	if i < n && b[i] == '-' {
		i++
	}
	if i >= n {
		return i, rTruncated, n, "truncated number"
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return i, rMalformed, i, "invalid character " + quoteByte(c) + " in number"
	}
	if i < n && b[i] == '.' {
		i++
		d := i
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			if i >= n {
				return i, rTruncated, n, "truncated number"
			}
			return i, rMalformed, i, "invalid character " + quoteByte(b[i]) + " after decimal point in number"
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < n && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			if i >= n {
				return i, rTruncated, n, "truncated number"
			}
			return i, rMalformed, i, "invalid character " + quoteByte(b[i]) + " in exponent of number"
		}
	}
	return i, rOK, 0, ""
}

// validLiteral checks true, false or null at b[i].
func validLiteral(b []byte, i int, lit string) (int, reason, int, string) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i, rTruncated, len(b), "truncated literal " + lit
		}
		if b[i+k] != lit[k] {
			return i, rMalformed, i + k, "invalid character " + quoteByte(b[i+k]) + " in literal " + lit
		}
	}
	return i + len(lit), rOK, 0, ""
}

// validator checks that a record is exactly one well-formed JSON object. Its
// stack is reused across records.
type validator struct {
	stack []byte
}

// validate returns rOK, or the reason, 0-based position and description of
// the first problem. A record that is valid JSON but not an object gives
// rNotObject.
func (v *validator) validate(b []byte) (reason, int, string) {
	n := len(b)
	i := skipSpace(b, 0)
	if i >= n {
		return rTruncated, n, "empty record"
	}
	top := b[i]
	stack := v.stack[:0]
	var (
		r    reason
		pos  int
		what string
		j    int
	)
	// The state machine: value → after-value → (',' → key|value) … .
value:
	if i >= n {
		return rTruncated, n, "unexpected end of record, expected value"
	}
	switch c := b[i]; c {
	case '{':
		if len(stack) >= maxDepth {
			v.stack = stack
			return rMalformed, i, "nesting deeper than 1000"
		}
		i = skipSpace(b, i+1)
		if i < n && b[i] == '}' {
			i++
			goto after
		}
		stack = append(stack, '{')
		goto key
	case '[':
		if len(stack) >= maxDepth {
			v.stack = stack
			return rMalformed, i, "nesting deeper than 1000"
		}
		i = skipSpace(b, i+1)
		if i < n && b[i] == ']' {
			i++
			goto after
		}
		stack = append(stack, '[')
		goto value
	case '"':
		// Inline fast path: plain ASCII up to the closing quote.
		j = i + 1
		for j+8 <= n {
			if m := specialMask(b, j); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < n && !special[b[j]] { // the tail; no-op after a break
			j++
		}
		if j < n && b[j] == '"' {
			i = j + 1
		} else if i, r, pos, what = validString(b, i+1); r != rOK {
			return r, pos, what
		}
	case 't':
		if i, r, pos, what = validLiteral(b, i, "true"); r != rOK {
			return r, pos, what
		}
	case 'f':
		if i, r, pos, what = validLiteral(b, i, "false"); r != rOK {
			return r, pos, what
		}
	case 'n':
		if i, r, pos, what = validLiteral(b, i, "null"); r != rOK {
			return r, pos, what
		}
	default:
		if c == '-' || '0' <= c && c <= '9' {
			if i, r, pos, what = validNumber(b, i); r != rOK {
				return r, pos, what
			}
			break
		}
		if c >= 0x80 && badRune(b[i:]) {
			return rInvalidUTF8, i, ""
		}
		return rMalformed, i, "invalid character " + quoteByte(c) + " looking for value"
	}
after:
	i = skipSpace(b, i)
	if len(stack) == 0 {
		v.stack = stack
		if i < n {
			return rMalformed, i, "invalid character " + quoteByte(b[i]) + " after top-level value"
		}
		if top != '{' {
			return rNotObject, 0, ""
		}
		return rOK, 0, ""
	}
	if i >= n {
		v.stack = stack
		return rTruncated, n, "unexpected end of record"
	}
	if stack[len(stack)-1] == '{' {
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			goto key
		case '}':
			i++
			stack = stack[:len(stack)-1]
			goto after
		}
		v.stack = stack
		return rMalformed, i, "invalid character " + quoteByte(b[i]) + " after object value, expected ',' or '}'"
	}
	switch b[i] {
	case ',':
		i = skipSpace(b, i+1)
		goto value
	case ']':
		i++
		stack = stack[:len(stack)-1]
		goto after
	}
	v.stack = stack
	return rMalformed, i, "invalid character " + quoteByte(b[i]) + " after array element, expected ',' or ']'"
key:
	if i >= n {
		v.stack = stack
		return rTruncated, n, "unexpected end of record, expected object key"
	}
	if b[i] != '"' {
		v.stack = stack
		return rMalformed, i, "invalid character " + quoteByte(b[i]) + " looking for object key"
	}
	// Inline fast path, as for string values.
	j = i + 1
	for j+8 <= n {
		if m := specialMask(b, j); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			break
		}
		j += 8
	}
	for j < n && !special[b[j]] {
		j++
	}
	if j < n && b[j] == '"' {
		i = j + 1
	} else if i, r, pos, what = validString(b, i+1); r != rOK {
		v.stack = stack
		return r, pos, what
	}
	i = skipSpace(b, i)
	if i >= n {
		v.stack = stack
		return rTruncated, n, "unexpected end of record after object key"
	}
	if b[i] != ':' {
		v.stack = stack
		return rMalformed, i, "invalid character " + quoteByte(b[i]) + " after object key, expected ':'"
	}
	i = skipSpace(b, i+1)
	goto value
}

// badRune reports whether b starts with an invalid UTF-8 sequence.
func badRune(b []byte) bool {
	r, size := utf8.DecodeRune(b)
	return r == utf8.RuneError && size <= 1
}

// quoteByte renders a byte for an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		if c == '\'' {
			return `'\''`
		}
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&15]})
}

// endOfString returns the index after the closing quote of the string whose
// contents start at b[i], and whether the contents hold a backslash. It
// does not validate the contents; -1 means unterminated.
func endOfString(b []byte, i int) (int, bool) {
	esc := false
	n := len(b)
	for {
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			s := x ^ (lsb * '\\')
			if m := ((q-lsb)&^q | (s-lsb)&^s) & msb; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < n && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= n {
			return -1, esc
		}
	found:
		if b[i] == '"' {
			return i + 1, esc
		}
		esc = true
		if i += 2; i > n {
			return -1, esc
		}
	}
}

// endOfKey returns the index of the closing quote of the object key whose
// contents start at b[i] (-1 if unterminated), and whether the key holds a
// dot or a backslash.
func endOfKey(b []byte, i int) (int, bool, bool) {
	dot, esc := false, false
	n := len(b)
	for {
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			s := x ^ (lsb * '\\')
			d := x ^ (lsb * '.')
			if m := ((q-lsb)&^q | (s-lsb)&^s | (d-lsb)&^d) & msb; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < n && b[i] != '"' && b[i] != '\\' && b[i] != '.' {
			i++
		}
		if i >= n {
			return -1, dot, esc
		}
	found:
		switch b[i] {
		case '"':
			return i, dot, esc
		case '.':
			dot = true
			i++
		default:
			esc = true
			if i += 2; i > n {
				return -1, dot, esc
			}
		}
	}
}

// skipValue returns the index after the JSON value starting at b[i]. It
// matches brackets and strings but does not validate scalars' contents;
// -1 means the value is unterminated or not a value.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		e, _ := endOfString(b, i+1)
		return e
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				e, _ := endOfString(b, i+1)
				if e < 0 {
					return -1
				}
				i = e
				continue
			case '{', '[':
				depth++
				if depth > maxDepth {
					return -1
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		case '"', '{', '[', ':':
			return -1
		}
		i++
	}
	return i
}
