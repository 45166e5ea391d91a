package hunt

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// Rules shared by the correlation table tests.
const transferRule = `title: Transfer
name: transfer
logsource: {category: network_connection, product: linux}
detection:
  sel:
    event.action: transfer
  condition: sel
`

func fail(sec int, user string) string {
	return ev(sec, fmt.Sprintf(`"event":{"outcome":"failure"},"user":{"name":%q}`, user))
}

func hostFail(sec int, host, user string) string {
	return ev(sec, fmt.Sprintf(`"event":{"outcome":"failure"},"host":{"name":%q},"user":{"name":%q}`, host, user))
}

// xfer is a transfer by user of bytes (a JSON value as written: a number,
// a numeric string or anything else).
func xfer(sec int, user, bytes string) string {
	return ev(sec, fmt.Sprintf(`"event":{"action":"transfer"},"user":{"name":%q},"bytes":%s`, user, bytes))
}

// corrDoc is a correlation document over rule ref, grouped by groupBy,
// with a 1 m timespan.
func corrDoc(typ, ref, groupBy, cond string) string {
	return fmt.Sprintf(`---
title: Correlation under test
id: cccccccc-cccc-cccc-cccc-cccccccccccc
correlation:
  type: %s
  rules: [%s]
  group-by: [%s]
  timespan: 1m
  condition: {%s}
`, typ, ref, groupBy, cond)
}

