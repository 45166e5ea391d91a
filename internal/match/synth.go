package match

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// SynthesizeEvents builds, from a (pipeline-applied) rule's own values, ECS
// events (JSON objects, dotted field names written as nested objects) that
// must match the rule and events that must not: the negatives are near
// misses, the positive with the value one required search depends on
// mutated or removed. Both are checked against a small reference evaluator
// written independently of the compiled matcher (naive, regex-based), so
// that tests comparing the matcher with these events can fail.
//
// Keyword (field-less) values are put in a "message" field. It returns an
// error when no consistent event can be built (e.g. contradictory
// selections).
func SynthesizeEvents(rule *sigma.Rule) (positive, negative [][]byte, err error) {
	if rule.Detection == nil || len(rule.Detection.Conditions) == 0 {
		return nil, nil, errors.New("rule has no detection condition")
	}
	s := &synth{rule: rule, idx: map[string]int{}}
	for i, se := range rule.Detection.Searches {
		s.idx[se.Name] = i
	}
	n := len(rule.Detection.Searches)
	if n > 16 {
		return nil, nil, fmt.Errorf("%d searches: too many to enumerate", n)
	}
	// Assignments of truth values to searches, fewest true searches first.
	var assigns []uint32
	for a := uint32(0); a < 1<<n; a++ {
		assigns = append(assigns, a)
	}
	sort.SliceStable(assigns, func(i, j int) bool { return popcount(assigns[i]) < popcount(assigns[j]) })
	var pos *synthEvent
	var posA uint32
	for _, a := range assigns {
		if !s.condUnder(a) {
			continue
		}
		for _, rich := range []bool{true, false} {
			for _, f := range fills {
				s.fill, s.rich = f, rich
				ev, ok := s.build(a)
				if ok && s.refRule(ev) {
					pos, posA = ev, a
					break
				}
			}
			if pos != nil {
				break
			}
		}
		if pos != nil {
			break
		}
	}
	if pos == nil {
		return nil, nil, errors.New("no event satisfies the condition (contradictory selections?)")
	}
	positive = append(positive, pos.json())
	// Negatives: flip one search the positive needs true to false, by
	// mutating (or removing) the values that made it true.
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		if posA&(1<<i) == 0 {
			continue
		}
		if s.condUnder(posA &^ (1 << i)) {
			continue
		}
		for _, ev := range s.falsify(pos, rule.Detection.Searches[i]) {
			if s.refRule(ev) {
				continue
			}
			j := ev.json()
			if !seen[string(j)] {
				seen[string(j)] = true
				negative = append(negative, j)
			}
			break
		}
	}
	if len(negative) == 0 {
		// Fall back to the events of an assignment making the condition
		// false.
		for _, a := range assigns {
			if s.condUnder(a) {
				continue
			}
			if ev, ok := s.build(a); ok && !s.refRule(ev) {
				negative = append(negative, ev.json())
				break
			}
		}
	}
	if len(negative) == 0 {
		return positive, nil, errors.New("no event that must not match could be built")
	}
	return positive, negative, nil
}

func popcount(a uint32) int {
	n := 0
	for ; a != 0; a &= a - 1 {
		n++
	}
	return n
}

type synth struct {
	rule *sigma.Rule
	idx  map[string]int
	// fill is what a '*' wildcard becomes; build tries several, so that
	// a value can dodge a filter on the same field.
	fill string
	// rich makes events more realistic: one value satisfying all items on
	// a field instead of an array of values, a differing value for neq
	// instead of an absent field. build tries rich events first.
	rich bool
}

var fills = []string{"", "x", "/rangehunt/x "}

// synthEvent is a flat event: field -> values (nil slice = absent). Values
// are string, float64 (with its JSON text), bool or nil.
type synthEvent struct {
	fields map[string][]any
	absent map[string]bool // must stay absent
}

type jsonNum string

func newEvent() *synthEvent {
	return &synthEvent{fields: map[string][]any{}, absent: map[string]bool{}}
}

func (e *synthEvent) clone() *synthEvent {
	c := newEvent()
	for k, v := range e.fields {
		c.fields[k] = append([]any(nil), v...)
	}
	for k, v := range e.absent {
		c.absent[k] = v
	}
	return c
}

