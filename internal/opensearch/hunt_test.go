package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

// TestHuntOutputSameAsFileBackend runs the SigmaHQ Linux rules through
// hunt.Run over a file and over the same file ingested into OpenSearch, and
// compares the printed output byte for byte (rules listed in
// knownDisagreements are left out).
func TestHuntOutputSameAsFileBackend(t *testing.T) {
	c := testClient(t)
	var rules []*sigma.Rule
	var sb strings.Builder
	_, linux := sigmahq.LinuxRules(t)
	for _, r := range linux {
		if knownDisagreements[filepath.Base(r.Path)] != "" {
			continue
		}
		pos, neg, err := match.SynthesizeEvents(r)
		if err != nil {
			continue
		}
		rules = append(rules, r)
		for _, ev := range append(pos, neg...) {
			sb.Write(ev)
			sb.WriteByte('\n')
		}
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	index := testIndex(t, c)
	ctx := context.Background()
	if _, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	rs := &hunt.RuleSet{Rules: rules}
	var fileOut, osOut bytes.Buffer
	fst, err := hunt.Run(ctx, &hunt.FileBackend{Files: []string{path}, Workers: 2}, rs, &fileOut)
	if err != nil {
		t.Fatal(err)
	}
	ost, err := hunt.Run(ctx, &HuntBackend{Client: c, Index: index}, rs, &osOut)
	if err != nil {
		t.Fatal(err)
	}
	if fileOut.Len() == 0 || !bytes.Equal(fileOut.Bytes(), osOut.Bytes()) {
		fl, ol := strings.Split(fileOut.String(), "\n"), strings.Split(osOut.String(), "\n")
		for i := 0; i < len(fl) && i < len(ol); i++ {
			if fl[i] != ol[i] {
				t.Fatalf("output differs at line %d (file %d lines, opensearch %d):\nfile:       %s\nopensearch: %s", i+1, len(fl), len(ol), fl[i], ol[i])
			}
		}
		t.Fatalf("output differs in length: file %d lines, opensearch %d", len(fl), len(ol))
	}
	if fst.Matched != ost.Matched || fst.Events != ost.Events || fmt.Sprint(fst.Hits) != fmt.Sprint(ost.Hits) {
		t.Errorf("stats differ: file matched %d of %d, opensearch %d of %d", fst.Matched, fst.Events, ost.Matched, ost.Events)
	}
	t.Logf("%d rules, %d events: identical output, %d matches", len(rules), fst.Events, strings.Count(fileOut.String(), "\n"))
}

// TestHuntTimeRange checks --since/--until: only events with
// since <= @timestamp < until are searched.
func TestHuntTimeRange(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	path := writeEvents(t, t.TempDir(), 3000, false) // 37 ms apart from 10:00:00
	ctx := context.Background()
	if _, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	rule := itemRule("process.name", sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: "bash"}}})
	rule.Meta.ID = "bash"
	since := time.Date(2024, 5, 1, 10, 0, 10, 0, time.UTC)
	until := time.Date(2024, 5, 1, 10, 1, 0, 0, time.UTC)
	b := &HuntBackend{Client: c, Index: index, Since: since, Until: until, PageSize: 100}
	var got []int64
	st, err := b.Run(ctx, []*sigma.Rule{rule}, func(m hunt.Match) error {
		got = append(got, m.Line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	var inRange int64
	for i, line := range readLines(t, path) {
		var ev struct {
			T       time.Time `json:"@timestamp"`
			Process struct {
				Name string `json:"name"`
			} `json:"process"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.T.Before(since) || !ev.T.Before(until) {
			continue
		}
		inRange++
		if strings.EqualFold(ev.Process.Name, "bash") {
			want = append(want, int64(i+1))
		}
	}
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	if st.Events != inRange {
		t.Errorf("events in range = %d, want %d", st.Events, inRange)
	}
}

func TestKeywordSearchNeedingCaseIsRefused(t *testing.T) {
	kw := func(v sigma.Value) *sigma.Rule {
		r := itemRule("", v)
		r.Detection.Searches[0].Keywords = true
		return r
	}
	lit := []sigma.Token{{Kind: sigma.Literal, Text: "Mimikatz"}}
	if err := checkKeywords(kw(sigma.String{Tokens: lit})); err != nil {
		t.Errorf("plain keyword refused: %v", err)
	}
	for _, v := range []sigma.Value{sigma.String{Tokens: lit, Cased: true}, sigma.Regex{}, sigma.Expansion{Alts: []sigma.Value{sigma.String{Tokens: lit}, sigma.String{Tokens: lit, Cased: true}}}} {
		if err := checkKeywords(kw(v)); err == nil {
			t.Errorf("keyword %v accepted", v)
		}
	}
	// A cased value on a named field is fine: fields keep ".cased".
	if err := checkKeywords(itemRule("process.name", sigma.String{Tokens: lit, Cased: true})); err != nil {
		t.Errorf("cased field value refused: %v", err)
	}
}