// summary renders a correlation match as
// "group value [lines] windowStart-windowEnd" (seconds after t0).
func summary(c *CorrelationMatch) string {
	var keys []string
	for k := range c.Group {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var g []string
	for _, k := range keys {
		g = append(g, c.Group[k])
	}
	return fmt.Sprintf("%s %g %v %d-%d", strings.Join(g, ","), c.Value, lineNums(c),
		int(c.Window.Start.Sub(t0)/time.Second), int(c.Window.End.Sub(t0)/time.Second))
}

// TestCorrelationConditions runs each condition operator of each
// aggregating correlation type over hand-written events. Upper-bound
// conditions are decided on complete windows [s, s+1m] anchored at the
// group's events: when a later event of the stream passes the window's
// end, or at the end of the input.
func TestCorrelationConditions(t *testing.T) {
	runCorrCases(t, []corrCase{
		{
			name:  "event_count lt: closed by a later event of another group, then at end of input",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "lt: 3"),
			events: []string{
				fail(0, "bob"),     // 1
				fail(10, "bob"),    // 2
				fail(100, "alice"), // 3: past bob's window [0,60]
			},
			want: []string{"bob 2 [1 2] 0-60", "alice 1 [3] 100-160"},
		},
		{
			name:  "event_count lt: a burst fails, the window slides to its tail",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "lt: 3"),
			events: []string{
				fail(0, "carol"),  // 1: [0,60] holds 4
				fail(5, "carol"),  // 2: [5,65] holds 3
				fail(10, "carol"), // 3: [10,70] holds 2
				fail(15, "carol"), // 4
			},
			want: []string{"carol 2 [3 4] 10-70"},
		},
		{
			name:  "event_count lt: nothing below the bound",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "lt: 1"),
			events: []string{
				fail(0, "bob"),
				fail(200, "bob"),
			},
		},
		{
			name:  "event_count lte: the window end is inclusive",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "lte: 2"),
			events: []string{
				fail(0, "bob"),  // 1
				fail(60, "bob"), // 2: exactly at the end of [0,60]
				fail(61, "bob"), // 3: next window [61,121]
			},
			want: []string{"bob 2 [1 2] 0-60", "bob 1 [3] 61-121"},
		},
		{
			name:  "event_count eq: fired windows consume their events",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "eq: 2"),
			events: []string{
				fail(0, "bob"),     // 1
				fail(30, "bob"),    // 2: [0,60] = 2, fires
				fail(200, "bob"),   // 3: [200,260] = 3, fails
				fail(210, "bob"),   // 4: [210,270] = 2, fires
				fail(220, "bob"),   // 5
				fail(300, "alice"), // 6: closes bob's windows; alice's [300,360] = 1 at the end
			},
			want: []string{"bob 2 [1 2] 0-60", "bob 2 [4 5] 210-270"},
		},
		{
			name:  "event_count neq",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "neq: 1"),
			events: []string{
				fail(0, "bob"),
				fail(10, "bob"),
				fail(20, "alice"),
			},
			want: []string{"bob 2 [1 2] 0-60"},
		},
		{
			name:  "event_count range gt/lte: equal deadlines decided in group order",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "gt: 1, lte: 2"),
			events: []string{
				fail(0, "bob"),   // 1: [0,60] holds 3
				fail(0, "alice"), // 2: [0,60] holds 1
				fail(10, "bob"),  // 3: [10,70] holds 2
				fail(20, "bob"),  // 4
			},
			want: []string{"bob 2 [3 4] 10-70"},
		},
		{
			name:  "event_count eq: out-of-order event inside the open window",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "eq: 3"),
			events: []string{
				fail(0, "bob"),  // 1
				fail(30, "bob"), // 2
				fail(20, "bob"), // 3: older than 2, still in [0,60]
			},
			want: []string{"bob 3 [1 3 2] 0-60"},
		},
		{
			name:  "event_count lt: an event whose window was already decided is late",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "lt: 3"),
			events: []string{
				fail(0, "bob"),   // 1
				fail(100, "bob"), // 2: decides [0,60]
				fail(5, "bob"),   // 3: [5,65] ended before 100: late
			},
			want: []string{"bob 1 [1] 0-60", "bob 1 [2] 100-160"},
			late: 1,
		},
		{
			name:  "event_count gte: case-insensitive group-by",
			rules: failedLogin + corrDoc("event_count", "failed_login", "user.name", "gte: 3"),
			events: []string{
				fail(0, "Bob"),  // 1: the group keeps the first spelling
				fail(10, "BOB"), // 2
				fail(20, "bob"), // 3
			},
			want: []string{"Bob 3 [1 2 3] 0-20"},
		},
		{
			name:  "value_count lt: values and groups compare case-insensitively",
			rules: failedLogin + corrDoc("value_count", "failed_login", "host.name", "field: user.name, lt: 2"),
			events: []string{
				hostFail(0, "H1", "Bob"),   // 1
				hostFail(5, "h2", "alice"), // 2
				hostFail(10, "h1", "bob"),  // 3
				hostFail(15, "h2", "eve"),  // 4: h2's [5,65] has 2 values; [15,75] has 1
				hostFail(20, "h1", "BOB"),  // 5: h1 still 1 value
			},
			want: []string{"H1 1 [1 3 5] 0-60", "h2 1 [4] 15-75"},
		},
		{
			name:  "value_count gte: case variants are one value",
			rules: failedLogin + corrDoc("value_count", "failed_login", "host.name", "field: user.name, gte: 2"),
			events: []string{
				hostFail(0, "h1", "Bob"),  // 1
				hostFail(10, "h1", "bob"), // 2: still 1
				hostFail(20, "h1", "eve"), // 3: 2 values
				hostFail(30, "h1", "mal"), // 4: new burst
				hostFail(40, "h1", "MAL"), // 5
				hostFail(50, "h2", "mal"), // 6
				hostFail(55, "h2", "Eve"), // 7
			},
			want: []string{"h1 2 [1 2 3] 0-20", "h2 2 [6 7] 50-55"},
		},
		{
			name:  "value_count eq: closed by a later event",
			rules: failedLogin + corrDoc("value_count", "failed_login", "host.name", "field: user.name, eq: 2"),
			events: []string{
				hostFail(0, "h1", "a"),   // 1
				hostFail(10, "h1", "b"),  // 2
				hostFail(20, "h1", "A"),  // 3
				hostFail(90, "h9", "z"),  // 4: decides h1's [0,60]
				hostFail(100, "h1", "c"), // 5
			},
			want: []string{"h1 2 [1 2 3] 0-60"},
		},
		{
			name:  "value_sum lte: a failing window slides",
			rules: transferRule + corrDoc("value_sum", "transfer", "user.name", "field: bytes, lte: 100"),
			events: []string{
				xfer(0, "u1", "60"),  // 1
				xfer(10, "u2", "70"), // 2
				xfer(20, "u2", "50"), // 3: u2 [10,70] = 120 fails, [20,80] = 50
				xfer(30, "u1", "40"), // 4: u1 [0,60] = 100
			},
			want: []string{"u1 100 [1 4] 0-60", "u2 50 [3] 20-80"},
		},
		{
			name:  "value_sum gt (lower bound) fires at once",
			rules: transferRule + corrDoc("value_sum", "transfer", "user.name", "field: bytes, gt: 100"),
			events: []string{
				xfer(0, "u1", "60"),
				xfer(30, "u1", `"41"`),
				xfer(40, "u1", "1"),
			},
			want: []string{"u1 101 [1 2] 0-30"},
		},
		{
			name:  "value_avg range: numeric strings count, other values do not",
			rules: transferRule + corrDoc("value_avg", "transfer", "user.name", "field: bytes, gte: 10, lt: 100"),
			events: []string{
				xfer(0, "u1", "5"),       // 1
				xfer(0, "u2", `"200"`),   // 2: u2 avg 200
				xfer(10, "u1", "50"),     // 3: u1 avg 27.5
				xfer(100, "u2", `"abc"`), // 4: decides both [0,60]; no number in u2's [100,160]
				xfer(200, "u1", "10"),    // 5: u1 [200,260] at the end
			},
			want: []string{"u1 27.5 [1 3] 0-60", "u1 10 [5] 200-260"},
		},
		{
			name:  "value_percentile lt: median",
			rules: transferRule + corrDoc("value_percentile", "transfer", "user.name", "field: bytes, percentile: 50, lt: 100"),
			events: []string{
				xfer(0, "u1", "10"),    // 1
				xfer(1, "u2", "500"),   // 2
				xfer(10, "u1", "1000"), // 3
				xfer(11, "u2", "600"),  // 4
				xfer(20, "u1", "20"),   // 5: u1 median 20
			},
			want: []string{"u1 20 [1 3 5] 0-60"},
		},
		{
			name:  "value_percentile gte: p90 slides",
			rules: transferRule + corrDoc("value_percentile", "transfer", "user.name", "field: bytes, percentile: 90, eq: 910"),
			events: []string{
				xfer(0, "u1", "100"),   // 1: [0,60] p90 of 100,1000 = 910
				xfer(30, "u1", "1000"), // 2
				xfer(70, "u1", "5"),    // 3: [70,130] = 5
			},
			want: []string{"u1 910 [1 2] 0-60"},
		},
	})
}