// json renders the event with dotted names as nested objects (a name that
// clashes with a leaf stays dotted).
func (e *synthEvent) json() []byte {
	root := map[string]any{}
	keys := make([]string, 0, len(e.fields))
	for k := range e.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := e.fields[k]
		var v any
		conv := make([]any, len(vals))
		for i, x := range vals {
			if n, ok := x.(jsonNum); ok {
				conv[i] = json.RawMessage(n)
			} else {
				conv[i] = x
			}
		}
		if len(conv) == 1 {
			v = conv[0]
		} else {
			v = conv
		}
		parts := strings.Split(k, ".")
		m := root
		ok := true
		for _, p := range parts[:len(parts)-1] {
			child, exists := m[p]
			if !exists {
				nm := map[string]any{}
				m[p] = nm
				m = nm
				continue
			}
			nm, isMap := child.(map[string]any)
			if !isMap {
				ok = false
				break
			}
			m = nm
		}
		last := parts[len(parts)-1]
		if _, clash := m[last]; ok && !clash {
			m[last] = v
		} else {
			root[k] = v
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		panic(err) // only strings, numbers, bools, nil, maps: cannot fail
	}
	return b
}

// condUnder evaluates the rule's condition when the searches in a are true.
func (s *synth) condUnder(a uint32) bool {
	for _, c := range s.rule.Detection.Conditions {
		if s.exprUnder(c.Expr, a) {
			return true
		}
	}
	return false
}

func (s *synth) exprUnder(e sigma.Expr, a uint32) bool {
	switch e := e.(type) {
	case *sigma.AndExpr:
		return s.exprUnder(e.L, a) && s.exprUnder(e.R, a)
	case *sigma.OrExpr:
		return s.exprUnder(e.L, a) || s.exprUnder(e.R, a)
	case *sigma.NotExpr:
		return !s.exprUnder(e.X, a)
	case *sigma.IdentExpr:
		return a&(1<<s.idx[e.Name]) != 0
	case *sigma.OfExpr:
		if len(e.Names) == 0 {
			return e.All
		}
		for _, n := range e.Names {
			t := a&(1<<s.idx[n]) != 0
			if e.All && !t {
				return false
			}
			if !e.All && t {
				return true
			}
		}
		return e.All
	}
	return false
}

// build constructs an event where the searches in a are true and the
// others false, if it can.
func (s *synth) build(a uint32) (*synthEvent, bool) {
	ev := newEvent()
	searches := s.rule.Detection.Searches
	for i, se := range searches {
		if a&(1<<i) == 0 {
			continue
		}
		done := false
		for _, g := range se.Groups {
			try := ev.clone()
			if s.satisfyGroup(try, g, se.Keywords) && refGroup(g, try) {
				ev = try
				done = true
				break
			}
		}
		if !done {
			return nil, false
		}
	}
	for i, se := range searches {
		if a&(1<<i) != 0 {
			continue
		}
		for _, g := range se.Groups {
			if !refGroup(g, ev) {
				continue
			}
			if !s.breakGroup(ev, g) {
				return nil, false
			}
		}
	}
	// Check the assignment really holds.
	for i, se := range searches {
		if refSearch(se, ev) != (a&(1<<i) != 0) {
			return nil, false
		}
	}
	return ev, true
}

// satisfyGroup adds values making every item of g true.
func (s *synth) satisfyGroup(ev *synthEvent, g *sigma.Group, keywords bool) bool {
	before := map[string]int{}
	for _, it := range g.Items {
		if _, ok := before[it.Field]; !ok {
			before[it.Field] = len(ev.fields[it.Field])
		}
	}
	if !s.satisfyItems(ev, g) {
		return false
	}
	if !s.rich {
		return true
	}
	// One value for all the items of a field, where one exists.
	for field, n := range before {
		if field == "" || len(ev.fields[field])-n < 2 {
			continue
		}
		added := ev.fields[field][n:]
		for _, cand := range mergeCandidates(g, field, added) {
			try := ev.clone()
			try.fields[field] = append(append([]any(nil), ev.fields[field][:n]...), cand)
			ok := true
			for _, it := range g.Items {
				if it.Field == field && !refItem(it, try) {
					ok = false
					break
				}
			}
			if ok {
				*ev = *try
				break
			}
		}
	}
	// neq: a value that differs rather than an absent field.
	for _, it := range g.Items {
		if !it.Negate || it.Field == "" || len(ev.fields[it.Field]) > 0 || len(it.Values) == 0 {
			continue
		}
		x, ok := s.valueFor(ev.clone(), it.Field, it.Values[0], false)
		if !ok || x == absentMarker {
			continue
		}
		try := ev.clone()
		try.fields[it.Field] = []any{mutate(x)}
		delete(try.absent, it.Field)
		if refItem(it, try) {
			*ev = *try
		}
	}
	return true
}

