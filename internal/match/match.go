// Package match evaluates Sigma rules over ECS events. A rule set is
// compiled once: every field any rule reads goes into one ecs.Fields, so
// each event is scanned once for all rules, and each rule's condition
// becomes a tree of specialised matchers (equals, prefix, suffix, contains,
// glob, regex, CIDR, numbers...) evaluated with short-circuiting, cheapest
// operands first.
//
// Semantics follow the Sigma specification v2.1: strings match
// case-insensitively (ASCII fast path, Unicode simple folding) unless
// cased; regexes are case-sensitive unless re|i; a field holding an array
// matches when any element matches; null matches an absent or JSON-null
// field; numbers match JSON numbers and numeric strings numerically.
package match

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// kwField is the pseudo field index of keyword searches: every leaf value
// of the event.
const kwField = -1

// CompileError is a rule that cannot be compiled.
type CompileError struct {
	Rule *sigma.Rule
	Err  error
}

func (e *CompileError) Error() string {
	name := e.Rule.ID
	if name == "" {
		name = e.Rule.Title
	}
	if e.Rule.Path != "" {
		return fmt.Sprintf("%s: rule %s: %v", e.Rule.Path, name, e.Err)
	}
	return fmt.Sprintf("rule %s: %v", name, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

// Rule is one compiled rule of a Set.
type Rule struct {
	*sigma.Rule
	// Index is the rule's position in Set.Rules.
	Index int
	cond  node
	// reqs is the rule's prefilter: for each set, one of its needles
	// must occur in its field, or the rule cannot match.
	reqs [][]need
	// reqIDs are the rule's requirement sets as indices into Set.reqSets,
	// the most shared first: a set many rules share (such as the
	// event-kind selection) is decided once per event and rules out whole
	// families of rules before their own fields are scanned.
	reqIDs []int
}

// need is a literal that must occur (case-folded) in a field.
type need struct {
	field int
	slot  int // the field's Set.slotOf
	id    int
	mask  uint64 // 1 << (id & 63)
}

// Set is a compiled rule set. It is immutable and safe for concurrent use;
// each goroutine matches with its own Matcher.
type Set struct {
	Rules    []*Rule
	fields   *ecs.Fields
	paths    []string
	keywords bool
	// reqSets are the distinct prefilter sets of all rules, as bit masks
	// over the fields' needle bitsets.
	reqSets []reqSet
	// ac holds, per field slot (slotOf), the Aho–Corasick automaton over
	// the needles of the field's contains and glob values, when there are
	// enough of them to pay off.
	ac []*acMatcher
}

func (s *Set) slotOf(f int) int {
	if f == kwField {
		return len(s.paths)
	}
	return f
}

// Compile compiles rules (already transformed by their pipelines) into a
// Set. Rules that cannot be compiled are left out and reported, one
// *CompileError each; the others are compiled.
func Compile(rules []*sigma.Rule) (*Set, []error) {
	s := &Set{}
	var errs []error
	c := &compiler{fieldIdx: map[string]int{}, needleIDs: map[int]map[string]int{}, needlePats: map[int][][]byte{}}
	for _, r := range rules {
		n, err := c.rule(r)
		if err != nil {
			errs = append(errs, &CompileError{Rule: r, Err: err})
			continue
		}
		s.Rules = append(s.Rules, &Rule{Rule: r, Index: len(s.Rules), cond: n, reqs: c.reqOf(n)})
	}
	s.paths = c.paths
	s.keywords = c.keywords
	s.ac = make([]*acMatcher, len(c.paths)+1)
	for f, pats := range c.needlePats {
		s.ac[s.slotOf(f)] = newACMatcher(pats)
	}
	setIDs := map[string]int{}
	uses := map[int]int{}
	for _, r := range s.Rules {
		seen := map[int]bool{}
		for _, set := range r.reqs {
			for i := range set {
				set[i].slot = s.slotOf(set[i].field)
			}
			key := needKey(set)
			id, ok := setIDs[key]
			if !ok {
				id = len(s.reqSets)
				setIDs[key] = id
				s.reqSets = append(s.reqSets, maskOf(set))
			}
			if !seen[id] {
				seen[id] = true
				r.reqIDs = append(r.reqIDs, id)
				uses[id]++
			}
		}
	}
	for _, r := range s.Rules {
		ids := r.reqIDs
		sort.SliceStable(ids, func(i, j int) bool { return uses[ids[i]] > uses[ids[j]] })
	}
	s.fields = ecs.NewFields(c.paths)
	for i, p := range c.paths {
		if got := s.fields.Index(p); got != i {
			return nil, append(errs, fmt.Errorf("match: field index mismatch for %q: %d != %d", p, got, i))
		}
	}
	if c.keywords {
		s.fields.SetCollectAll(true)
	}
	return s, errs
}

// Fields returns the paths the set reads, in index order.
func (s *Set) Fields() []string { return s.paths }

// Matcher matches events against a Set. It holds per-event scratch space
// and is not safe for concurrent use.
type Matcher struct {
	set *Set
	ev  ecs.Event
	// folded caches the case-folded text of each field's values for the
	// current event; gen invalidates it.
	gen     uint32
	foldGen []uint32
	fold    [][][]byte
	kwGen   uint32
	kwFold  [][]byte
	kwJGen  uint32
	kwJoin  []byte
	acGen   []uint32
	acBits  [][]uint64
	setGen  []uint32
	setVal  []bool
	buf     []byte
}

// NewMatcher returns a Matcher for s.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{
		set:     s,
		foldGen: make([]uint32, len(s.paths)),
		fold:    make([][][]byte, len(s.paths)),
		buf:     make([]byte, 0, 4096), // non-nil: an empty text is not a null
		acGen:   make([]uint32, len(s.paths)+1),
		setGen:  make([]uint32, len(s.reqSets)),
		setVal:  make([]bool, len(s.reqSets)),
		acBits:  make([][]uint64, len(s.paths)+1),
	}
}