// corrCase is one table case: the rules (multi-document YAML), the events
// (one NDJSON line each), the correlation matches expected (see summary),
// in output order, and the number of late events.
type corrCase struct {
	name   string
	rules  string
	events []string
	want   []string
	late   int64
}

// runCorrCases runs each case through hunt.Run with one and with three
// workers (same output bytes).
func runCorrCases(t *testing.T, cases []corrCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := parseRules(t, tc.rules)
			logs := writeEvents(t, tc.events)
			lines, out1, st := runHunt(t, rs, 1, logs)
			var got []string
			for _, l := range corrLines(lines) {
				got = append(got, summary(l.Correlation))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if n := st.CorrelationIgnored["late event (its window was already decided)"]; n != tc.late {
				t.Errorf("late = %d, want %d (%v)", n, tc.late, st.CorrelationIgnored)
			}
			if _, out3, _ := runHunt(t, rs, 3, logs); out3 != out1 {
				t.Errorf("--workers 3 output differs:\n%s\nvs\n%s", out3, out1)
			}
		})
	}
}

// TestUpperBoundOperators fills in the operator matrix of the value types
// on one small data set each. Transfers by u1: 10 B at 0 s, 20 B at 20 s,
// 5 B at 100 s, so the windows met are [0,60] = {10, 20}, [20,80] = {20}
// (after a failed [0,60]) and [100,160] = {5}. Logins on h1: a at 0 s, B at
// 20 s, b at 30 s, c at 100 s: [0,60] has 2 values, [20,80] 1, [100,160] 1.
func TestUpperBoundOperators(t *testing.T) {
	xfers := []string{xfer(0, "u1", "10"), xfer(20, "u1", "20"), xfer(100, "u1", "5")}
	logins := []string{hostFail(0, "h1", "a"), hostFail(20, "h1", "B"), hostFail(30, "h1", "b"), hostFail(100, "h1", "c")}
	value := func(typ, cond string, want ...string) corrCase {
		return corrCase{name: typ + " " + cond, rules: transferRule + corrDoc(typ, "transfer", "user.name", "field: bytes, "+cond),
			events: xfers, want: want}
	}
	count := func(cond string, want ...string) corrCase {
		return corrCase{name: "value_count " + cond, rules: failedLogin + corrDoc("value_count", "failed_login", "host.name", "field: user.name, "+cond),
			events: logins, want: want}
	}
	runCorrCases(t, []corrCase{
		value("value_sum", "lt: 30", "u1 20 [2] 20-80", "u1 5 [3] 100-160"),
		value("value_sum", "eq: 30", "u1 30 [1 2] 0-60"),
		value("value_sum", "neq: 30", "u1 20 [2] 20-80", "u1 5 [3] 100-160"),
		value("value_sum", "gt: 4, lt: 25", "u1 20 [2] 20-80", "u1 5 [3] 100-160"),
		value("value_avg", "lt: 15", "u1 5 [3] 100-160"),
		value("value_avg", "lte: 15", "u1 15 [1 2] 0-60", "u1 5 [3] 100-160"),
		value("value_avg", "eq: 20", "u1 20 [2] 20-80"),
		value("value_avg", "neq: 15", "u1 20 [2] 20-80", "u1 5 [3] 100-160"),
		value("value_percentile", "percentile: 50, lte: 15", "u1 15 [1 2] 0-60", "u1 5 [3] 100-160"),
		value("value_percentile", "percentile: 50, neq: 15", "u1 20 [2] 20-80", "u1 5 [3] 100-160"),
		value("value_percentile", "percentile: 50, gte: 16, lte: 20", "u1 20 [2] 20-80"),
		count("lte: 1", "h1 1 [2 3] 20-80", "h1 1 [4] 100-160"),
		count("neq: 2", "h1 1 [2 3] 20-80", "h1 1 [4] 100-160"),
		count("gt: 1, lte: 2", "h1 2 [1 2 3] 0-60"),
	})
}