// mergeCandidates proposes single values for a field that several items
// constrain: the string values concatenated (prefix + suffix), each value
// alone, and one timestamp combining the time parts.
func mergeCandidates(g *sigma.Group, field string, added []any) []any {
	var out []any
	var parts []string
	for _, x := range added {
		if t, ok := x.(string); ok {
			parts = append(parts, t)
		}
	}
	if len(parts) == len(added) {
		out = append(out, strings.Join(parts, ""))
	}
	out = append(out, added...)
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tp := false
	for _, it := range g.Items {
		if it.Field != field {
			continue
		}
		for _, v := range it.Values {
			p, ok := v.(sigma.TimePart)
			if !ok {
				continue
			}
			tp = true
			n := int(p.Num.Float)
			switch p.Unit {
			case sigma.Minute:
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), n, 0, 0, time.UTC)
			case sigma.Hour:
				t = time.Date(t.Year(), t.Month(), t.Day(), n, t.Minute(), 0, 0, time.UTC)
			case sigma.Day:
				t = time.Date(t.Year(), t.Month(), n, t.Hour(), t.Minute(), 0, 0, time.UTC)
			case sigma.Month:
				t = time.Date(t.Year(), time.Month(n), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
			case sigma.Year:
				t = time.Date(n, t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
			case sigma.Week:
				w := timeFor(p)
				t = time.Date(t.Year(), w.Month(), w.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
			}
		}
	}
	if tp {
		out = append([]any{t.Format(time.RFC3339)}, out...)
	}
	return out
}

// satisfyItems adds values making every item of g true.
func (s *synth) satisfyItems(ev *synthEvent, g *sigma.Group) bool {
	for _, it := range g.Items {
		field := it.Field
		if field == "" {
			field = "message"
		}
		if it.Negate {
			// neq: true when the field is absent or differs.
			if len(ev.fields[field]) == 0 {
				ev.absent[field] = true
			}
			continue
		}
		vals := it.Values
		if !it.All {
			vals = vals[:1]
		}
		var add []any
		for _, v := range vals {
			x, ok := s.valueFor(ev, field, v, it.Field == "")
			if !ok {
				return false
			}
			if x == absentMarker {
				if len(ev.fields[field]) > 0 {
					return false
				}
				ev.absent[field] = true
				continue
			}
			add = append(add, x)
		}
		if len(add) == 0 {
			continue
		}
		if ev.absent[field] {
			return false
		}
		// contains|all (and keywords): one string holding every value.
		if len(add) > 1 && allContains(it) {
			var parts []string
			for _, x := range add {
				parts = append(parts, fmt.Sprint(x))
			}
			add = []any{strings.Join(parts, " ")}
		}
		ev.fields[field] = append(ev.fields[field], add...)
	}
	return true
}

func allContains(it *sigma.Item) bool {
	if it.Field == "" {
		return true
	}
	for _, v := range it.Values {
		sv, ok := v.(sigma.String)
		if !ok || len(sv.Tokens) == 0 || sv.Tokens[0].Kind != sigma.AnyChars || sv.Tokens[len(sv.Tokens)-1].Kind != sigma.AnyChars {
			return false
		}
	}
	return true
}

type absentT struct{}

var absentMarker any = absentT{}

// valueFor builds one value matching v (absentMarker: the field must be
// absent).
func (s *synth) valueFor(ev *synthEvent, field string, v sigma.Value, keyword bool) (any, bool) {
	switch v := v.(type) {
	case sigma.String:
		var b strings.Builder
		for _, t := range v.Tokens {
			switch t.Kind {
			case sigma.Literal:
				b.WriteString(t.Text)
			case sigma.AnyChar:
				b.WriteByte('x')
			case sigma.AnyChars:
				b.WriteString(s.fill)
			}
		}
		return b.String(), true
	case sigma.Number:
		if keyword {
			return v.Raw, true
		}
		return numJSON(v), true
	case sigma.Bool:
		if keyword {
			return strconv.FormatBool(v.V), true
		}
		return v.V, true
	case sigma.Null:
		return absentMarker, true
	case sigma.Exists:
		if v.Want {
			return "rangehunt-present", true
		}
		return absentMarker, true
	case sigma.Compare:
		f := v.Num.Float
		switch v.Op {
		case sigma.LT:
			f--
		case sigma.GT:
			f++
		}
		return jsonNum(strconv.FormatFloat(f, 'f', -1, 64)), true
	case sigma.Regex:
		str, ok := regexExample(v)
		return str, ok
	case sigma.CIDR:
		a := v.Prefix.Masked().Addr()
		if v.Prefix.Bits() < a.BitLen() {
			a = a.Next()
		}
		return a.String(), true
	case sigma.FieldRef:
		if o := ev.fields[v.Field]; len(o) > 0 {
			return o[0], true
		}
		ev.fields[v.Field] = []any{"rangehunt-ref"}
		return "rangehunt-ref", true
	case sigma.TimePart:
		return timeFor(v).Format(time.RFC3339), true
	case sigma.Expansion:
		if len(v.Alts) == 0 {
			return nil, false
		}
		return s.valueFor(ev, field, v.Alts[0], keyword)
	}
	return nil, false
}

func numJSON(n sigma.Number) any {
	if json.Valid([]byte(n.Raw)) {
		if _, err := strconv.ParseFloat(n.Raw, 64); err == nil {
			return jsonNum(n.Raw)
		}
	}
	return jsonNum(strconv.FormatFloat(n.Float, 'f', -1, 64))
}

func timeFor(v sigma.TimePart) time.Time {
	n := int(v.Num.Float)
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	switch v.Unit {
	case sigma.Minute:
		return t.Add(time.Duration(n) * time.Minute)
	case sigma.Hour:
		return t.Add(time.Duration(n) * time.Hour)
	case sigma.Day:
		return t.AddDate(0, 0, n-1)
	case sigma.Week:
		// ISO week 1 holds January 4th.
		return time.Date(2024, 1, 4, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*(n-1))
	case sigma.Month:
		return t.AddDate(0, n-1, 0)
	}
	return time.Date(n, 6, 1, 0, 0, 0, 0, time.UTC)
}

// regexExample returns a short string the regex matches.
func regexExample(v sigma.Regex) (string, bool) {
	flags := syntax.Perl
	if v.IgnoreCase {
		flags |= syntax.FoldCase
	}
	if v.DotAll {
		flags |= syntax.DotNL
	}
	if !v.Multiline {
		flags |= syntax.OneLine
	}
	re, err := syntax.Parse(v.Pattern, flags)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	gen(&b, re.Simplify())
	return b.String(), true
}

func gen(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		if len(re.Rune) >= 2 {
			// Prefer a printable ASCII letter or digit inside the class.
			for i := 0; i+1 < len(re.Rune); i += 2 {
				for _, c := range "aA0x_-./ " {
					if c >= re.Rune[i] && c <= re.Rune[i+1] {
						b.WriteRune(c)
						return
					}
				}
			}
			r := re.Rune[0]
			if r < ' ' && re.Rune[1] >= '!' {
				r = '!'
			}
			b.WriteRune(r)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpCapture:
		gen(b, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			gen(b, s)
		}
	case syntax.OpAlternate:
		gen(b, re.Sub[0])
	case syntax.OpPlus:
		gen(b, re.Sub[0])
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			gen(b, re.Sub[0])
		}
	}
}

