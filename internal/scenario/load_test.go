package scenario

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDiagnosticsPositions(t *testing.T) {
	doc := `name: s
hosts:
  - name: web
    ips: [172.16.1.4]
procedures:
  - id: p1
    name: one
    tactics: [TA0007, TA0099]
    techniques: [T1046, X1]
    setup: false
    host: db
    start: 2024-03-05T14:02:11Z
    end: 2024-03-05T14:00:00Z
    commands:
      - payload: whoami
  - id: p1
    name: dup
    tactics: [TA0007]
    techniques: [T1046]
    setup: true
    host: web
    start: 2024-03-05T14:02:11Z
    end: 2024-03-05T14:02:12Z
    commands: []
  - id: p3
    name: no times
    tactics: [TA0007]
    techniques: [T1046]
    setup: false
    host: web
    commands:
      - payload: ""
`
	_, ds := Parse("s.yaml", []byte(doc))
	var got []string
	for _, d := range ds {
		got = append(got, d.Error())
	}
	want := []string{
		"s.yaml:1:1: warning: time_zone: no time_zone: timestamps without an offset are read as UTC",
		`s.yaml:8:23: procedures[0].tactics[1]: unknown ATT&CK tactic "TA0099"`,
		`s.yaml:9:25: procedures[0].techniques[1]: bad technique id "X1" (want T1046 or T1059.004)`,
		`s.yaml:11:11: procedures[0].host: unknown host "db" (hosts: web)`,
		"s.yaml:13:10: procedures[0].end: end 2024-03-05T14:00:00Z is before start 2024-03-05T14:02:11Z",
		`s.yaml:16:9: procedures[1].id: duplicate procedure id "p1" (first at procedures[0])`,
		`s.yaml:24:15: warning: procedures[1].commands: setup procedure "p1" has no commands`,
		`s.yaml:25:5: procedures[2].start: procedure "p3" has no start time`,
		`s.yaml:25:5: procedures[2].end: procedure "p3" has no end time`,
		"s.yaml:32:18: procedures[2].commands[0].payload: empty command",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if ds.Err() == nil {
		t.Fatal("Err() is nil despite errors")
	}
}

func TestParseTimeZoneAndJSON(t *testing.T) {
	doc := `{"name": "s", "time_zone": "Europe/Vienna",
 "hosts": [{"name": "web", "ips": ["10.0.0.1"]}],
 "procedures": [{"id": "p", "name": "p", "tactics": ["TA0002"], "techniques": ["T1059.004"],
   "setup": false, "host": "web", "start": "2024-03-05 14:00:00", "end": "2024-03-05T14:00:05+01:00",
   "commands": [{"payload": "id"}]}]}`
	s, ds := Parse("s.json", []byte(doc))
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	p := s.Procedures[0]
	if want := time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC); !p.Start.Equal(want) {
		t.Errorf("start %v, want %v (14:00 Vienna = 13:00 UTC)", p.Start, want)
	}
	if d := p.End.Sub(p.Start); d != 5*time.Second {
		t.Errorf("duration %v", d)
	}
	_, ds = Parse("s.json", []byte(strings.Replace(doc, "Europe/Vienna", "Mars/Olympus", 1)))
	if ds.Err() == nil || !strings.Contains(ds.Err().Error(), `s.json:1:28: time_zone: unknown time zone "Mars/Olympus"`) {
		t.Errorf("bad zone: %v", ds)
	}
	_, ds = Parse("s.json", []byte(strings.Replace(doc, "2024-03-05 14:00:00", "5 March", 1)))
	if ds.Err() == nil || !strings.Contains(ds.Err().Error(), `bad timestamp "5 March"`) || strings.Contains(ds.Error(), "no start time") {
		t.Errorf("bad time: %v", ds)
	}
}

func TestParseMalformed(t *testing.T) {
	_, ds := Parse("bad.yaml", []byte("name: s\nhosts: [\n"))
	if len(ds) != 1 || ds[0].Line == 0 || !strings.Contains(ds[0].Error(), "bad.yaml:") {
		t.Errorf("malformed: %v", ds)
	}
	_, ds = Parse("t.yaml", []byte("name: s\nhosts: 5\nprocedures: []\n"))
	if ds.Err() == nil || !strings.Contains(ds.Err().Error(), "t.yaml:2:") {
		t.Errorf("type error: %v", ds)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	s, ds := Load("../../examples/scenario.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Errorf("example has warnings: %v", ds)
	}
	for _, ext := range []string{".yaml", ".json"} {
		p := filepath.Join(t.TempDir(), "s"+ext)
		if err := Write(p, s); err != nil {
			t.Fatal(err)
		}
		s2, ds := Load(p)
		if err := ds.Err(); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		var a, b bytes.Buffer
		_ = Encode(&a, s, false)
		_ = Encode(&b, s2, false)
		if a.String() != b.String() {
			t.Errorf("%s round trip differs:\n%s\n---\n%s", ext, a.String(), b.String())
		}
	}
}

func TestTactics(t *testing.T) {
	if tc, ok := TacticByName("Credential Access"); !ok || tc.ID != "TA0006" {
		t.Errorf("credential access: %v %v", tc, ok)
	}
	if tc, ok := TacticByID("ta0007"); !ok || tc.Short != "discovery" {
		t.Errorf("TA0007: %v", tc)
	}
	if len(Tactics()) != 14 {
		t.Errorf("want 14 enterprise tactics")
	}
}
