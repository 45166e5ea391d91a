package importer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

func read(t *testing.T, path string) Input {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: filepath.Base(path), Data: b}
}

// golden renders the result (scenario YAML, then warnings and skips as
// comments), checks the scenario validates, and compares with a golden file.
func golden(t *testing.T, name string, res *Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := scenario.Encode(&buf, res.Scenario, false); err != nil {
		t.Fatal(err)
	}
	_, ds := scenario.Parse(name, buf.Bytes())
	if err := ds.Err(); err != nil {
		t.Fatalf("imported scenario does not validate: %v\n%s", err, buf.String())
	}
	for _, w := range res.Warnings {
		buf.WriteString("# warning: " + w + "\n")
	}
	for _, s := range res.Skipped {
		buf.WriteString("# skipped: " + s + "\n")
	}
	path := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun with -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (rerun with -update if intended):\n%s", name, buf.String())
	}
}

func TestCalderaEventLogsWithReport(t *testing.T) {
	rep := read(t, "testdata/caldera-report.json")
	res, err := Caldera([]Input{read(t, "testdata/caldera-event-logs.json")}, Options{Report: &rep})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Scenario
	if s.Name != "florama-op" || len(s.Procedures) != 4 || len(res.Skipped) != 1 {
		t.Fatalf("name %q, %d procedures", s.Name, len(s.Procedures))
	}
	web := s.HostByName("webserver")
	if web == nil || strings.Join(web.IPs, ",") != "172.16.1.4,10.0.0.4" || web.Platform != "linux" {
		t.Errorf("webserver from report: %+v", web)
	}
	p := s.Procedures[1]
	if p.Commands[0].Payload != "cat ~/.bash_history | grep -e '-p ' -e pass" || p.Commands[0].Executor != "bash" {
		t.Errorf("base64 command not decoded: %+v", p.Commands[0])
	}
	if p.Tactics[0] != "TA0006" || p.Techniques[0] != "T1552.003" {
		t.Errorf("attack: %v %v", p.Tactics, p.Techniques)
	}
	if s.Procedures[2].Commands[0].Executor != "psh" || s.Procedures[2].Platform != "windows" {
		t.Errorf("psh: %+v", s.Procedures[2])
	}
	golden(t, "caldera-event-logs", res)
}

