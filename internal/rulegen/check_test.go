package rulegen

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// TestCheckExample generates the example's rules, writes and reloads them
// like "rules check" does, and runs them over process events of the port
// scan, the history dump and benign neighbours (an admin's "grep open" in
// the morning, "chmod +x /tmp/other", a process-end event).
func TestCheckExample(t *testing.T) {
	s, ds := scenario.Load("../../examples/scenario.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	res := generate(t, s, Options{})
	dir := t.TempDir()
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	col, errs := sigma.Load(dir)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/check/events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Check(context.Background(), s, col.Rules, []LogInput{{Name: "events.ndjson", R: f}}, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range rep.Rules {
		got = append(got, strings.TrimPrefix(q.Path, dir+"/")+" "+q.Verdict+" "+itoa(q.Inside)+"/"+itoa(q.Outside))
	}
	want := []string{
		"46_port_scan/46_port_scan_1.yml ok 1/0", // chmod +x /tmp/nmap; not /tmp/other, not the end event
		"46_port_scan/46_port_scan_2.yml ok 1/0",
		"46_port_scan/46_port_scan_3.yml ok 1/0",
		"46_port_scan/46_port_scan_4.yml too broad 1/1", // grep open: also the admin's at 09:00
		"46_port_scan/46_port_scan_5.yml ok 1/0",
		"47_dump_history/47_dump_history_1.yml ok 1/0", // cat ~/.bash_history via endswith
		"47_dump_history/47_dump_history_2.yml ok 1/0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Events != 10 || len(rep.Skipped) != 1 {
		t.Errorf("events %d, skipped %v", rep.Events, rep.Skipped)
	}
	var txt, js bytes.Buffer
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "too broad") || !strings.Contains(js.String(), `"verdict": "too broad"`) {
		t.Errorf("report:\n%s\n%s", txt.String(), js.String())
	}
	if sum := rep.Summary(); !strings.Contains(sum, "7 rules (6 ok, 1 too broad), 10 events") {
		t.Errorf("summary %q", sum)
	}

	// Without the event-kind step, the process-end event matches too.
	f2, _ := os.Open("testdata/check/events.ndjson")
	defer f2.Close()
	rep2, err := Check(context.Background(), s, col.Rules, []LogInput{{Name: "events.ndjson", R: f2}}, CheckOptions{NoEventKind: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Rules[0].Inside != 2 {
		t.Errorf("without event kind: chmod inside %d, want 2", rep2.Rules[0].Inside)
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
