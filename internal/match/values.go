package match

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"time"
	"unsafe"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// valueMatcher tests one rule value against a field of the current event.
// matchField reports whether any of the field's values (array elements)
// matches.
type valueMatcher interface {
	matchField(m *Matcher, f int) bool
	cost() int
}

// textOf returns the text a string comparison sees for a value: strings as
// they are, numbers as written in the JSON, booleans as true/false. Null
// has no text.
func textOf(v *ecs.Value) ([]byte, bool) {
	switch v.Kind {
	case ecs.String, ecs.Number:
		return v.Str, true
	case ecs.Bool:
		if v.Bool {
			return trueText, true
		}
		return falseText, true
	}
	return nil, false
}

var (
	trueText  = []byte("true")
	falseText = []byte("false")
)

// strValue is a Sigma string (with wildcards).
type strValue struct{ s *strMatcher }

func (v strValue) matchField(m *Matcher, f int) bool {
	if v.s.kind == strAny {
		// '*' matches any present non-null value.
		for _, x := range m.values(f) {
			if x.Kind != ecs.Null {
				return true
			}
		}
		return false
	}
	if id := v.s.acID; id >= 0 {
		hits := m.acHits(f)
		found := hits[id>>6]&(1<<(uint(id)&63)) != 0
		if !found || v.s.kind == strContains {
			return found
		}
		// A glob whose needle occurs: check each value.
	} else if f == kwField && !v.s.cased {
		// Keywords: one substring search over all leaves joined by NUL
		// rejects most events at once.
		j := m.kwJoined()
		switch v.s.kind {
		case strContains:
			if bytes.IndexByte(v.s.lit, 0) < 0 {
				return bytes.Contains(j, v.s.lit)
			}
		case strGlob:
			if len(v.s.need) > 0 && !bytes.Contains(j, v.s.need) {
				return false
			}
		}
	}
	if v.s.cased {
		vals := m.values(f)
		for i := range vals {
			if t, ok := textOf(&vals[i]); ok && v.s.match(t) {
				return true
			}
		}
		return false
	}
	for _, t := range m.folded(f) {
		if t != nil && v.s.match(t) {
			return true
		}
	}
	return false
}

func (v strValue) cost() int { return v.s.cost() }

// numValue is a number: it matches a JSON number or a numeric string with
// the same value, or a value whose text equals the number as written.
type numValue struct {
	f   float64
	raw []byte // folded
}

func parseNum(b []byte) (float64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		// Hexadecimal and octal integers as strings ("0x1F").
		if i, err := strconv.ParseInt(string(b), 0, 64); err == nil {
			return float64(i), true
		}
		return 0, false
	}
	return f, true
}

func (v numValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		x := &vals[i]
		if x.Kind != ecs.String && x.Kind != ecs.Number {
			continue
		}
		if n, ok := parseNum(x.Str); ok && n == v.f {
			return true
		}
	}
	for _, t := range m.folded(f) {
		if t != nil && bytes.Equal(t, v.raw) {
			return true
		}
	}
	return false
}

func (numValue) cost() int { return 4 }

// boolValue matches a JSON boolean or the strings true/false.
type boolValue struct{ b bool }

func (v boolValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		x := &vals[i]
		switch x.Kind {
		case ecs.Bool:
			if x.Bool == v.b {
				return true
			}
		case ecs.String:
			if (v.b && bytes.EqualFold(x.Str, trueText)) || (!v.b && bytes.EqualFold(x.Str, falseText)) {
				return true
			}
		}
	}
	return false
}

func (boolValue) cost() int { return 2 }

// nullValue matches an absent field or one whose values are all null.
type nullValue struct{}

func (nullValue) matchField(m *Matcher, f int) bool {
	for _, x := range m.values(f) {
		if x.Kind != ecs.Null {
			return false
		}
	}
	return true
}

func (nullValue) cost() int { return 1 }

// existsValue matches when the field's presence is as wanted (a null value
// counts as present).
type existsValue struct{ want bool }

func (v existsValue) matchField(m *Matcher, f int) bool { return m.present(f) == v.want }
func (existsValue) cost() int                           { return 1 }