func TestCalderaWithoutReport(t *testing.T) {
	res, err := Caldera([]Input{read(t, "testdata/caldera-event-logs.json")}, Options{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// The cmd link's agent is gone ({} agent_metadata) and there is no report.
	found := false
	for _, s := range res.Skipped {
		if strings.Contains(s, "[3]: no agent paw or host") {
			found = true
		}
	}
	if !found || len(res.Scenario.Procedures) != 4 {
		t.Errorf("skipped %v, %d procedures", res.Skipped, len(res.Scenario.Procedures))
	}
}

func TestCalderaOldReport(t *testing.T) {
	res, err := Caldera([]Input{read(t, "testdata/caldera-report-old.json")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Scenario.Procedures[0].Commands[0].Payload; got != "find / -name '*.pdf' -type f -size -500k 2>/dev/null | head -5" {
		t.Errorf("old base64 command: %q", got)
	}
	golden(t, "caldera-report-old", res)
}

func TestCalderaBadInput(t *testing.T) {
	_, err := Caldera([]Input{{Name: "ev.json", Data: []byte("[\n {\"command\": 5}\n]")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "ev.json:2:15:") {
		t.Errorf("type error position: %v", err)
	}
	_, err = Caldera([]Input{{Name: "ev.json", Data: []byte("[\n {\"command\": \"x\",\n")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "ev.json:") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = Caldera([]Input{{Name: "x.json", Data: []byte(`{"a": 1}`)}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a Caldera operation report") {
		t.Errorf("object: %v", err)
	}
}

func atomicsInputs(t *testing.T) []Input {
	dir := testutil.SharedDir(t, "formats/atomic-red-team")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var out []Input
	for _, f := range files {
		out = append(out, read(t, f))
	}
	return out
}

func TestAtomicCSV(t *testing.T) {
	res, err := Atomic([]Input{read(t, "testdata/atomic-execution-log.csv")}, Options{Name: "art", Atomics: atomicsInputs(t)})
	if err != nil {
		t.Fatal(err)
	}
	ps := res.Scenario.Procedures
	if len(ps) != 3 {
		t.Fatalf("%d procedures, skipped %v", len(ps), res.Skipped)
	}
	if ps[0].Commands[0].Payload != "nmap -Pn -sV -p 0-65535 127.0.0.1" || ps[0].Tactics[0] != "TA0007" {
		t.Errorf("T1046 #12: %+v", ps[0])
	}
	if d := ps[0].End.Sub(ps[0].Start); d.Seconds() != 60 {
		t.Errorf("first row window %v, want 1m (next row starts later)", d)
	}
	if d := ps[1].End.Sub(ps[1].Start); d.Seconds() != 60 {
		t.Errorf("second row window %v", d)
	}
	golden(t, "atomic-execution-log", res)
}

func TestAtomicCSVBad(t *testing.T) {
	_, err := Atomic([]Input{{Name: "x.csv", Data: []byte("a,b\n1,2\n")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), `x.csv:1: missing column "Execution Time (UTC)"`) {
		t.Errorf("missing column: %v", err)
	}
	data := `"Execution Time (UTC)","Technique","Test Number","Test Name","Hostname","IP Address","GUID"
"yesterday","T1046","1","x","h","1.2.3.4","g"
"2024-01-01T00:00:00Z","T9999","1","x","h","1.2.3.4","g"
"2024-01-01T00:00:00Z","T1046","1","x","h","1.2.3.4","g"
"2024-01-01T00:00:0`
	res, err := Atomic([]Input{{Name: "x.csv", Data: []byte(data)}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "x.csv:5:") {
		t.Errorf("bare quote: %v %v", err, res)
	}
	res, err = Atomic([]Input{{Name: "x.csv", Data: []byte(data[:strings.LastIndex(data, "\n")])}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 3 || !strings.Contains(res.Skipped[0], `x.csv:2: bad timestamp "yesterday"`) ||
		!strings.Contains(res.Skipped[1], "x.csv:3: test T9999 1 (g) not found") {
		t.Errorf("skips: %q", res.Skipped)
	}
}

func TestAttire(t *testing.T) {
	res, err := Atomic([]Input{read(t, "testdata/attire.json")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps := res.Scenario.Procedures
	if len(ps) != 2 || ps[1].Techniques[0] != "T1059.006" || ps[1].Tactics[0] != "TA0002" || ps[0].End.Sub(ps[0].Start).Seconds() != 54 {
		t.Fatalf("%+v", ps)
	}
	golden(t, "attire", res)
}

func TestAtomicSubstitute(t *testing.T) {
	techs, err := ParseAtomics(atomicsInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tech := range techs {
		for _, test := range tech.Tests {
			cmd, missing := test.Command()
			if test.Executor.Name == "manual" {
				continue
			}
			n++
			if len(missing) > 0 || strings.Contains(cmd, "#{") {
				t.Errorf("%s #%d: placeholders left: %v", tech.Technique, test.Number, missing)
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d tests", n)
	}
}

func TestCalderaPlatformFromExecutor(t *testing.T) {
	ev := `[{"command": "whoami", "plaintext_command": "whoami", "delegated_timestamp": "2024-03-05T14:10:00Z",
  "finished_timestamp": "2024-03-05T14:10:02Z", "status": 0, "platform": "", "executor": "cmd",
  "agent_metadata": {"paw": "p1", "host": "ws"}, "ability_metadata": {"ability_name": "Who"},
  "operation_metadata": {"operation_name": "op"}, "attack_metadata": {"tactic": "discovery", "technique_id": "T1033"}}]`
	res, err := Caldera([]Input{{Name: "ev.json", Data: []byte(ev)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Scenario.Procedures[0]; p.Platform != "windows" || p.ID != "01_who" {
		t.Errorf("procedure %+v", p)
	}
	if h := res.Scenario.HostByName("ws"); h == nil || h.Platform != "windows" {
		t.Errorf("host %+v", h)
	}
}