// Match decodes the fields of one raw JSON event and appends the indices
// (into Set.Rules) of the rules it matches to dst, in rule order.
func (m *Matcher) Match(raw []byte, dst []int) ([]int, error) {
	if err := m.set.fields.Extract(raw, &m.ev); err != nil {
		return dst, err
	}
	return m.MatchEvent(dst), nil
}

// MatchEvent evaluates the rules on the event last decoded by Match (or
// by Decode) and appends the indices of the matching rules to dst.
func (m *Matcher) MatchEvent(dst []int) []int {
	m.reset()
	for _, r := range m.set.Rules {
		if m.reqsMet(r.reqIDs) && r.cond.eval(m) {
			dst = append(dst, r.Index)
		}
	}
	return dst
}

// MatchRule reports whether rule i matches the event last decoded.
func (m *Matcher) MatchRule(i int) bool {
	m.reset()
	return m.set.Rules[i].cond.eval(m)
}

// Decode decodes raw into the matcher's event without evaluating rules.
func (m *Matcher) Decode(raw []byte) error {
	return m.set.fields.Extract(raw, &m.ev)
}

// Event returns the event last decoded.
func (m *Matcher) Event() *ecs.Event { return &m.ev }

func (m *Matcher) reset() {
	m.gen++
	if m.gen == 0 { // wrapped: clear stale generations
		for i := range m.foldGen {
			m.foldGen[i] = 0
		}
		m.kwGen, m.kwJGen = 0, 0
		clear(m.acGen)
		clear(m.setGen)
		m.gen = 1
	}
	m.buf = m.buf[:0]
}

func (m *Matcher) values(f int) []ecs.Value {
	if f == kwField {
		return m.ev.All()
	}
	return m.ev.Values(f)
}

func (m *Matcher) present(f int) bool {
	if f == kwField {
		return len(m.ev.All()) > 0
	}
	return m.ev.Present(f)
}