// compareValue is lt/lte/gt/gte on numbers and numeric strings.
type compareValue struct {
	op sigma.CompareOp
	n  float64
}

func (v compareValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		x := &vals[i]
		if x.Kind != ecs.String && x.Kind != ecs.Number {
			continue
		}
		n, ok := parseNum(x.Str)
		if !ok {
			continue
		}
		var r bool
		switch v.op {
		case sigma.LT:
			r = n < v.n
		case sigma.LTE:
			r = n <= v.n
		case sigma.GT:
			r = n > v.n
		case sigma.GTE:
			r = n >= v.n
		}
		if r {
			return true
		}
	}
	return false
}

func (compareValue) cost() int { return 4 }

// regexValue is the re modifier: an unanchored search of the raw text.
type regexValue struct{ re *regexp.Regexp }

func (v regexValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		if t, ok := textOf(&vals[i]); ok && v.re.Match(t) {
			return true
		}
	}
	return false
}

func (regexValue) cost() int { return 30 }

// parseAddr parses an IP address from the event's bytes without copying
// them into a string: ParseAddr does not keep its argument except as an
// IPv6 zone, which is dropped here before the bytes can change.
func parseAddr(b []byte) (netip.Addr, error) {
	if len(b) == 0 {
		return netip.Addr{}, errEmptyAddr
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	return a.WithZone(""), err
}

var errEmptyAddr = errors.New("empty address")

// cidrValue matches IP addresses (strings) inside a network.
type cidrValue struct{ p netip.Prefix }

func (v cidrValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		x := &vals[i]
		if x.Kind != ecs.String {
			continue
		}
		a, err := parseAddr(bytes.TrimSpace(x.Str))
		if err != nil {
			continue
		}
		if v.p.Addr().Is4() {
			a = a.Unmap()
		}
		if v.p.Contains(a) {
			return true
		}
	}
	return false
}

func (cidrValue) cost() int { return 8 }

// fieldRefValue compares the field with another field of the same event:
// it matches when a value of one equals a value of the other (case-
// insensitively; numerically when both are numbers).
type fieldRefValue struct{ other int }

func (v fieldRefValue) matchField(m *Matcher, f int) bool {
	a, b := m.folded(f), m.folded(v.other)
	for _, x := range a {
		if x == nil {
			continue
		}
		for _, y := range b {
			if y == nil {
				continue
			}
			if bytes.Equal(x, y) {
				return true
			}
			if nx, ok := parseNum(x); ok {
				if ny, ok := parseNum(y); ok && nx == ny {
					return true
				}
			}
		}
	}
	return false
}

func (fieldRefValue) cost() int { return 6 }

// timePartValue compares one part (UTC) of a timestamp field with a number.
type timePartValue struct {
	unit sigma.TimeUnit
	n    float64
}

func timePart(t time.Time, u sigma.TimeUnit) int {
	t = t.UTC()
	switch u {
	case sigma.Minute:
		return t.Minute()
	case sigma.Hour:
		return t.Hour()
	case sigma.Day:
		return t.Day()
	case sigma.Week:
		_, w := t.ISOWeek()
		return w
	case sigma.Month:
		return int(t.Month())
	}
	return t.Year()
}

func (v timePartValue) matchField(m *Matcher, f int) bool {
	vals := m.values(f)
	for i := range vals {
		x := &vals[i]
		if x.Kind != ecs.String {
			continue
		}
		t, err := ecs.ParseTimestamp(x.Str)
		if err != nil {
			continue
		}
		if float64(timePart(t, v.unit)) == v.n {
			return true
		}
	}
	return false
}

func (timePartValue) cost() int { return 20 }

// anyValue is an Expansion: any alternative matches.
type anyValue []valueMatcher

func (v anyValue) matchField(m *Matcher, f int) bool {
	for _, a := range v {
		if a.matchField(m, f) {
			return true
		}
	}
	return false
}

func (v anyValue) cost() int {
	c := 0
	for _, a := range v {
		c += a.cost()
	}
	return c
}
