package hunt

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// The correlation engine runs Sigma correlation rules over the ordered
// stream of rule matches.
//
// Windows slide over event time (@timestamp), per group (the values of the
// group-by fields, through aliases). For conditions that only have lower
// bounds (gt, gte; temporal types without a condition) a group fires as soon
// as the events inside [t-timespan, t] meet the condition, t being the
// newest event time of the group; its state is then cleared, so one burst
// gives one match. Conditions with an upper bound (lt, lte, eq, neq) can
// only be decided when a window is complete: a window opens at a group's
// first event and is evaluated when an event of the group arrives after
// its end, or when the stream ends.
//
// Events may be slightly out of order: an event is inserted at its time
// position inside its group's window; an event older than the window's
// start (the newest time seen for the group minus timespan) no longer
// counts for that group. State is kept only for open windows: groups whose
// newest event is older than the newest event of the stream minus
// timespan are closed and freed.
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
	fed        int
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
	key    string
	vals   map[string]string
	events []entry // sorted by time
	newest time.Time
	start  time.Time // window start for upper-bound conditions
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
		cs := &corrState{c: c, ref: RefOf(&c.Meta), inputs: map[string]int{}, groups: map[string]*group{}, emit: true}
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
			en.value = e.text(vi)
			en.num, en.hasN = parseFloat(en.value)
		}
		if err := e.add(cs, vals, en, write); err != nil {
			return err
		}
	}
	e.fed++
	if e.fed%1024 == 0 {
		return e.sweep(write, false)
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
	key := strings.Join(vals, "\x00")
	g := cs.groups[key]
	if g == nil {
		g = &group{key: key, vals: map[string]string{}}
		for i, name := range cs.c.GroupBy {
			g.vals[name] = vals[i]
		}
		cs.groups[key] = g
	}
	span := cs.c.Timespan
	if cs.upper {
		if len(g.events) > 0 && en.t.After(g.start.Add(span)) {
			// The window is complete: decide it, then open a new one.
			if err := e.close(cs, g, write); err != nil {
				return err
			}
		}
		if len(g.events) == 0 {
			g.start = en.t
		}
		if en.t.Before(g.start) {
			return nil // late: before the open window
		}
		insert(g, en)
		return nil
	}
	if en.t.After(g.newest) {
		g.newest = en.t
	}
	low := g.newest.Add(-span)
	if en.t.Before(low) {
		return nil // late event
	}
	insert(g, en)
	// Evict what slid out of the window.
	i := 0
	for i < len(g.events) && g.events[i].t.Before(low) {
		i++
	}
	g.events = g.events[i:]
	if v, ok := cs.evaluate(g.events); ok {
		cm := cs.matchOf(g, v)
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

// close decides a complete window of an upper-bound condition.
func (e *correlator) close(cs *corrState, g *group, write func(Match) error) error {
	evs := g.events
	g.events = nil
	if v, ok := cs.evaluate(evs); ok {
		gg := *g
		gg.events = evs
		return e.fire(cs, cs.matchOf(&gg, v), write)
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

// sweep closes and frees groups whose windows ended before the newest
// event time of the stream (all of them when final). Groups are handled in
// key order, so the output is deterministic.
func (e *correlator) sweep(write func(Match) error, final bool) error {
	for _, cs := range e.corrs {
		var keys []string
		for k, g := range cs.groups {
			end := g.newest.Add(cs.c.Timespan)
			if cs.upper {
				end = g.start.Add(cs.c.Timespan)
			}
			if final || end.Before(e.maxTime) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			g := cs.groups[k]
			if g == nil {
				continue
			}
			delete(cs.groups, k)
			if cs.upper && len(g.events) > 0 {
				if err := e.close(cs, g, write); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// flush ends the stream: open windows of upper-bound conditions are
// decided.
func (e *correlator) flush(write func(Match) error) error { return e.sweep(write, true) }

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
	for _, op := range c.Condition.Ops {
		if !compareOp(op.Op, v, op.Value) {
			return v, false
		}
	}
	return v, true
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

func (cs *corrState) matchOf(g *group, v float64) Match {
	cm := &CorrelationMatch{Type: cs.c.Type, Group: map[string]string{}, Value: v}
	for k, x := range g.vals {
		cm.Group[k] = x
	}
	for i, e := range g.events {
		if i == 0 || e.t.Before(cm.Window.Start) {
			cm.Window.Start = e.t
		}
		if e.t.After(cm.Window.End) {
			cm.Window.End = e.t
		}
		cm.Events = append(cm.Events, e.ref...)
	}
	cm.Window.Start = cm.Window.Start.UTC()
	cm.Window.End = cm.Window.End.UTC()
	return Match{Rule: cs.ref, Correlation: cm}
}