// folded returns the case-folded text of each value of field f (nil for
// null values), computed once per event.
func (m *Matcher) folded(f int) [][]byte {
	var gen *uint32
	var out *[][]byte
	if f == kwField {
		gen, out = &m.kwGen, &m.kwFold
	} else {
		gen, out = &m.foldGen[f], &m.fold[f]
	}
	if *gen == m.gen {
		return *out
	}
	*gen = m.gen
	vals := m.values(f)
	res := (*out)[:0]
	for i := range vals {
		t, ok := textOf(&vals[i])
		if !ok {
			res = append(res, nil)
			continue
		}
		// Fold into the shared arena; if it grows, earlier slices keep
		// pointing at the old array, which stays valid.
		start := len(m.buf)
		m.buf = appendFold(m.buf, t)
		res = append(res, m.buf[start:len(m.buf):len(m.buf)])
	}
	*out = res
	return res
}

// kwJoined returns the folded text of every leaf of the event, joined by
// NUL bytes, computed once per event.
func (m *Matcher) kwJoined() []byte {
	if m.kwJGen == m.gen {
		return m.kwJoin
	}
	m.kwJGen = m.gen
	j := m.kwJoin[:0]
	for _, t := range m.folded(kwField) {
		j = append(j, t...)
		j = append(j, 0)
	}
	m.kwJoin = j
	return j
}

// reqsMet reports whether every requirement set (by id) has a needle
// present; each set's answer is computed once per event.
func (m *Matcher) reqsMet(ids []int) bool {
	for _, id := range ids {
		if m.setGen[id] == m.gen {
			if !m.setVal[id] {
				return false
			}
			continue
		}
		ok := m.setMet(m.set.reqSets[id])
		m.setGen[id], m.setVal[id] = m.gen, ok
		if !ok {
			return false
		}
	}
	return true
}

// reqSet is a requirement set as masks: per field, the words of its
// needle bitset to test.
type reqSet []fieldMask

type fieldMask struct {
	field, slot int
	words       []wordMask
}

type wordMask struct {
	idx  int
	mask uint64
}

func maskOf(set []need) reqSet {
	var rs reqSet
	for _, n := range set {
		i := 0
		for i < len(rs) && rs[i].slot != n.slot {
			i++
		}
		if i == len(rs) {
			rs = append(rs, fieldMask{field: n.field, slot: n.slot})
		}
		fm := &rs[i]
		j := 0
		for j < len(fm.words) && fm.words[j].idx != n.id>>6 {
			j++
		}
		if j == len(fm.words) {
			fm.words = append(fm.words, wordMask{idx: n.id >> 6})
		}
		fm.words[j].mask |= n.mask
	}
	return rs
}

func (m *Matcher) setMet(set reqSet) bool {
	for i := range set {
		fm := &set[i]
		var bits []uint64
		if m.acGen[fm.slot] == m.gen {
			bits = m.acBits[fm.slot]
		} else {
			bits = m.acHits(fm.field)
		}
		for _, w := range fm.words {
			if bits[w.idx]&w.mask != 0 {
				return true
			}
		}
	}
	return false
}

