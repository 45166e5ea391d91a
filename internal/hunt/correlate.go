package hunt

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// The correlation engine runs Sigma correlation rules over the ordered
// stream of rule matches.
//
// Windows slide over event time (@timestamp), per group (the case-folded
// values of the group-by fields, through aliases). For conditions that
// only have lower bounds (gt, gte; temporal types without a condition) a
// group fires as soon as the events inside [t-timespan, t] meet the
// condition, t being the newest event time of the group; its state is then
// cleared, so one burst gives one match.
//
// Conditions with an upper bound (lt, lte, eq, neq, ranges) can only be
// decided on complete windows. Every event of a group anchors a window
// [s, s+timespan] (s its time); windows are decided oldest first, when the
// stream's event time passes s+timespan or at the end of the input. A
// window that meets the condition fires with its events, which then no
// longer count (the next window starts at the group's first event after
// s+timespan); a window that does not slides on to the next event time of
// the group. The stream's event time only advances through decided
// windows in deadline order, so a correlation fed by another one sees the
// child's match (at the child's window end) before later windows close.
//
// Events may be slightly out of order: an event is inserted at its time
// position inside its group's window. An event older than the group's
// window (lower bounds: the newest time of the group minus timespan; upper
// bounds: the open window's start, or a window of its own that would have
// closed already) no longer counts and is counted as late. State is kept
// only for open windows: lower-bound groups whose newest event is older
// than the newest event of the stream minus timespan are freed by a sweep;
// upper-bound groups are freed when their last window is decided.
type correlator struct {
	corrs []*corrState
	// byRule: the correlations fed by each base rule (by pointer).
	byRule map[*sigma.Rule][]*corrState
	// generated: rules whose own matches are written.
	suppressed map[*sigma.Rule]bool
	fields     *ecs.Fields
	tsIdx      int
	ev         ecs.Event
	maxTime    time.Time
	// wm is the event time up to which upper-bound windows are decided
	// (it trails maxTime only while windows are being closed).
	wm  time.Time
	fed int
	// wins holds the open upper-bound windows by deadline.
	wins winHeap
	// ignored counts rule matches that could not enter correlations,
	// per reason.
	ignored map[string]int64
}

type corrState struct {
	c         *sigma.Correlation
	ref       RuleRef
	upper     bool           // condition has an upper bound
	inputs    map[string]int // referenced rule id/name -> position in c.Rules
	groupIdx  [][]int        // per input position, per group-by field: field index
	groupName [][]string     // same, field names (for chained inputs)
	valIdx    []int          // per input position: index of condition.field
	valName   []string
	parents   []*corrState // correlations referencing this one
	emit      bool         // this correlation's own matches are written
	groups    map[string]*group
	order     int // position in the correlator (ties between deadlines)
}

type entry struct {
	t     time.Time
	input int
	value string
	num   float64
	hasN  bool
	ref   []EventRef
}

type group struct {
	cs     *corrState
	key    string            // case-folded group-by values
	vals   map[string]string // group-by values as first seen
	events []entry           // sorted by time
	newest time.Time
	start  time.Time // window start for upper-bound conditions
	// Upper bounds: events[:win] are the open window's events; distinct
	// counts their values (value_count), kept as the window slides.
	win      int
	distinct map[string]int
}

// winCount counts en, an event of the open window, into distinct.
func (g *group) winCount(en *entry, delta int) {
	if g.cs.c.Type != sigma.ValueCount || en.value == "" {
		return
	}
	if g.distinct == nil {
		g.distinct = map[string]int{}
	}
	if n := g.distinct[en.value] + delta; n > 0 {
		g.distinct[en.value] = n
	} else {
		delete(g.distinct, en.value)
	}
}

// winDrop removes the first k events, all inside the open window.
func (g *group) winDrop(k int) {
	for i := range g.events[:k] {
		g.winCount(&g.events[i], -1)
	}
	g.events = g.events[k:]
	g.win -= k
}

// winExtend takes into the open window the events up to its deadline.
func (g *group) winExtend() {
	end := g.deadline()
	for g.win < len(g.events) && !g.events[g.win].t.After(end) {
		g.winCount(&g.events[g.win], 1)
		g.win++
	}
}

// deadline is the end of an upper-bound group's open window.
func (g *group) deadline() time.Time { return g.start.Add(g.cs.c.Timespan) }

