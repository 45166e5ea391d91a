// Package e2e_test runs rangehunt's rule-based half end to end on the
// reference scenario: simulate a run, generate Sigma rules from its attack
// metadata, hunt them over its ECS logs, and score the hits against the
// simulator's ground truth.
package e2e_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/rulegen"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/simulate"
)

// truthSpan is one row of truth/events.csv: lines first..last of a log
// file belong to label.
type truthSpan struct {
	first, last int64
	label       string
}

func loadEventTruth(t *testing.T, dir string) map[string][]truthSpan {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "truth", "events.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil { // header
		t.Fatal(err)
	}
	out := map[string][]truthSpan{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		first, err1 := strconv.ParseInt(rec[1], 10, 64)
		last, err2 := strconv.ParseInt(rec[2], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("truth/events.csv: bad row %v", rec)
		}
		out[rec[0]] = append(out[rec[0]], truthSpan{first, last, rec[3]})
	}
	return out
}

func labelOf(truth map[string][]truthSpan, file string, line int64) string {
	spans := truth[file]
	i := sort.Search(len(spans), func(i int) bool { return spans[i].last >= line })
	if i < len(spans) && spans[i].first <= line {
		return spans[i].label
	}
	return ""
}

func TestGeneratedRulesFindTheAttackInSimulatedLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run skipped in -short mode")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := simulate.Run(ctx, simulate.DirSink(dir), simulate.Options{Seed: 42, Duration: time.Hour})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	t.Logf("simulated %d events, %d packets, %d procedures", st.Events, st.Packets, st.Procedures)

	sc, diags := scenario.Load(filepath.Join(dir, "scenario.yaml"))
	if err := diags.Err(); err != nil {
		t.Fatalf("scenario.yaml written by the simulator does not load: %v", err)
	}
	res, err := rulegen.Generate(sc, rulegen.Options{})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	rulesDir := filepath.Join(dir, "rules")
	if err := rulegen.WriteDir(rulesDir, res); err != nil {
		t.Fatal(err)
	}

	rs, err := hunt.LoadRules([]string{rulesDir}, hunt.LoadOptions{Pipeline: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Errors) > 0 {
		t.Fatalf("generated rules failed to load: %v", rs.Errors)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.ndjson"))
	if len(logs) == 0 {
		t.Fatal("simulator wrote no logs")
	}
	truth := loadEventTruth(t, dir)

	// procedure of each rule: its folder (rules generate writes
	// <procedure>/<procedure>_<n>.yml).
	procOf := map[string]string{}
	for _, r := range rs.Rules {
		procOf[r.ID] = filepath.Base(filepath.Dir(r.Path))
	}
	hitsByRule := map[string]int{}
	truePos, falsePos := 0, 0
	foundProc := map[string]bool{}
	var wrong []string
	backend := &hunt.FileBackend{Files: logs, Workers: 2}
	_, err = backend.Run(ctx, rs.Rules, func(m hunt.Match) error {
		rel, err := filepath.Rel(dir, m.File)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		want := procOf[m.Rule.ID]
		got := labelOf(truth, rel, m.Line)
		hitsByRule[m.Rule.ID]++
		if got == want {
			truePos++
			foundProc[want] = true
		} else {
			falsePos++
			if len(wrong) < 20 {
				wrong = append(wrong, rel+":"+strconv.FormatInt(m.Line, 10)+" rule of "+want+" hit an event labelled "+strconv.Quote(got))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("hunt: %v", err)
	}

	// Every attack procedure that starts processes is found by its own
	// rules in the logs.
	for _, p := range sc.Procedures {
		if p.Setup {
			continue
		}
		if !foundProc[p.ID] {
			t.Errorf("procedure %s: none of its generated rules matched an event the truth labels %s", p.ID, p.ID)
		}
	}
	// Every generated rule matches at least one event.
	for _, r := range rs.Rules {
		if hitsByRule[r.ID] == 0 {
			t.Errorf("rule %s (%s) matched nothing", r.Path, r.Title)
		}
	}
	// The attack report's windows cover what each procedure caused: every
	// rule matches inside its own procedure's window.
	var inputs []rulegen.LogInput
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		inputs = append(inputs, rulegen.LogInput{Name: l, R: f})
	}
	rawRules := make([]*sigma.Rule, 0, len(res.Rules))
	col, lerrs := sigma.Load(rulesDir)
	if err := lerrs.Err(); err != nil {
		t.Fatal(err)
	}
	rawRules = append(rawRules, col.Rules...)
	rep, err := rulegen.Check(ctx, sc, rawRules, inputs, rulegen.CheckOptions{})
	if err != nil {
		t.Fatalf("rules check: %v", err)
	}
	for _, q := range rep.Rules {
		if q.Inside == 0 {
			t.Errorf("rule %s: no match inside its procedure's window %s..%s (%d outside)", q.Path, q.Start, q.End, q.Outside)
		}
	}

	precision := float64(truePos) / float64(truePos+falsePos)
	t.Logf("generated rules: %d; hits: %d true, %d on other events (precision %.3f)", len(rs.Rules), truePos, falsePos, precision)
	for _, w := range wrong {
		t.Logf("  %s", w)
	}
	// The simulator plants benign look-alikes (an admin's ps aux, a
	// monitoring nmap): some false positives are expected, most hits not.
	if precision < 0.5 {
		t.Errorf("precision %.3f below 0.5", precision)
	}
}