// needKey identifies a requirement set.
func needKey(set []need) string {
	ks := make([]string, len(set))
	for i, n := range set {
		ks[i] = strconv.Itoa(n.field) + ":" + strconv.Itoa(n.id)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// acHits returns the bitset of the needles of field f's automaton found
// in the field's values, computed once per event.
func (m *Matcher) acHits(f int) []uint64 {
	slot := m.set.slotOf(f)
	bits := m.acBits[slot]
	if m.acGen[slot] == m.gen {
		return bits
	}
	m.acGen[slot] = m.gen
	a := m.set.ac[slot]
	if n := (a.npattern + 63) / 64; len(bits) != n {
		bits = make([]uint64, n)
		m.acBits[slot] = bits
	} else {
		clear(bits)
	}
	// Scan the raw text (ASCII: no folding needed); fold only the values
	// holding other bytes.
	vals := m.values(f)
	for i := range vals {
		t, ok := textOf(&vals[i])
		if !ok || a.scanRaw(t, bits) {
			continue
		}
		a.scan(m.folded(f)[i], bits)
	}
	return bits
}

// node is a compiled condition.
type node interface {
	eval(m *Matcher) bool
	cost() int
}

type andNode []node

func (n andNode) eval(m *Matcher) bool {
	for _, k := range n {
		if !k.eval(m) {
			return false
		}
	}
	return true
}

func (n andNode) cost() int {
	// Short-circuit: the first (cheapest) operand usually decides.
	if len(n) == 0 {
		return 0
	}
	return n[0].cost() + len(n) - 1
}

type orNode []node

func (n orNode) eval(m *Matcher) bool {
	for _, k := range n {
		if k.eval(m) {
			return true
		}
	}
	return false
}

func (n orNode) cost() int {
	c := 0
	for _, k := range n {
		c += k.cost()
	}
	return c
}

type notNode struct{ x node }

func (n notNode) eval(m *Matcher) bool { return !n.x.eval(m) }
func (n notNode) cost() int            { return n.x.cost() }

type constNode bool

func (n constNode) eval(*Matcher) bool { return bool(n) }
func (constNode) cost() int            { return 0 }

// itemNode is one "field|modifiers: values" entry.
type itemNode struct {
	field  int
	vals   []valueMatcher
	all    bool
	negate bool
	c      int
}

func (n *itemNode) eval(m *Matcher) bool {
	r := n.match(m)
	if n.negate {
		return !r
	}
	return r
}

func (n *itemNode) match(m *Matcher) bool {
	if n.all {
		for _, v := range n.vals {
			if !v.matchField(m, n.field) {
				return false
			}
		}
		return true
	}
	for _, v := range n.vals {
		if v.matchField(m, n.field) {
			return true
		}
	}
	return false
}

func (n *itemNode) cost() int { return n.c }

type compiler struct {
	paths    []string
	fieldIdx map[string]int
	keywords bool
	// needleIDs and needlePats register, per field, the literals one
	// Aho–Corasick pass over the field looks for.
	needleIDs  map[int]map[string]int
	needlePats map[int][][]byte
	// per rule
	searches map[string]node
}

func (c *compiler) field(name string) int {
	if i, ok := c.fieldIdx[name]; ok {
		return i
	}
	i := len(c.paths)
	c.fieldIdx[name] = i
	c.paths = append(c.paths, name)
	return i
}

func (c *compiler) rule(r *sigma.Rule) (node, error) {
	if r.Detection == nil {
		return nil, errors.New("no detection section")
	}
	if len(r.Detection.Conditions) == 0 {
		return nil, errors.New("no condition")
	}
	c.searches = map[string]node{}
	for _, s := range r.Detection.Searches {
		n, err := c.search(s)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", s.Name, err)
		}
		c.searches[s.Name] = n
	}
	var conds orNode
	for _, cond := range r.Detection.Conditions {
		if cond.Expr == nil {
			return nil, fmt.Errorf("condition %q: not parsed", cond.Source)
		}
		n, err := c.expr(cond.Expr)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", cond.Source, err)
		}
		conds = append(conds, n)
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return conds, nil
}

func (c *compiler) expr(e sigma.Expr) (node, error) {
	switch e := e.(type) {
	case *sigma.AndExpr:
		l, err := c.expr(e.L)
		if err != nil {
			return nil, err
		}
		r, err := c.expr(e.R)
		if err != nil {
			return nil, err
		}
		return makeAnd([]node{l, r}), nil
	case *sigma.OrExpr:
		l, err := c.expr(e.L)
		if err != nil {
			return nil, err
		}
		r, err := c.expr(e.R)
		if err != nil {
			return nil, err
		}
		return makeOr([]node{l, r}), nil
	case *sigma.NotExpr:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *sigma.IdentExpr:
		n, ok := c.searches[e.Name]
		if !ok {
			return nil, fmt.Errorf("offset %d: undefined search identifier %q", e.Off, e.Name)
		}
		return n, nil
	case *sigma.OfExpr:
		var kids []node
		for _, name := range e.Names {
			n, ok := c.searches[name]
			if !ok {
				return nil, fmt.Errorf("offset %d: undefined search identifier %q", e.Off, name)
			}
			kids = append(kids, n)
		}
		if len(kids) == 0 {
			return nil, fmt.Errorf("offset %d: %q matches no search", e.Off, e.Pattern)
		}
		if e.All {
			return makeAnd(kids), nil
		}
		return makeOr(kids), nil
	}
	return nil, fmt.Errorf("unknown condition node %T", e)
}

// makeAnd flattens nested ANDs and orders operands cheapest first, so the
// evaluation short-circuits early. Operands are pure, so order does not
// change the result.
func makeAnd(kids []node) node {
	var flat andNode
	for _, k := range kids {
		if a, ok := k.(andNode); ok {
			flat = append(flat, a...)
		} else {
			flat = append(flat, k)
		}
	}
	sort.SliceStable(flat, func(i, j int) bool { return flat[i].cost() < flat[j].cost() })
	if len(flat) == 1 {
		return flat[0]
	}
	return flat
}

func makeOr(kids []node) node {
	var flat orNode
	for _, k := range kids {
		if o, ok := k.(orNode); ok {
			flat = append(flat, o...)
		} else {
			flat = append(flat, k)
		}
	}
	sort.SliceStable(flat, func(i, j int) bool { return flat[i].cost() < flat[j].cost() })
	if len(flat) == 1 {
		return flat[0]
	}
	return flat
}

func (c *compiler) search(s *sigma.Search) (node, error) {
	var groups []node
	for gi, g := range s.Groups {
		var items []node
		for _, it := range g.Items {
			n, err := c.item(it, s.Keywords)
			if err != nil {
				f := it.Field
				if f == "" {
					f = "keywords"
				}
				if it.Pos.Line > 0 {
					return nil, fmt.Errorf("line %d, column %d: %s: %w", it.Pos.Line, it.Pos.Col, f, err)
				}
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			items = append(items, n)
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("group %d is empty", gi+1)
		}
		groups = append(groups, makeAnd(items))
	}
	if len(groups) == 0 {
		return nil, errors.New("no values")
	}
	return makeOr(groups), nil
}

func (c *compiler) item(it *sigma.Item, keywords bool) (node, error) {
	n := &itemNode{all: it.All, negate: it.Negate}
	if it.Field == "" {
		c.keywords = true
		n.field = kwField
		keywords = true
	} else {
		n.field = c.field(it.Field)
	}
	if len(it.Values) == 0 {
		return nil, errors.New("no values")
	}
	for _, v := range it.Values {
		vm, err := c.value(v, keywords)
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, vm)
	}
	for _, v := range n.vals {
		n.c += v.cost()
		c.collectNeedles(n.field, v)
	}
	if !n.all {
		// OR of values: order cheapest first.
		sort.SliceStable(n.vals, func(i, j int) bool { return n.vals[i].cost() < n.vals[j].cost() })
	}
	return n, nil
}

func (c *compiler) value(v sigma.Value, keyword bool) (valueMatcher, error) {
	switch v := v.(type) {
	case sigma.String:
		return strValue{newStrMatcher(v, keyword)}, nil
	case sigma.Number:
		if keyword {
			return strValue{newStrMatcher(sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: v.Raw}}}, true)}, nil
		}
		return numValue{f: v.Float, raw: appendFold(nil, []byte(v.Raw))}, nil
	case sigma.Bool:
		if keyword {
			return strValue{newStrMatcher(sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: fmt.Sprint(v.V)}}}, true)}, nil
		}
		return boolValue{v.V}, nil
	case sigma.Null:
		return nullValue{}, nil
	case sigma.Exists:
		return existsValue{v.Want}, nil
	case sigma.Compare:
		return compareValue{op: v.Op, n: v.Num.Float}, nil
	case sigma.Regex:
		re, err := compileRegex(v)
		if err != nil {
			return nil, err
		}
		return regexValue{re}, nil
	case sigma.CIDR:
		if !v.Prefix.IsValid() {
			return nil, errors.New("invalid CIDR network")
		}
		return cidrValue{v.Prefix.Masked()}, nil
	case sigma.FieldRef:
		if keyword {
			return nil, errors.New("fieldref in a keyword search")
		}
		return fieldRefValue{other: c.field(v.Field)}, nil
	case sigma.TimePart:
		return timePartValue{unit: v.Unit, n: v.Num.Float}, nil
	case sigma.Expansion:
		var alts anyValue
		for _, a := range v.Alts {
			m, err := c.value(a, keyword)
			if err != nil {
				return nil, err
			}
			alts = append(alts, m)
		}
		if len(alts) == 0 {
			return nil, errors.New("empty expansion")
		}
		return alts, nil
	case sigma.Placeholder:
		return nil, fmt.Errorf("unresolved placeholder %%%s%% (expand modifier): give its values with a pipeline", v.Name)
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// needle registers a literal for field f's automaton and returns its id.
func (c *compiler) needle(f int, lit []byte) int {
	ids := c.needleIDs[f]
	if ids == nil {
		ids = map[string]int{}
		c.needleIDs[f] = ids
	}
	if id, ok := ids[string(lit)]; ok {
		return id
	}
	id := len(c.needlePats[f])
	ids[string(lit)] = id
	c.needlePats[f] = append(c.needlePats[f], lit)
	return id
}