// breakGroup makes a group that is currently true false, by giving a value
// to a field none of the true searches set (an absent-matching item:
// null, exists: false, neq) or leaving out a field.
func (s *synth) breakGroup(ev *synthEvent, g *sigma.Group) bool {
	for _, it := range g.Items {
		field := it.Field
		if field == "" {
			continue
		}
		if len(ev.fields[field]) > 0 || ev.absent[field] {
			continue
		}
		try := ev.clone()
		if it.Negate && len(it.Values) > 0 {
			x, ok := s.valueFor(try, field, it.Values[0], false)
			if !ok || x == absentMarker {
				continue
			}
			try.fields[field] = []any{x}
		} else {
			try.fields[field] = []any{"rangehunt-other"}
		}
		if !refGroup(g, try) {
			*ev = *try
			return true
		}
	}
	return false
}

// falsify returns variants of ev in which search se no longer matches:
// its values mutated, or its fields removed.
func (s *synth) falsify(ev *synthEvent, se *sigma.Search) []*synthEvent {
	var out []*synthEvent
	// Fields that make the search true.
	fields := map[string]bool{}
	for _, g := range se.Groups {
		for _, it := range g.Items {
			f := it.Field
			if f == "" {
				f = "message"
			}
			fields[f] = true
		}
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	// 0. neq items: give the field the very value it must differ from.
	for _, g := range se.Groups {
		for _, it := range g.Items {
			if !it.Negate || it.Field == "" || len(it.Values) == 0 {
				continue
			}
			try := ev.clone()
			x, ok := s.valueFor(try, it.Field, it.Values[0], false)
			if !ok || x == absentMarker {
				continue
			}
			try.fields[it.Field] = []any{x}
			if !refSearch(se, try) {
				out = append(out, try)
			}
		}
	}
	// 1. mutate every value of the search's fields (a near miss).
	mut := ev.clone()
	for _, f := range names {
		for i, x := range mut.fields[f] {
			mut.fields[f][i] = mutate(x)
		}
	}
	if !refSearch(se, mut) {
		out = append(out, mut)
	}
	// 2. mutate one field at a time.
	for _, f := range names {
		one := ev.clone()
		for i, x := range one.fields[f] {
			one.fields[f][i] = mutate(x)
		}
		if !refSearch(se, one) {
			out = append(out, one)
		}
	}
	// 3. remove the fields.
	rm := ev.clone()
	for _, f := range names {
		delete(rm.fields, f)
	}
	if !refSearch(se, rm) {
		out = append(out, rm)
	}
	return out
}

// mutate changes a value so that equality, prefix, suffix and substring
// tests on it fail, while it stays realistic.
func mutate(x any) any {
	switch v := x.(type) {
	case string:
		if v == "" {
			return "rangehunt"
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			// Every part changes: year, month, ISO week, day, hour, minute.
			return t.AddDate(1, 1, 8).Add(time.Hour + time.Minute).Format(time.RFC3339)
		}
		// Drop the first and last characters of every word-ish part: the
		// literal text the rule needs is no longer there.
		var b strings.Builder
		for _, r := range v {
			switch {
			case r >= 'a' && r <= 'y', r >= 'A' && r <= 'Y', r >= '0' && r <= '8':
				b.WriteRune(r + 1)
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	case jsonNum:
		f, _ := strconv.ParseFloat(string(v), 64)
		return jsonNum(strconv.FormatFloat(f+7, 'f', -1, 64))
	case bool:
		return !v
	}
	return "rangehunt"
}

// ---- reference evaluator (deliberately naive and independent) ----

func (s *synth) refRule(ev *synthEvent) bool {
	var a uint32
	for i, se := range s.rule.Detection.Searches {
		if refSearch(se, ev) {
			a |= 1 << i
		}
	}
	return s.condUnder(a)
}

func refSearch(se *sigma.Search, ev *synthEvent) bool {
	for _, g := range se.Groups {
		if refGroup(g, ev) {
			return true
		}
	}
	return false
}

func refGroup(g *sigma.Group, ev *synthEvent) bool {
	for _, it := range g.Items {
		if !refItem(it, ev) {
			return false
		}
	}
	return true
}

func refItem(it *sigma.Item, ev *synthEvent) bool {
	var vals []any
	present := false
	if it.Field == "" {
		for _, vs := range ev.fields {
			vals = append(vals, vs...)
		}
		present = len(vals) > 0
	} else {
		vals = ev.fields[it.Field]
		present = vals != nil
	}
	r := false
	if it.All {
		r = true
		for _, v := range it.Values {
			if !refValue(v, vals, present, ev, it.Field == "") {
				r = false
				break
			}
		}
	} else {
		for _, v := range it.Values {
			if refValue(v, vals, present, ev, it.Field == "") {
				r = true
				break
			}
		}
	}
	if it.Negate {
		return !r
	}
	return r
}

func textOfAny(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, true
	case jsonNum:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func numOfAny(x any) (float64, bool) {
	switch v := x.(type) {
	case string, jsonNum:
		t, _ := textOfAny(v)
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func refValue(v sigma.Value, vals []any, present bool, ev *synthEvent, keyword bool) bool {
	switch v := v.(type) {
	case sigma.String:
		var b strings.Builder
		if !v.Cased {
			b.WriteString("(?i)")
		}
		b.WriteString("(?s)^")
		if keyword {
			b.WriteString(".*")
		}
		for _, t := range v.Tokens {
			switch t.Kind {
			case sigma.Literal:
				b.WriteString(regexp.QuoteMeta(t.Text))
			case sigma.AnyChars:
				b.WriteString(".*")
			case sigma.AnyChar:
				b.WriteString(".")
			}
		}
		if keyword {
			b.WriteString(".*")
		}
		b.WriteString("$")
		re := regexp.MustCompile(b.String())
		for _, x := range vals {
			if t, ok := textOfAny(x); ok && re.MatchString(t) {
				return true
			}
		}
	case sigma.Number:
		if keyword {
			return refValue(sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: v.Raw}}}, vals, present, ev, true)
		}
		for _, x := range vals {
			if f, ok := numOfAny(x); ok && f == v.Float {
				return true
			}
			if t, ok := textOfAny(x); ok && strings.EqualFold(t, v.Raw) {
				return true
			}
		}
	case sigma.Bool:
		for _, x := range vals {
			if b, ok := x.(bool); ok && b == v.V {
				return true
			}
			if t, ok := x.(string); ok && strings.EqualFold(t, strconv.FormatBool(v.V)) {
				return true
			}
		}
	case sigma.Null:
		for _, x := range vals {
			if x != nil {
				return false
			}
		}
		return true
	case sigma.Exists:
		return present == v.Want
	case sigma.Compare:
		for _, x := range vals {
			f, ok := numOfAny(x)
			if !ok {
				continue
			}
			switch {
			case v.Op == sigma.LT && f < v.Num.Float, v.Op == sigma.LTE && f <= v.Num.Float,
				v.Op == sigma.GT && f > v.Num.Float, v.Op == sigma.GTE && f >= v.Num.Float:
				return true
			}
		}
	case sigma.Regex:
		re, err := regexp.Compile(v.RegexpSource())
		if err != nil {
			return false
		}
		for _, x := range vals {
			if t, ok := textOfAny(x); ok && re.MatchString(t) {
				return true
			}
		}
	case sigma.CIDR:
		for _, x := range vals {
			if t, ok := x.(string); ok {
				if a, err := netip.ParseAddr(t); err == nil && v.Prefix.Contains(a.Unmap()) {
					return true
				}
			}
		}
	case sigma.FieldRef:
		for _, x := range vals {
			for _, y := range ev.fields[v.Field] {
				tx, ok1 := textOfAny(x)
				ty, ok2 := textOfAny(y)
				if ok1 && ok2 && strings.EqualFold(tx, ty) {
					return true
				}
			}
		}
	case sigma.TimePart:
		for _, x := range vals {
			if t, ok := x.(string); ok {
				if ts, err := time.Parse(time.RFC3339Nano, t); err == nil && float64(timePart(ts, v.Unit)) == v.Num.Float {
					return true
				}
			}
		}
	case sigma.Expansion:
		for _, a := range v.Alts {
			if refValue(a, vals, present, ev, keyword) {
				return true
			}
		}
	}
	return false
}