// winHeap orders upper-bound groups by window deadline, then correlation
// and group key, so windows are decided in a deterministic order. An
// upper-bound group is in the heap exactly while it holds events.
type winHeap []*group

func (h winHeap) Len() int { return len(h) }
func (h winHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if da, db := a.deadline(), b.deadline(); !da.Equal(db) {
		return da.Before(db)
	}
	if a.cs.order != b.cs.order {
		return a.cs.order < b.cs.order
	}
	return a.key < b.key
}
func (h winHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *winHeap) Push(x any)   { *h = append(*h, x.(*group)) }
func (h *winHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return g
}

// newCorrelator prepares the correlation rules of rs. Correlations that
// cannot run (a referenced rule is not loaded, no timespan) are left out
// and reported, one message each.
func newCorrelator(rs *RuleSet) (*correlator, []string) {
	corrs, errs := usableCorrelations(rs)
	if len(corrs) == 0 {
		return nil, errs
	}
	e := &correlator{byRule: map[*sigma.Rule][]*corrState{}, suppressed: map[*sigma.Rule]bool{}, ignored: map[string]int64{}}
	rulesByRef := map[string]*sigma.Rule{}
	for _, r := range rs.Rules {
		if r.ID != "" {
			rulesByRef[r.ID] = r
		}
		if r.Name != "" {
			rulesByRef[r.Name] = r
		}
	}
	corrByRef := map[string]*corrState{}
	paths := []string{"@timestamp"}
	pathIdx := map[string]int{"@timestamp": 0}
	field := func(p string) int {
		if i, ok := pathIdx[p]; ok {
			return i
		}
		pathIdx[p] = len(paths)
		paths = append(paths, p)
		return len(paths) - 1
	}
	for _, c := range corrs {
		cs := &corrState{c: c, ref: RefOf(&c.Meta), inputs: map[string]int{}, groups: map[string]*group{}, emit: true, order: len(e.corrs)}
		for _, op := range c.Condition.Ops {
			if op.Op == "lt" || op.Op == "lte" || op.Op == "eq" || op.Op == "neq" {
				cs.upper = true
			}
		}
		for i, ref := range c.Rules {
			cs.inputs[ref] = i
			var gi []int
			var gn []string
			for _, g := range c.GroupBy {
				name := g
				for _, a := range c.Aliases {
					if a.Name == g {
						if f, ok := a.Fields[ref]; ok {
							name = f
						}
					}
				}
				gi = append(gi, field(name))
				gn = append(gn, name)
			}
			cs.groupIdx = append(cs.groupIdx, gi)
			cs.groupName = append(cs.groupName, gn)
			vi, vn := -1, ""
			if f := c.Condition.Field; f != "" {
				vn = f
				for _, a := range c.Aliases {
					if a.Name == f {
						if af, ok := a.Fields[ref]; ok {
							vn = af
						}
					}
				}
				vi = field(vn)
			}
			cs.valIdx = append(cs.valIdx, vi)
			cs.valName = append(cs.valName, vn)
		}
		e.corrs = append(e.corrs, cs)
		if c.ID != "" {
			corrByRef[c.ID] = cs
		}
		if c.Name != "" {
			corrByRef[c.Name] = cs
		}
	}
	for _, cs := range e.corrs {
		for _, ref := range cs.c.Rules {
			if r, ok := rulesByRef[ref]; ok {
				e.byRule[r] = append(e.byRule[r], cs)
				if !cs.c.Generate {
					if _, seen := e.suppressed[r]; !seen {
						e.suppressed[r] = true
					}
				} else {
					e.suppressed[r] = false
				}
				continue
			}
			if p, ok := corrByRef[ref]; ok {
				p.parents = append(p.parents, cs)
				if !cs.c.Generate {
					p.emit = false
				}
				continue
			}
		}
	}
	// A correlation referenced with generate: true by any parent is written.
	for _, cs := range e.corrs {
		for _, p := range cs.parents {
			if p.c.Generate {
				cs.emit = true
			}
		}
	}
	e.fields = ecs.NewFields(paths)
	e.tsIdx = 0
	return e, errs
}