func (c *compiler) collectNeedles(f int, v valueMatcher) {
	switch v := v.(type) {
	case strValue:
		if n := v.s.needle(); n != nil {
			v.s.acID = c.needle(f, n)
		}
	case anyValue:
		for _, a := range v {
			c.collectNeedles(f, a)
		}
	}
}

// valueNeedles returns the literals of which one must occur in the
// field's (folded) text for v to match, or ok=false when v can match
// without a literal (numbers, regexes, null...).
func (c *compiler) valueNeedles(f int, v valueMatcher) ([]need, bool) {
	switch v := v.(type) {
	case strValue:
		s := v.s
		if s.cased {
			return nil, false
		}
		var lit []byte
		switch s.kind {
		case strEquals, strPrefix, strSuffix, strContains:
			lit = s.lit
		case strGlob:
			lit = s.need
		}
		if len(lit) == 0 || bytes.IndexByte(lit, 0) >= 0 {
			return nil, false
		}
		id := c.needle(f, lit)
		return []need{{field: f, id: id, mask: 1 << (uint(id) & 63)}}, true
	case anyValue:
		var out []need
		for _, a := range v {
			n, ok := c.valueNeedles(f, a)
			if !ok {
				return nil, false
			}
			out = append(out, n...)
		}
		return out, true
	}
	return nil, false
}

