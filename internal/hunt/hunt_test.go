package hunt

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// parseRules parses multi-document Sigma YAML into a rule set without
// pipelines (field names as written).
func parseRules(t *testing.T, src string) *RuleSet {
	t.Helper()
	f, errs := sigma.Parse("test.yml", []byte(src))
	if err := errs.Err(); err != nil {
		t.Fatalf("parse: %v", err)
	}
	rs, err := NewRuleSet(f.Rules, f.Correlations, LoadOptions{Pipeline: "none", NoEventKind: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Errors) > 0 {
		t.Fatalf("rule errors: %v", rs.Errors)
	}
	return rs
}

func writeEvents(t *testing.T, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type outLine struct {
	Rule struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"rule"`
	File        string            `json:"file"`
	Line        int64             `json:"line"`
	Event       json.RawMessage   `json:"event"`
	Correlation *CorrelationMatch `json:"correlation"`
}

func runHunt(t *testing.T, rs *RuleSet, workers int, files ...string) ([]outLine, string, Stats) {
	t.Helper()
	var out bytes.Buffer
	st, err := Run(context.Background(), &FileBackend{Files: files, Workers: workers}, rs, &out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var res []outLine
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var o outLine
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		res = append(res, o)
	}
	return res, out.String(), st
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func ev(sec int, fields string) string {
	return fmt.Sprintf(`{"@timestamp":%q,%s}`, t0.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano), fields)
}

const failedLogin = `title: Failed login
id: 11111111-1111-1111-1111-111111111111
name: failed_login
level: low
logsource: {product: linux, service: auth}
detection:
  sel:
    event.outcome: failure
  condition: sel
`

func corrLines(lines []outLine) []outLine {
	var out []outLine
	for _, l := range lines {
		if l.Correlation != nil {
			out = append(out, l)
		}
	}
	return out
}

func lineNums(c *CorrelationMatch) []int64 {
	var n []int64
	for _, e := range c.Events {
		n = append(n, e.Line)
	}
	return n
}

func TestEventCountGenerate(t *testing.T) {
	for _, generate := range []bool{true, false} {
		t.Run(fmt.Sprint("generate=", generate), func(t *testing.T) {
			rs := parseRules(t, failedLogin+`---
title: Many failed logins
id: 22222222-2222-2222-2222-222222222222
level: high
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 1m
  condition: {gte: 3}
  generate: `+fmt.Sprint(generate)+`
`)
			logs := writeEvents(t, []string{
				ev(0, `"event":{"outcome":"failure"},"user":{"name":"bob"}`),     // 1
				ev(5, `"event":{"outcome":"failure"},"user":{"name":"alice"}`),   // 2
				ev(10, `"event":{"outcome":"success"},"user":{"name":"bob"}`),    // 3 no match
				ev(20, `"event":{"outcome":"failure"},"user":{"name":"bob"}`),    // 4
				ev(30, `"event":{"outcome":"failure"},"user":{"name":"alice"}`),  // 5
				ev(50, `"event":{"outcome":"failure"},"user":{"name":"bob"}`),    // 6: bob's 3rd in 50s
				ev(100, `"event":{"outcome":"failure"},"user":{"name":"alice"}`), // 7: alice's 1st at 5s slid out
				ev(300, `"event":{"outcome":"failure"},"user":{"name":"bob"}`),   // 8
			})
			lines, _, st := runHunt(t, rs, 1, logs)
			cs := corrLines(lines)
			if len(cs) != 1 {
				t.Fatalf("correlation matches = %d, want 1: %+v", len(cs), lines)
			}
			c := cs[0]
			if c.Rule.ID != "22222222-2222-2222-2222-222222222222" || c.Correlation.Group["user.name"] != "bob" ||
				c.Correlation.Value != 3 || fmt.Sprint(lineNums(c.Correlation)) != "[1 4 6]" {
				t.Errorf("correlation = %+v %+v", c.Rule, c.Correlation)
			}
			if !c.Correlation.Window.Start.Equal(t0) || !c.Correlation.Window.End.Equal(t0.Add(50*time.Second)) {
				t.Errorf("window = %+v", c.Correlation.Window)
			}
			base := len(lines) - len(cs)
			if generate && base != 7 {
				t.Errorf("generate: true: %d rule matches printed, want 7", base)
			}
			if !generate && base != 0 {
				t.Errorf("generate: false: %d rule matches printed, want 0", base)
			}
			if st.Matched != 7 || st.Events != 8 {
				t.Errorf("stats: matched %d of %d, want 7 of 8", st.Matched, st.Events)
			}
		})
	}
}

func TestValueCountAndAliases(t *testing.T) {
	rs := parseRules(t, `title: Connection
name: conn
logsource: {category: network_connection, product: linux}
detection:
  sel:
    event.category: network
  condition: sel
---
title: Refused
name: refused
logsource: {category: firewall}
detection:
  sel:
    event.action: refused
  condition: sel
---
title: Port scan
id: 33333333-3333-3333-3333-333333333333
correlation:
  type: value_count
  rules: [conn, refused]
  group-by: [src]
  aliases:
    src:
      conn: source.ip
      refused: client.ip
  timespan: 10s
  condition:
    field: destination.port
    gte: 3
`)
	logs := writeEvents(t, []string{
		ev(0, `"event":{"category":"network"},"source":{"ip":"10.0.0.1"},"destination":{"port":22}`),
		ev(1, `"event":{"category":"network"},"source":{"ip":"10.0.0.1"},"destination":{"port":22}`),
		ev(2, `"event":{"action":"refused"},"client":{"ip":"10.0.0.1"},"destination":{"port":80}`),
		ev(3, `"event":{"category":"network"},"source":{"ip":"10.0.0.2"},"destination":{"port":443}`),
		ev(4, `"event":{"category":"network"},"source":{"ip":"10.0.0.1"},"destination":{"port":443}`),
	})
	cs := corrLines(mustLines(runHunt(t, rs, 1, logs)))
	if len(cs) != 1 || cs[0].Correlation.Group["src"] != "10.0.0.1" || cs[0].Correlation.Value != 3 ||
		fmt.Sprint(lineNums(cs[0].Correlation)) != "[1 2 3 5]" {
		t.Fatalf("got %+v", cs)
	}
}

func mustLines(l []outLine, _ string, _ Stats) []outLine { return l }

const twoRules = `title: Download
name: download
logsource: {category: process_creation, product: linux}
detection:
  sel:
    process.name: curl
  condition: sel
---
title: Execute
name: execute
logsource: {category: process_creation, product: linux}
detection:
  sel:
    process.name: chmod
  condition: sel
`

func TestTemporalOrdered(t *testing.T) {
	rs := parseRules(t, twoRules+`---
title: Download then chmod
id: 44444444-4444-4444-4444-444444444444
correlation:
  type: temporal_ordered
  rules: [download, execute]
  group-by: [host.name]
  timespan: 30s
---
title: Download and chmod, any order
id: 55555555-5555-5555-5555-555555555555
correlation:
  type: temporal
  rules: [download, execute]
  group-by: [host.name]
  timespan: 30s
`)
	logs := writeEvents(t, []string{
		ev(0, `"process":{"name":"chmod"},"host":{"name":"a"}`), // a: chmod first
		ev(5, `"process":{"name":"curl"},"host":{"name":"a"}`),  // a: curl → temporal (any order) fires
		ev(6, `"process":{"name":"curl"},"host":{"name":"b"}`),
		ev(40, `"process":{"name":"chmod"},"host":{"name":"b"}`), // too late for b
		ev(50, `"process":{"name":"curl"},"host":{"name":"c"}`),
		ev(49, `"process":{"name":"chmod"},"host":{"name":"c"}`), // out of order, before curl: no ordered match
		ev(60, `"process":{"name":"chmod"},"host":{"name":"c"}`), // curl@50 then chmod@60: ordered + temporal
	})
	cs := corrLines(mustLines(runHunt(t, rs, 1, logs)))
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s:%s:%v", c.Rule.ID[:1], c.Correlation.Group["host.name"], lineNums(c.Correlation)))
	}
	// temporal fires for host a at line 2 (events 1,2) and for host c at
	// line 6 (lines 6 and 5: sorted by time → [6 5]); temporal_ordered
	// fires for host c at line 7 (curl@50 line 5, then chmod@60 line 7;
	// chmod@49 is before curl and does not advance the sequence).
	want := []string{"5:a:[1 2]", "5:c:[6 5]", "4:c:[6 5 7]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestValueSumAvgPercentileUpperBound(t *testing.T) {
	rs := parseRules(t, `title: Transfer
name: transfer
logsource: {category: network_connection, product: linux}
detection:
  sel:
    event.action: transfer
  condition: sel
---
title: Big upload
id: 66666666-6666-6666-6666-666666666666
correlation:
  type: value_sum
  rules: [transfer]
  group-by: [user.name]
  timespan: 1m
  condition: {field: bytes, gt: 1000}
---
title: Average small
id: 77777777-7777-7777-7777-777777777777
correlation:
  type: value_avg
  rules: [transfer]
  group-by: [user.name]
  timespan: 1m
  condition: {field: bytes, lt: 100}
---
title: p90
id: 88888888-8888-8888-8888-888888888888
correlation:
  type: value_percentile
  rules: [transfer]
  group-by: [user.name]
  timespan: 1m
  condition: {field: bytes, percentile: 90, gte: 900}
`)
	logs := writeEvents(t, []string{
		ev(0, `"event":{"action":"transfer"},"user":{"name":"u1"},"bytes":600`),
		ev(10, `"event":{"action":"transfer"},"user":{"name":"u2"},"bytes":"10"`),
		ev(20, `"event":{"action":"transfer"},"user":{"name":"u1"},"bytes":500`), // u1 sum 1100 > 1000
		ev(30, `"event":{"action":"transfer"},"user":{"name":"u2"},"bytes":50`),
		ev(200, `"event":{"action":"transfer"},"user":{"name":"u2"},"bytes":1000`), // closes u2's first window (avg 30 < 100)
	})
	cs := corrLines(mustLines(runHunt(t, rs, 1, logs)))
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s:%s:%g:%v", c.Rule.ID[:1], c.Correlation.Group["user.name"], c.Correlation.Value, lineNums(c.Correlation)))
	}
	// The percentile fires for u1 at line 3 (p90 of 600,500 = 590: no),
	// so only u2's last event (1000) gives p90 ≥ 900 in its own window.
	// u2's second window (avg 1000) is decided at the end: not < 100.
	want := []string{"6:u1:1100:[1 3]", "7:u2:30:[2 4]", "8:u2:1000:[5]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestChainedCorrelation(t *testing.T) {
	rs := parseRules(t, twoRules+`---
title: Curl burst
id: 99999999-9999-9999-9999-999999999999
name: curl_burst
correlation:
  type: event_count
  rules: [download]
  group-by: [host.name]
  timespan: 1m
  condition: {gte: 2}
---
title: Burst then chmod
id: aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa
correlation:
  type: temporal_ordered
  rules: [curl_burst, execute]
  group-by: [host.name]
  timespan: 5m
`)
	logs := writeEvents(t, []string{
		ev(0, `"process":{"name":"curl"},"host":{"name":"h"}`),
		ev(10, `"process":{"name":"curl"},"host":{"name":"h"}`),
		ev(100, `"process":{"name":"chmod"},"host":{"name":"h"}`),
		ev(110, `"process":{"name":"chmod"},"host":{"name":"x"}`),
	})
	lines := mustLines(runHunt(t, rs, 1, logs))
	var got []string
	for _, c := range lines {
		if c.Correlation != nil {
			got = append(got, fmt.Sprintf("%s:%v", c.Rule.ID[:1], lineNums(c.Correlation)))
		} else {
			got = append(got, fmt.Sprintf("rule:%d", c.Line))
		}
	}
	// download is referenced without generate: its matches are hidden;
	// curl_burst is referenced by the chain without generate: hidden too;
	// execute is referenced: hidden. Only the chain's match is printed.
	want := []string{"a:[1 2 3]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestWorkersOrdered runs the same rules over a few thousand events with
// one and with four workers: the outputs must be byte-identical and the
// matches those the generator planted.
func TestWorkersOrdered(t *testing.T) {
	rs := parseRules(t, twoRules+`---
title: Bad path
name: badpath
logsource: {category: process_creation, product: linux}
detection:
  sel:
    process.executable|startswith: /tmp/
  condition: sel
`)
	rng := rand.New(rand.NewSource(7))
	names := []string{"curl", "chmod", "ls", "bash", "cat"}
	var lines []string
	for i := 0; i < 5000; i++ {
		n := names[rng.Intn(len(names))]
		exe := "/usr/bin/" + n
		if rng.Intn(10) == 0 {
			exe = "/tmp/" + n
		}
		if rng.Intn(500) == 0 {
			lines = append(lines, `{"broken":`) // a bad record is skipped, counted
			continue
		}
		lines = append(lines, ev(i, fmt.Sprintf(`"process":{"name":%q,"executable":%q}`, n, exe)))
	}
	// The planted matches: one per /tmp/ executable, one per curl/chmod.
	want := 0
	for _, l := range lines {
		if strings.HasPrefix(l, `{"broken"`) {
			continue
		}
		if strings.Contains(l, `"/tmp/`) {
			want++
		}
		if strings.Contains(l, `"name":"curl"`) || strings.Contains(l, `"name":"chmod"`) {
			want++
		}
	}
	logs := writeEvents(t, lines)
	l1, out1, st1 := runHunt(t, rs, 1, logs)
	_, out4, st4 := runHunt(t, rs, 4, logs, logs)
	if len(l1) != want {
		t.Errorf("matches = %d, want %d", len(l1), want)
	}
	// Four workers over the file twice: the same output twice.
	if out4 != out1+out1 {
		t.Errorf("--workers 4 output differs from --workers 1 (len %d vs 2×%d)", len(out4), len(out1))
	}
	if st1.Skipped == nil || total(st1.Skipped) == 0 || total(st4.Skipped) != 2*total(st1.Skipped) {
		t.Errorf("skips: workers 1 %v, workers 4 %v", st1.Skipped, st4.Skipped)
	}
	if st4.Matched != 2*st1.Matched || st4.Events != 2*st1.Events {
		t.Errorf("stats: workers 1 %+v, workers 4 %+v", st1, st4)
	}
}

func TestCorrelationMissingReference(t *testing.T) {
	rs := parseRules(t, failedLogin)
	f, errs := sigma.Parse("c.yml", []byte(`title: Orphan
id: bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb
correlation:
  type: event_count
  rules: [no_such_rule]
  timespan: 1m
  condition: {gte: 1}
`))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	rs.Correlations = f.Correlations
	logs := writeEvents(t, []string{ev(0, `"event":{"outcome":"failure"}`)})
	lines, _, st := runHunt(t, rs, 1, logs)
	if len(lines) != 1 || lines[0].Correlation != nil {
		t.Errorf("lines = %+v, want the one rule match", lines)
	}
	if len(st.RuleErrors) != 1 || !strings.Contains(st.RuleErrors[0], `"no_such_rule" is not loaded`) {
		t.Errorf("rule errors = %v", st.RuleErrors)
	}
}

// TestCorrelationMemoryBounded feeds many groups over a long time: groups
// whose windows have ended are freed as the stream advances.
func TestCorrelationMemoryBounded(t *testing.T) {
	rs := parseRules(t, failedLogin+`---
title: Many failed logins
id: 22222222-2222-2222-2222-222222222222
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 1m
  condition: {lt: 2}
`)
	eng, errs := newCorrelator(rs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	fired := 0
	write := func(m Match) error {
		if m.Correlation != nil {
			fired++
		}
		return nil
	}
	maxGroups := 0
	for i := 0; i < 20000; i++ {
		raw := ev(i, fmt.Sprintf(`"event":{"outcome":"failure"},"user":{"name":"u%d"}`, i))
		m := Match{Source: rs.Rules[0], Event: []byte(raw), EventRef: EventRef{File: "x", Line: int64(i + 1)}}
		if err := eng.feed(m, write); err != nil {
			t.Fatal(err)
		}
		if n := len(eng.corrs[0].groups); n > maxGroups {
			maxGroups = n
		}
	}
	if err := eng.flush(write); err != nil {
		t.Fatal(err)
	}
	// One event per second, 1 m windows, a sweep every 1024 events.
	if maxGroups > 1024+61 {
		t.Errorf("open groups peaked at %d: state is not evicted", maxGroups)
	}
	// Each user has one login in its window: count 1 < 2 fires for all.
	if fired != 20000 {
		t.Errorf("fired %d, want 20000", fired)
	}
}

// TestInputFormats runs the same events as NDJSON, gzip-compressed NDJSON
// and a JSON array (nested and dotted keys mixed): the same matches.
func TestInputFormats(t *testing.T) {
	rs := parseRules(t, twoRules)
	evs := []string{
		ev(0, `"process":{"name":"curl"}`),
		ev(1, `"process.name":"CHMOD"`),
		ev(2, `"process":{"name":"ls"}`),
		ev(3, `"process":{"name":["bash","curl"]}`),
	}
	dir := t.TempDir()
	nd := filepath.Join(dir, "e.ndjson")
	os.WriteFile(nd, []byte(strings.Join(evs, "\n")+"\n"), 0o644)
	gz := filepath.Join(dir, "e.ndjson.gz")
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(strings.Join(evs, "\n") + "\n"))
	zw.Close()
	os.WriteFile(gz, zb.Bytes(), 0o644)
	arr := filepath.Join(dir, "e.json")
	os.WriteFile(arr, []byte("[\n  "+strings.Join(evs, ",\n  ")+"\n]\n"), 0o644)
	var outs []string
	for _, p := range []string{nd, gz, arr} {
		lines, _, st := runHunt(t, rs, 1, p)
		var got []string
		for _, l := range lines {
			got = append(got, fmt.Sprintf("%s@%d", l.Rule.Title, l.Line))
		}
		if st.Events != 4 {
			t.Errorf("%s: %d events", p, st.Events)
		}
		outs = append(outs, strings.Join(got, ","))
	}
	want := "Download@1,Execute@2,Download@4"
	for i, o := range outs {
		if o != want {
			t.Errorf("input %d: %s, want %s", i, o, want)
		}
	}
}

// TestCorrelationFieldsMapped: a correlation written with Sigma field names
// (group-by User) over an ecs_linux rule groups by the mapped ECS field.
func TestCorrelationFieldsMapped(t *testing.T) {
	f, errs := sigma.Parse("c.yml", []byte(`title: Sudo
name: sudo_exec
logsource: {category: process_creation, product: linux}
detection:
  sel:
    Image|endswith: /sudo
  condition: sel
---
title: Sudo burst
id: cccccccc-cccc-cccc-cccc-cccccccccccc
correlation:
  type: event_count
  rules: [sudo_exec]
  group-by: [User]
  timespan: 1m
  condition: {gte: 2}
`))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	rs, err := NewRuleSet(f.Rules, f.Correlations, LoadOptions{Pipeline: "ecs_linux"})
	if err != nil {
		t.Fatal(err)
	}
	start := `"event":{"category":"process","type":"start"},"process":{"executable":"/usr/bin/sudo"}`
	logs := writeEvents(t, []string{
		ev(0, start+`,"user":{"name":"alice"}`),
		ev(1, start+`,"user":{"name":"bob"}`),
		ev(2, start+`,"user":{"name":"alice"}`),
	})
	cs := corrLines(mustLines(runHunt(t, rs, 1, logs)))
	if len(cs) != 1 || cs[0].Correlation.Group["User"] != "alice" || fmt.Sprint(lineNums(cs[0].Correlation)) != "[1 3]" {
		t.Fatalf("got %+v", cs)
	}
}

func TestCorrelationIgnoresEventsWithoutTime(t *testing.T) {
	rs := parseRules(t, failedLogin+`---
title: Any failed login
id: 22222222-2222-2222-2222-222222222222
correlation:
  type: event_count
  rules: [failed_login]
  timespan: 1m
  condition: {gte: 1}
`)
	logs := writeEvents(t, []string{
		`{"event":{"outcome":"failure"}}`,
		`{"@timestamp":"yesterday","event":{"outcome":"failure"}}`,
		ev(0, `"event":{"outcome":"failure"}`),
	})
	lines, _, st := runHunt(t, rs, 1, logs)
	if cs := corrLines(lines); len(cs) != 1 || fmt.Sprint(lineNums(cs[0].Correlation)) != "[3]" {
		t.Errorf("correlations = %+v", cs)
	}
	if st.CorrelationIgnored["no parsable @timestamp"] != 2 {
		t.Errorf("ignored = %v", st.CorrelationIgnored)
	}
	var sum bytes.Buffer
	WriteSummary(&sum, st, time.Second)
	if !strings.Contains(sum.String(), "correlations ignored 2 rule matches: no parsable @timestamp") {
		t.Errorf("summary:\n%s", sum.String())
	}
}