// usableCorrelations returns the correlations whose references all
// resolve (to loaded rules or to usable correlations), with a message for
// each one left out.
func usableCorrelations(rs *RuleSet) ([]*sigma.Correlation, []string) {
	known := map[string]bool{}
	for _, r := range rs.Rules {
		for _, n := range refsOf(&r.Meta) {
			known[n] = true
		}
	}
	ok := map[*sigma.Correlation]bool{}
	var errs []string
	reason := map[*sigma.Correlation]string{}
	// Iterate to a fixed point: chains resolve bottom-up.
	for changed := true; changed; {
		changed = false
		for _, c := range rs.Correlations {
			if ok[c] {
				continue
			}
			if c.Timespan <= 0 {
				reason[c] = "timespan must be positive"
				continue
			}
			missing := ""
			for _, ref := range c.Rules {
				if !known[ref] {
					missing = ref
					break
				}
			}
			if missing != "" {
				reason[c] = fmt.Sprintf("referenced rule %q is not loaded (or could not be compiled)", missing)
				continue
			}
			ok[c] = true
			changed = true
			for _, n := range refsOf(&c.Meta) {
				known[n] = true
			}
		}
	}
	var out []*sigma.Correlation
	for _, c := range rs.Correlations {
		if ok[c] {
			out = append(out, c)
		} else {
			errs = append(errs, fmt.Sprintf("%s: correlation %s: %s", c.Path, c.Title, reason[c]))
		}
	}
	return out, errs
}

// refsOf returns the names a rule may be referenced by.
func refsOf(m *sigma.Meta) []string {
	var out []string
	if m.ID != "" {
		out = append(out, m.ID)
	}
	if m.Name != "" {
		out = append(out, m.Name)
	}
	return out
}

// feed processes one base rule match.
func (e *correlator) feed(m Match, write func(Match) error) error {
	if m.Source == nil || !e.suppressed[m.Source] {
		if err := write(m); err != nil {
			return err
		}
	}
	targets := e.byRule[m.Source]
	if len(targets) == 0 {
		return nil
	}
	if err := e.fields.Extract(m.Event, &e.ev); err != nil {
		e.ignored["event not decodable"]++
		return nil
	}
	t, ok := e.eventTime()
	if !ok {
		e.ignored["no parsable @timestamp"]++
		return nil
	}
	if t.After(e.maxTime) {
		// Windows that end before t are complete: decide them first.
		if err := e.closeBefore(t, false, write); err != nil {
			return err
		}
		e.maxTime = t
	}
	for _, cs := range targets {
		in := -1
		for _, r := range refsOf(&m.Source.Meta) {
			if i, ok := cs.inputs[r]; ok {
				in = i
				break
			}
		}
		if in < 0 {
			continue
		}
		vals := make([]string, len(cs.groupIdx[in]))
		for i, fi := range cs.groupIdx[in] {
			vals[i] = e.text(fi)
		}
		en := entry{t: t, input: in, ref: []EventRef{m.EventRef}}
		if vi := cs.valIdx[in]; vi >= 0 {
			// Sigma values are case-insensitive: value_count counts
			// case-folded values.
			en.value = match.Fold(e.text(vi))
			en.num, en.hasN = parseFloat(en.value)
		}
		if err := e.add(cs, vals, en, write); err != nil {
			return err
		}
	}
	e.fed++
	if e.fed%1024 == 0 {
		e.sweep()
	}
	return nil
}