// reqOf derives a node's prefilter: a list of needle sets, each of which
// must have a needle present for the node to be true.
func (c *compiler) reqOf(n node) [][]need {
	switch n := n.(type) {
	case *itemNode:
		if n.negate {
			return nil
		}
		if n.all {
			var out [][]need
			for _, v := range n.vals {
				if ns, ok := c.valueNeedles(n.field, v); ok {
					out = append(out, ns)
				}
			}
			return out
		}
		var set []need
		for _, v := range n.vals {
			ns, ok := c.valueNeedles(n.field, v)
			if !ok {
				return nil
			}
			set = append(set, ns...)
		}
		return [][]need{set}
	case andNode:
		var out [][]need
		for _, k := range n {
			out = append(out, c.reqOf(k)...)
		}
		return out
	case orNode:
		var set []need
		for _, k := range n {
			r := c.reqOf(k)
			if len(r) == 0 {
				return nil
			}
			// The child's smallest set.
			best := r[0]
			for _, x := range r[1:] {
				if len(x) < len(best) {
					best = x
				}
			}
			set = append(set, best...)
		}
		return [][]need{set}
	}
	return nil
}

// RuleName is how a rule is named in messages and summaries: its id, or
// its title when it has no id.
func RuleName(r *sigma.Rule) string {
	if r.ID != "" {
		return r.ID
	}
	return strings.TrimSpace(r.Title)
}
