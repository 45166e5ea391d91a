package ecs

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a Value.
type Kind uint8

// Kinds of Value.
const (
	String Kind = iota
	Number
	Bool
	Null
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Null:
		return "null"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one leaf of an event. (Str comes first so that a Value takes 32
// bytes, not 40.)
type Value struct {
	// Str holds a string's unescaped bytes, or a number's JSON text. It
	// may alias the event passed to Extract or the Event's own buffer:
	// valid until the next Extract into the same Event.
	Str  []byte
	Kind Kind
	Bool bool
}

// Float returns a number's value, or a string's value when the whole string
// is a JSON number (auditd logs carry numbers as strings, e.g. "pid":"42";
// "0x10", "inf" or " 42" are not numbers).
func (v Value) Float() (float64, bool) {
	if v.Kind != Number && v.Kind != String || len(v.Str) == 0 || len(v.Str) > 64 {
		return 0, false
	}
	if v.Kind == String {
		if e, why, _, _ := validNumber(v.Str, 0); why != rOK || e != len(v.Str) {
			return 0, false
		}
	}
	var tmp [64]byte
	f, err := strconv.ParseFloat(string(append(tmp[:0], v.Str...)), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// String renders the value for messages: the string itself, the number's
// text, true/false or null.
func (v Value) String() string {
	switch v.Kind {
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Null:
		return "null"
	}
	return string(v.Str)
}

// node is a trie node over path segments.
type node struct {
	field    int // index of the path ending here, or -1
	children []edge
	// table is an open-addressing hash table of child index+1 (0: empty
	// slot), a power of two at least twice len(children).
	table []uint16
}

// segHash hashes a non-empty segment for node.table.
func segHash(seg []byte) uint {
	return uint(seg[0])*31 + uint(seg[len(seg)-1])*7 + uint(len(seg))*131
}

// index rebuilds the hash table after a child was added.
func (n *node) index() {
	size := 8
	for size < 2*len(n.children) {
		size *= 2
	}
	n.table = make([]uint16, size)
	for i, e := range n.children {
		if e.seg == "" {
			continue
		}
		h := segHash([]byte(e.seg)) & uint(size-1)
		for n.table[h] != 0 {
			h = (h + 1) & uint(size-1)
		}
		n.table[h] = uint16(i + 1)
	}
}

type edge struct {
	seg  string
	next *node
}

// child returns the child for segment seg, or nil.
func (n *node) child(seg []byte) *node {
	if len(seg) == 0 {
		for i := range n.children {
			if n.children[i].seg == "" {
				return n.children[i].next
			}
		}
		return nil
	}
	mask := uint(len(n.table) - 1)
	for h := segHash(seg) & mask; ; h = (h + 1) & mask {
		k := n.table[h]
		if k == 0 {
			return nil
		}
		if e := &n.children[k-1]; e.seg == string(seg) {
			return e.next
		}
	}
}

// walk follows a possibly dotted key ("parent.name") from n: each
// dot-separated part must be a child of the previous one.
func (n *node) walk(key []byte) *node {
	for {
		d := bytes.IndexByte(key, '.')
		if d < 0 {
			return n.child(key)
		}
		if n = n.child(key[:d]); n == nil {
			return nil
		}
		key = key[d+1:]
	}
}

// Fields is a compiled set of dotted ECS field paths ("process.args",
// "@timestamp"). A Fields is immutable once built (after SetCollectAll) and
// safe for concurrent Extract calls into different Events.
type Fields struct {
	root       node
	paths      []string
	collectAll bool
}

// NewFields compiles paths. Duplicates are dropped: field indices follow
// the first occurrence of each path.
func NewFields(paths []string) *Fields {
	f := &Fields{root: node{field: -1}}
	f.root.index()
	for _, p := range paths {
		if f.Index(p) >= 0 {
			continue
		}
		n := &f.root
		for _, seg := range strings.Split(p, ".") {
			next := n.child([]byte(seg))
			if next == nil {
				next = &node{field: -1}
				next.index()
				n.children = append(n.children, edge{seg: seg, next: next})
				n.index()
			}
			n = next
		}
		n.field = len(f.paths)
		f.paths = append(f.paths, p)
	}
	return f
}

// Len returns the number of distinct paths.
func (f *Fields) Len() int { return len(f.paths) }

// Index returns the index of path, or -1 if it is not in the set.
func (f *Fields) Index(path string) int {
	if n := f.root.walk([]byte(path)); n != nil {
		return n.field
	}
	return -1
}

// Path returns the path with index i.
func (f *Fields) Path(i int) string { return f.paths[i] }

// Paths returns the paths in index order.
func (f *Fields) Paths() []string { return append([]string(nil), f.paths...) }

// SetCollectAll makes Extract also gather every string, number and
// boolean leaf of the event, in document order, into Event.All (for Sigma
// keyword searches). Extract then scans the whole event instead of skipping the
// subtrees no path goes through. Call it before using f.
func (f *Fields) SetCollectAll(on bool) { f.collectAll = on }

// CollectAll reports whether SetCollectAll is on.
func (f *Fields) CollectAll() bool { return f.collectAll }

// Event holds the values Extract found in one event. The zero Event is
// ready to use; reuse one Event across calls to avoid allocation. Its
// values are valid until the next Extract into it.
type Event struct {
	raw     []byte
	vals    [][]Value
	present []bool
	all     []Value
	scratch []byte // unescaped strings; capacity >= len(raw), never reallocated during one Extract
	key     []byte // unescaped key
}

// Values returns the values of field i (arrays flattened, nulls as Kind
// Null), in document order; nil when the field is absent or holds only an
// empty array or objects. i is an index of the Fields last used to Extract
// into ev.
func (ev *Event) Values(i int) []Value {
	if len(ev.vals[i]) == 0 {
		return nil
	}
	return ev.vals[i]
}

// Present reports whether field i's key occurs in the event, even with a
// null, empty-string, empty-array or object value.
func (ev *Event) Present(i int) bool { return ev.present[i] }

// All returns every string, number and boolean leaf of the event (nulls
// are left out) in document order when the Fields has CollectAll on; nil
// otherwise.
func (ev *Event) All() []Value {
	if len(ev.all) == 0 {
		return nil
	}
	return ev.all
}

// Raw returns the event text given to the last Extract.
func (ev *Event) Raw() []byte { return ev.raw }

func (ev *Event) reset(f *Fields, raw []byte) {
	n := len(f.paths)
	if len(ev.vals) != n {
		ev.vals = make([][]Value, n)
		ev.present = make([]bool, n)
	}
	for i := range ev.vals {
		ev.vals[i] = ev.vals[i][:0]
	}
	clear(ev.present)
	ev.all = ev.all[:0]
	ev.raw = raw
	if cap(ev.scratch) < len(raw) {
		ev.scratch = make([]byte, 0, len(raw)+len(raw)/4)
	}
	ev.scratch = ev.scratch[:0]
}

// extractErr reports malformed input found by Extract.
func extractErr(what string, pos int) error {
	return &syntaxError{kind: ErrMalformed, what: what, pos: pos}
}

// Extract scans the JSON object raw once and fills ev with the values of
// f's fields (and, with CollectAll, every leaf). Keys match paths whether
// nested or dotted: {"process":{"parent":{"name":"sh"}}},
// {"process.parent.name":"sh"} and {"process":{"parent.name":"sh"}} all
// give "sh" for "process.parent.name". Arrays are flattened, arrays of
// objects included. Subtrees no path goes through are skipped without
// being checked in detail, so Extract is meant for records a Reader has
// validated; on other input it returns an error wrapping ErrMalformed or
// ErrNotObject (with what it found so far left in ev), and never panics.
// Steady-state calls with a reused ev do not allocate.
func (f *Fields) Extract(raw []byte, ev *Event) error {
	ev.reset(f, raw)
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ErrNotObject
	}
	x := extractor{f: f, ev: ev, b: raw}
	i, err := x.object(i, &f.root, 1)
	if err != nil {
		return err
	}
	if i = skipSpace(raw, i); i < len(raw) {
		return extractErr("invalid character "+quoteByte(raw[i])+" after top-level value", i)
	}
	return nil
}

type extractor struct {
	f  *Fields
	ev *Event
	b  []byte
}

// object scans the object at b[i] ('{') with trie node n (nil: no path
// goes through it, only collecting leaves).
func (x *extractor) object(i int, n *node, depth int) (int, error) {
	b := x.b
	if depth > maxDepth {
		return 0, extractErr("nesting deeper than 1000", i)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, extractErr("expected object key", i)
		}
		e, dot, esc := endOfKey(b, i+1)
		if e < 0 {
			return 0, extractErr("unterminated object key", i)
		}
		var child *node
		if n != nil {
			key := b[i+1 : e]
			switch {
			case esc:
				var err error
				if x.ev.key, err = appendUnescaped(x.ev.key[:0], key, i+1); err != nil {
					return 0, err
				}
				child = n.walk(x.ev.key)
			case dot:
				child = n.walk(key)
			default:
				child = n.child(key)
			}
		}
		e++
		i = skipSpace(b, e)
		if i >= len(b) || b[i] != ':' {
			return 0, extractErr("expected ':' after object key", i)
		}
		i = skipSpace(b, i+1)
		if child == nil && !x.f.collectAll {
			if i = skipValue(b, i); i < 0 {
				return 0, extractErr("malformed value", len(b))
			}
		} else {
			if child != nil && child.field >= 0 {
				x.ev.present[child.field] = true
			}
			var err error
			if i, err = x.value(i, child, depth); err != nil {
				return 0, err
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, extractErr("unexpected end of object", i)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, extractErr("invalid character "+quoteByte(b[i])+" after object value", i)
		}
	}
}

// value scans the value at b[i] reached through trie node n (nil when only
// collecting leaves).
func (x *extractor) value(i int, n *node, depth int) (int, error) {
	b := x.b
	if i >= len(b) {
		return 0, extractErr("unexpected end of input, expected value", i)
	}
	field := -1
	if n != nil {
		field = n.field
	}
	switch c := b[i]; c {
	case '{':
		if n != nil && len(n.children) == 0 && !x.f.collectAll {
			if i = skipValue(b, i); i < 0 {
				return 0, extractErr("malformed object", len(b))
			}
			return i, nil
		}
		if n != nil && len(n.children) == 0 {
			n = nil
		}
		return x.object(i, n, depth+1)
	case '[':
		if depth+1 > maxDepth {
			return 0, extractErr("nesting deeper than 1000", i)
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = x.value(i, n, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, extractErr("unexpected end of array", i)
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return i + 1, nil
			default:
				return 0, extractErr("invalid character "+quoteByte(b[i])+" after array element", i)
			}
		}
	case '"':
		// Inline fast path: no backslash before the closing quote.
		e, esc := i+1, false
		for e+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[e:])
			q := x ^ (lsb * '"')
			s := x ^ (lsb * '\\')
			if m := ((q-lsb)&^q | (s-lsb)&^s) & msb; m != 0 {
				e += bits.TrailingZeros64(m) >> 3
				break
			}
			e += 8
		}
		for e < len(b) && b[e] != '"' && b[e] != '\\' {
			e++
		}
		if e < len(b) && b[e] == '"' {
			e++
		} else if e, esc = endOfString(b, i+1); e < 0 {
			return 0, extractErr("unterminated string", i)
		}
		s := b[i+1 : e-1]
		if esc {
			start := len(x.ev.scratch)
			var err error
			if x.ev.scratch, err = appendUnescaped(x.ev.scratch, s, i+1); err != nil {
				return 0, err
			}
			s = x.ev.scratch[start:len(x.ev.scratch):len(x.ev.scratch)]
		}
		v := Value{Kind: String, Str: s}
		if field >= 0 {
			x.ev.vals[field] = append(x.ev.vals[field], v)
		}
		if x.f.collectAll {
			x.ev.all = append(x.ev.all, v)
		}
		return e, nil
	case 't', 'f', 'n':
		lit, v := "null", Value{Kind: Null}
		switch c {
		case 't':
			lit, v = "true", Value{Kind: Bool, Bool: true}
		case 'f':
			lit, v = "false", Value{Kind: Bool}
		}
		if !bytes.HasPrefix(b[i:], []byte(lit)) {
			return 0, extractErr("invalid literal", i)
		}
		if field >= 0 {
			x.ev.vals[field] = append(x.ev.vals[field], v)
		}
		if x.f.collectAll && c != 'n' {
			x.ev.all = append(x.ev.all, v)
		}
		return i + len(lit), nil
	default:
		if c != '-' && (c < '0' || c > '9') {
			return 0, extractErr("invalid character "+quoteByte(c)+" looking for value", i)
		}
		e, why, at, what := validNumber(b, i)
		if why != rOK {
			return 0, extractErr(what, at)
		}
		v := Value{Kind: Number, Str: b[i:e:e]}
		if field >= 0 {
			x.ev.vals[field] = append(x.ev.vals[field], v)
		}
		if x.f.collectAll {
			x.ev.all = append(x.ev.all, v)
		}
		return e, nil
	}
}

// appendUnescaped appends the unescaped contents s of a JSON string (at
// offset base in the record, for errors) to dst. Lone surrogates become
// U+FFFD, as in encoding/json. The result is never longer than s.
func appendUnescaped(dst, s []byte, base int) ([]byte, error) {
	for i := 0; i < len(s); {
		k := bytes.IndexByte(s[i:], '\\')
		if k < 0 {
			return append(dst, s[i:]...), nil
		}
		dst = append(dst, s[i:i+k]...)
		i += k
		if i+1 >= len(s) {
			return dst, extractErr("unterminated escape in string", base+i)
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return dst, extractErr("invalid \\u escape in string", base+i)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok2 = hex4(s, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, extractErr("invalid escape "+quoteByte(c)+" in string", base+i)
		}
		i += 2
	}
	return dst, nil
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