func (e *correlator) eventTime() (time.Time, bool) {
	for _, v := range e.ev.Values(e.tsIdx) {
		if v.Kind == ecs.String {
			if t, err := ecs.ParseTimestamp(v.Str); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func (e *correlator) text(fi int) string {
	for _, v := range e.ev.Values(fi) {
		switch v.Kind {
		case ecs.String, ecs.Number:
			return string(v.Str)
		case ecs.Bool:
			return strconv.FormatBool(v.Bool)
		}
	}
	return ""
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f)
}

func (e *correlator) add(cs *corrState, vals []string, en entry, write func(Match) error) error {
	folded := make([]string, len(vals))
	for i, v := range vals {
		folded[i] = match.Fold(v)
	}
	key := strings.Join(folded, "\x00")
	g := cs.groups[key]
	span := cs.c.Timespan
	if cs.upper {
		if g == nil || len(g.events) == 0 {
			if en.t.Add(span).Before(e.wm) {
				e.ignored["late event (its window was already decided)"]++
				return nil
			}
		} else if en.t.Before(g.start) {
			e.ignored["late event (its window was already decided)"]++
			return nil
		}
	}
	if g == nil {
		g = &group{cs: cs, key: key, vals: map[string]string{}}
		for i, name := range cs.c.GroupBy {
			g.vals[name] = vals[i]
		}
		cs.groups[key] = g
	}
	if cs.upper {
		if len(g.events) == 0 {
			g.start, g.win = en.t, 0
			heap.Push(&e.wins, g)
		}
		insert(g, en)
		if !en.t.After(g.deadline()) {
			// Sorted insertion put it inside events[:win+1].
			g.win++
			g.winCount(&en, 1)
		}
		return nil
	}
	if en.t.After(g.newest) {
		g.newest = en.t
	}
	low := g.newest.Add(-span)
	if en.t.Before(low) {
		e.ignored["late event (older than its group's window)"]++
		return nil
	}
	insert(g, en)
	// Evict what slid out of the window.
	i := 0
	for i < len(g.events) && g.events[i].t.Before(low) {
		i++
	}
	g.events = g.events[i:]
	if v, ok := cs.evaluate(g.events); ok {
		cm := cs.matchOf(g.vals, g.events, time.Time{}, time.Time{}, v)
		g.events = nil
		delete(cs.groups, key)
		return e.fire(cs, cm, write)
	}
	return nil
}

func insert(g *group, en entry) {
	i := len(g.events)
	for i > 0 && g.events[i-1].t.After(en.t) {
		i--
	}
	g.events = append(g.events, entry{})
	copy(g.events[i+1:], g.events[i:])
	g.events[i] = en
	if en.t.After(g.newest) {
		g.newest = en.t
	}
}

// closeBefore decides, oldest deadline first, the upper-bound windows
// that end before t (all of them when final), advancing e.wm through
// their deadlines. Deciding a window may feed parent correlations, whose
// new windows are decided in the same pass when they end before t.
func (e *correlator) closeBefore(t time.Time, final bool, write func(Match) error) error {
	for len(e.wins) > 0 {
		g := e.wins[0]
		d := g.deadline()
		if !final && !d.Before(t) {
			break
		}
		heap.Pop(&e.wins)
		if d.After(e.wm) {
			e.wm = d
		}
		if err := e.decide(g, write); err != nil {
			return err
		}
	}
	if t.After(e.wm) {
		e.wm = t
	}
	return nil
}

// decide evaluates the window [g.start, g.start+timespan] of an
// upper-bound group. When the condition holds, the window fires and its
// events are consumed; otherwise the window slides to the group's next
// event time. The group is re-queued with its next window, or freed.
func (e *correlator) decide(g *group, write func(Match) error) error {
	cs := g.cs
	end := g.deadline()
	n := g.win
	var v float64
	var ok bool
	if cs.c.Type == sigma.ValueCount {
		v = float64(len(g.distinct))
		ok = n > 0 && cs.holds(v)
	} else {
		v, ok = cs.evaluate(g.events[:n])
	}
	var cm *Match
	if ok {
		m := cs.matchOf(g.vals, g.events[:n], g.start, end, v)
		cm = &m
	} else {
		// Slide: drop the events at the window's start time.
		n = 0
		for n < len(g.events) && g.events[n].t.Equal(g.start) {
			n++
		}
	}
	g.winDrop(n)
	if len(g.events) == 0 {
		g.events, g.distinct = nil, nil
		delete(cs.groups, g.key)
	} else {
		g.start = g.events[0].t
		g.winExtend()
		heap.Push(&e.wins, g)
	}
	if cm != nil {
		return e.fire(cs, *cm, write)
	}
	return nil
}

// fire writes a correlation match and feeds it to the correlations that
// reference this one.
func (e *correlator) fire(cs *corrState, cm Match, write func(Match) error) error {
	if cs.emit {
		if err := write(cm); err != nil {
			return err
		}
	}
	for _, p := range cs.parents {
		in := -1
		for _, r := range refsOf(&cs.c.Meta) {
			if i, ok := p.inputs[r]; ok {
				in = i
				break
			}
		}
		if in < 0 {
			continue
		}
		vals := make([]string, len(p.groupName[in]))
		for i, name := range p.groupName[in] {
			vals[i] = cm.Correlation.Group[name]
		}
		en := entry{t: cm.Correlation.Window.End, input: in, ref: cm.Correlation.Events,
			num: cm.Correlation.Value, hasN: true, value: strconv.FormatFloat(cm.Correlation.Value, 'g', -1, 64)}
		if err := e.add(p, vals, en, write); err != nil {
			return err
		}
	}
	return nil
}

// sweep frees lower-bound groups whose windows ended before the newest
// event time of the stream. (Upper-bound groups are freed as their windows
// are decided.)
func (e *correlator) sweep() {
	for _, cs := range e.corrs {
		if cs.upper {
			continue
		}
		for k, g := range cs.groups {
			if g.newest.Add(cs.c.Timespan).Before(e.maxTime) {
				delete(cs.groups, k)
			}
		}
	}
}

// flush ends the stream: the open windows of upper-bound conditions are
// decided with the events they hold, oldest deadline first.
func (e *correlator) flush(write func(Match) error) error {
	return e.closeBefore(time.Time{}, true, write)
}

// evaluate computes the correlation's value over a window's events and
// reports whether the condition holds.
func (cs *corrState) evaluate(evs []entry) (float64, bool) {
	if len(evs) == 0 {
		return 0, false
	}
	c := cs.c
	var v float64
	switch c.Type {
	case sigma.EventCount:
		v = float64(len(evs))
	case sigma.ValueCount:
		seen := map[string]bool{}
		for _, e := range evs {
			if e.value != "" {
				seen[e.value] = true
			}
		}
		v = float64(len(seen))
	case sigma.Temporal:
		seen := map[int]bool{}
		for _, e := range evs {
			seen[e.input] = true
		}
		v = float64(len(seen))
		if len(c.Condition.Ops) == 0 {
			return v, len(seen) == len(c.Rules)
		}
	case sigma.TemporalOrdered:
		// The longest prefix of c.Rules seen in order.
		next := 0
		for _, e := range evs {
			if next < len(c.Rules) && e.input == next {
				next++
			}
		}
		v = float64(next)
		if len(c.Condition.Ops) == 0 {
			return v, next == len(c.Rules)
		}
	case sigma.ValueSum, sigma.ValueAvg, sigma.ValuePercentile:
		var nums []float64
		for _, e := range evs {
			if e.hasN {
				nums = append(nums, e.num)
			}
		}
		if len(nums) == 0 {
			return 0, false
		}
		switch c.Type {
		case sigma.ValueSum:
			for _, n := range nums {
				v += n
			}
		case sigma.ValueAvg:
			for _, n := range nums {
				v += n
			}
			v /= float64(len(nums))
		default:
			v = percentile(nums, c.Condition.Percentile)
		}
	default:
		return 0, false
	}
	return v, cs.holds(v)
}

// holds reports whether value v meets every comparison of the condition.
func (cs *corrState) holds(v float64) bool {
	for _, op := range cs.c.Condition.Ops {
		if !compareOp(op.Op, v, op.Value) {
			return false
		}
	}
	return true
}

// percentile is the linear-interpolation percentile (p in 0..100).
func percentile(nums []float64, p float64) float64 {
	s := append([]float64(nil), nums...)
	sort.Float64s(s)
	if p <= 0 {
		return s[0]
	}
	if p >= 100 {
		return s[len(s)-1]
	}
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func compareOp(op string, v, x float64) bool {
	switch op {
	case "gt":
		return v > x
	case "gte":
		return v >= x
	case "lt":
		return v < x
	case "lte":
		return v <= x
	case "eq":
		return v == x
	case "neq":
		return v != x
	}
	return false
}

// matchOf builds the match of a window's events. Lower-bound windows
// (zero start) span their events; upper-bound windows report their full
// extent [start, start+timespan].
func (cs *corrState) matchOf(vals map[string]string, evs []entry, start, end time.Time, v float64) Match {
	cm := &CorrelationMatch{Type: cs.c.Type, Group: map[string]string{}, Value: v}
	for k, x := range vals {
		cm.Group[k] = x
	}
	for i, e := range evs {
		if i == 0 || e.t.Before(cm.Window.Start) {
			cm.Window.Start = e.t
		}
		if e.t.After(cm.Window.End) {
			cm.Window.End = e.t
		}
		cm.Events = append(cm.Events, e.ref...)
	}
	if !start.IsZero() {
		cm.Window.Start, cm.Window.End = start, end
	}
	cm.Window.Start = cm.Window.Start.UTC()
	cm.Window.End = cm.Window.End.UTC()
	return Match{Rule: cs.ref, Correlation: cm}
}