const successLogin = `title: Successful login
id: 33333333-3333-3333-3333-333333333333
name: success_login
logsource: {product: linux, service: auth}
detection:
  sel:
    event.outcome: success
  condition: sel
`

// TestChainedUpperBound: an upper-bound correlation's match enters the
// correlations that reference it at its window end, before any later
// window is decided, so chains see it in event-time order even when it is
// decided by an event long after the window.
func TestChainedUpperBound(t *testing.T) {
	few := failedLogin + "---\n" + successLogin + `---
title: Few failures
id: 44444444-4444-4444-4444-444444444444
name: few_failures
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 1m
  condition: {lte: 2}
`
	t.Run("into temporal_ordered", func(t *testing.T) {
		rs := parseRules(t, few+`---
title: Few failures then success
id: 55555555-5555-5555-5555-555555555555
correlation:
  type: temporal_ordered
  rules: [few_failures, success_login]
  group-by: [user.name]
  timespan: 5m
`)
		logs := writeEvents(t, []string{
			fail(0, "bob"),  // 1
			fail(20, "bob"), // 2: [0,60] holds 2
			ev(90, `"event":{"outcome":"success"},"user":{"name":"bob"}`), // 3: decides [0,60], then enters the chain
			ev(95, `"event":{"outcome":"success"},"user":{"name":"eve"}`), // 4
		})
		lines, out1, _ := runHunt(t, rs, 1, logs)
		var got []string
		for _, l := range corrLines(lines) {
			got = append(got, l.Rule.ID[:1]+" "+summary(l.Correlation))
		}
		want := []string{"5 bob 2 [1 2 3] 60-90"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if _, out2, _ := runHunt(t, rs, 2, logs); out2 != out1 {
			t.Error("--workers 2 output differs")
		}
	})
	t.Run("into an upper-bound correlation after a gap", func(t *testing.T) {
		rs := parseRules(t, few+`---
title: Two quiet windows
id: 66666666-6666-6666-6666-666666666666
correlation:
  type: event_count
  rules: [few_failures]
  group-by: [user.name]
  timespan: 10m
  condition: {eq: 2}
  generate: true
`)
		logs := writeEvents(t, []string{
			fail(0, "bob"),     // 1: few_failures [0,60] = 1
			fail(120, "bob"),   // 2: decides it; [120,180] = 1
			fail(10000, "eve"), // 3: decides bob's [120,180] and the parent's [60,660] = 2
		})
		lines := mustLines(runHunt(t, rs, 1, logs))
		var got []string
		for _, l := range corrLines(lines) {
			got = append(got, l.Rule.ID[:1]+" "+summary(l.Correlation))
		}
		want := []string{"4 bob 1 [1] 0-60", "4 bob 1 [2] 120-180", "6 bob 2 [1 2] 60-660", "4 eve 1 [3] 10000-10060"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
}

// BenchmarkUpperBoundDense feeds one group 10 matches a second with a
// 1-minute upper-bound window that never holds (each of the ~600 windows
// a match anchors is evaluated once): the cost of sliding.
func BenchmarkUpperBoundDense(b *testing.B) {
	for _, cond := range []string{"event_count lt", "value_count lt"} {
		b.Run(cond, func(b *testing.B) {
			doc := corrDoc("event_count", "failed_login", "host.name", "lt: 2")
			if cond == "value_count lt" {
				doc = corrDoc("value_count", "failed_login", "host.name", "field: user.name, lt: 2")
			}
			f, errs := sigma.Parse("bench.yml", []byte(failedLogin+doc))
			if err := errs.Err(); err != nil {
				b.Fatal(err)
			}
			rs, err := NewRuleSet(f.Rules, f.Correlations, LoadOptions{Pipeline: "none", NoEventKind: true})
			if err != nil {
				b.Fatal(err)
			}
			const n = 5000
			evs := make([][]byte, n)
			for i := range evs {
				raw := fmt.Sprintf(`{"@timestamp":%q,"event":{"outcome":"failure"},"host":{"name":"h"},"user":{"name":"u%d"}}`,
					t0.Add(time.Duration(i)*100*time.Millisecond).Format(time.RFC3339Nano), i)
				evs[i] = []byte(raw)
			}
			write := func(Match) error { return nil }
			b.ReportAllocs()
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				eng, _ := newCorrelator(rs)
				for i, raw := range evs {
					m := Match{Source: rs.Rules[0], Event: raw, EventRef: EventRef{File: "x", Line: int64(i + 1)}}
					if err := eng.feed(m, write); err != nil {
						b.Fatal(err)
					}
				}
				if err := eng.flush(write); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/match")
		})
	}
}

// TestUpperBoundAgainstReference compares the engine, on seeded random
// in-order streams, with a direct reading of the window rule: per group
// (case-folded), windows [s, s+timespan] anchored at event times, oldest
// first; a window that holds fires and consumes its events, one that does
// not moves to the group's next event time. Matches come out by window
// end, then group.
func TestUpperBoundAgainstReference(t *testing.T) {
	conds := []struct{ typ, cond string }{
		{"event_count", "lt: 3"},
		{"event_count", "eq: 2"},
		{"event_count", "gt: 1, lte: 3"},
		{"event_count", "neq: 2"},
		{"value_count", "field: user.name, lt: 3"},
		{"value_count", "field: user.name, eq: 2"},
		{"value_sum", "field: bytes, lte: 50"},
		{"value_avg", "field: bytes, gte: 10, lt: 30"},
		{"value_percentile", "field: bytes, percentile: 50, lt: 20"},
	}
	users := []string{"a", "A", "b", "c", "C"}
	hosts := []string{"h1", "H1", "h2", "h3"}
	for _, cc := range conds {
		t.Run(cc.typ+" "+cc.cond, func(t *testing.T) {
			rs := parseRules(t, failedLogin+corrDoc(cc.typ, "failed_login", "host.name", cc.cond))
			cs := rs.Correlations[0]
			for seed := int64(1); seed <= 20; seed++ {
				rng := rand.New(rand.NewSource(seed))
				type rec struct {
					sec        int
					host, user string
					bytes      float64
					line       int64
				}
				var recs []rec
				sec := 0
				for i := 0; i < 200; i++ {
					sec += rng.Intn(25) // ties happen
					recs = append(recs, rec{sec, hosts[rng.Intn(len(hosts))], users[rng.Intn(len(users))], float64(rng.Intn(40)), int64(i + 1)})
				}
				// Reference.
				type win struct {
					end   int
					key   string
					lines []int64
					v     float64
				}
				var want []win
				byKey := map[string][]rec{}
				for _, r := range recs {
					k := strings.ToLower(r.host)
					byKey[k] = append(byKey[k], r)
				}
				for k, rs := range byKey {
					for i := 0; i < len(rs); {
						s := rs[i].sec
						j := i
						for j < len(rs) && rs[j].sec <= s+60 {
							j++
						}
						var v float64
						var nums []float64
						seen := map[string]bool{}
						for _, r := range rs[i:j] {
							seen[strings.ToLower(r.user)] = true
							nums = append(nums, r.bytes)
						}
						switch cs.Type {
						case "event_count":
							v = float64(j - i)
						case "value_count":
							v = float64(len(seen))
						case "value_sum", "value_avg":
							for _, n := range nums {
								v += n
							}
							if cs.Type == "value_avg" {
								v /= float64(len(nums))
							}
						case "value_percentile":
							v = percentile(nums, cs.Condition.Percentile)
						}
						ok := true
						for _, op := range cs.Condition.Ops {
							ok = ok && compareOp(op.Op, v, op.Value)
						}
						if ok {
							w := win{end: s + 60, key: k, v: v}
							for _, r := range rs[i:j] {
								w.lines = append(w.lines, r.line)
							}
							want = append(want, w)
							i = j
							continue
						}
						for i < len(rs) && rs[i].sec == s {
							i++
						}
					}
				}
				sort.SliceStable(want, func(a, b int) bool {
					if want[a].end != want[b].end {
						return want[a].end < want[b].end
					}
					return want[a].key < want[b].key
				})
				// Engine.
				eng, errs := newCorrelator(rs)
				if len(errs) > 0 {
					t.Fatal(errs)
				}
				var got []string
				write := func(m Match) error {
					if m.Correlation != nil {
						got = append(got, fmt.Sprintf("%d %s %g %v", int(m.Correlation.Window.End.Sub(t0)/time.Second),
							strings.ToLower(m.Correlation.Group["host.name"]), m.Correlation.Value, lineNums(m.Correlation)))
					}
					return nil
				}
				for _, r := range recs {
					raw := ev(r.sec, fmt.Sprintf(`"event":{"outcome":"failure"},"host":{"name":%q},"user":{"name":%q},"bytes":%g`, r.host, r.user, r.bytes))
					if err := eng.feed(Match{Source: rs.Rules[0], Event: []byte(raw), EventRef: EventRef{File: "x", Line: r.line}}, write); err != nil {
						t.Fatal(err)
					}
				}
				if err := eng.flush(write); err != nil {
					t.Fatal(err)
				}
				var ws []string
				for _, w := range want {
					ws = append(ws, fmt.Sprintf("%d %s %g %v", w.end, w.key, w.v, w.lines))
				}
				if len(ws) == 0 {
					t.Fatalf("seed %d: the reference finds no match: a test that cannot fail", seed)
				}
				if strings.Join(got, "\n") != strings.Join(ws, "\n") {
					t.Fatalf("seed %d:\ngot\n%s\nwant\n%s", seed, strings.Join(got, "\n"), strings.Join(ws, "\n"))
				}
				for _, g := range eng.corrs[0].groups {
					t.Fatalf("seed %d: group %q still held after flush", seed, g.key)
				}
			}
		})
	}
}

// TestUpperBoundStateBounded: upper-bound windows are freed as soon as
// they are decided, so state follows the number of open windows (here at
// most 61 groups: one new user a second, 1-minute windows), not the
// number of groups seen.
func TestUpperBoundStateBounded(t *testing.T) {
	rs := parseRules(t, failedLogin+corrDoc("event_count", "failed_login", "user.name", "lt: 2"))
	eng, errs := newCorrelator(rs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	fired, maxGroups := 0, 0
	write := func(m Match) error {
		if m.Correlation != nil {
			fired++
		}
		return nil
	}
	const n = 5000
	for i := 0; i < n; i++ {
		m := Match{Source: rs.Rules[0], Event: []byte(fail(i, fmt.Sprintf("u%d", i))), EventRef: EventRef{File: "x", Line: int64(i + 1)}}
		if err := eng.feed(m, write); err != nil {
			t.Fatal(err)
		}
		if g := len(eng.corrs[0].groups); g > maxGroups {
			maxGroups = g
		}
		if len(eng.wins) != len(eng.corrs[0].groups) {
			t.Fatalf("%d windows queued for %d groups", len(eng.wins), len(eng.corrs[0].groups))
		}
	}
	if maxGroups > 61 {
		t.Errorf("open groups peaked at %d, want ≤ 61", maxGroups)
	}
	if fired != n-61 {
		t.Errorf("fired %d before the end, want %d", fired, n-61)
	}
	if err := eng.flush(write); err != nil {
		t.Fatal(err)
	}
	if fired != n || len(eng.corrs[0].groups) != 0 || len(eng.wins) != 0 {
		t.Errorf("after flush: fired %d (want %d), %d groups, %d windows", fired, n, len(eng.corrs[0].groups), len(eng.wins))
	}
}
