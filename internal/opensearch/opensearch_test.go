package opensearch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// testClient returns a client for the server at OPENSEARCH_URL (default
// http://127.0.0.1:9200, started by scripts/opensearch.sh). Outside CI the
// test is skipped when no server answers; in CI that is a failure.
func testClient(t testing.TB) *Client {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		u = DefaultURL
	}
	c, err := New(Config{URL: u, Username: os.Getenv(EnvUsername), Password: os.Getenv(EnvPassword), CACert: os.Getenv(EnvCACert)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		if testutil.InCI() {
			t.Fatalf("no OpenSearch reachable (CI=true; scripts/test.sh starts one with scripts/opensearch.sh): %v", err)
		}
		t.Skipf("no OpenSearch reachable (start one with scripts/opensearch.sh start): %v", err)
	}
	return c
}

// testIndex returns a fresh index name for the test and deletes the index
// when the test ends.
func testIndex(t testing.TB, c *Client) string {
	t.Helper()
	name := strings.ToLower(fmt.Sprintf("rh-test-%s-%d", strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()), os.Getpid()))
	ctx := context.Background()
	if err := c.DeleteIndex(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteIndex(context.Background(), name) })
	return name
}

// writeEvents writes n realistic ECS process/network events to an NDJSON
// file (seeded, so the same n gives the same bytes) and returns its path.
// bad adds malformed lines that the reader must skip.
func writeEvents(t testing.TB, dir string, n int, bad bool) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("events-%d.ndjson", n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	names := []string{"bash", "Bash", "curl", "nmap", "sshd", "python3", "chmod", "systemd"}
	for i := range n {
		name := names[rng.IntN(len(names))]
		ev := map[string]any{
			"@timestamp": base.Add(time.Duration(i) * 37 * time.Millisecond).Format(time.RFC3339Nano),
			"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "kind": "event", "id": fmt.Sprintf("ev-%06d", i)},
			"host":       map[string]any{"name": fmt.Sprintf("web-%02d", rng.IntN(8)), "ip": []string{fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250))}},
			"process": map[string]any{
				"name": name, "pid": 1000 + i, "executable": "/usr/bin/" + strings.ToLower(name),
				"args":         []string{name, "-c", fmt.Sprintf("echo %d && id", i)},
				"command_line": fmt.Sprintf("%s -c 'echo %d && id'", name, i),
				"parent":       map[string]any{"name": "sshd", "pid": 900},
			},
			"user":        map[string]any{"name": []string{"root", "alice", "Bob"}[rng.IntN(3)]},
			"source":      map[string]any{"ip": "192.0.2.10", "port": 40000 + rng.IntN(20000)},
			"destination": map[string]any{"ip": "198.51.100.7", "port": 443},
			"message":     fmt.Sprintf("process %s started", name),
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.WriteByte('\n')
		if bad && i == n/2 {
			w.WriteString(`{"@timestamp": "2024-05-01T10:00:00Z", "process": {"name": "trunc` + "\n")
			w.WriteString("not json at all\n")
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func searchIDs(t testing.TB, c *Client, index, q string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	_, err := c.SearchAll(context.Background(), index, map[string]any{"query_string": map[string]any{"query": q}}, SearchOptions{}, func(h Hit) error {
		if ids[h.ID] {
			return fmt.Errorf("hit %s returned twice", h.ID)
		}
		ids[h.ID] = true
		return nil
	})
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	return ids
}

func TestIngestTemplateCount(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	path := writeEvents(t, t.TempDir(), 2000, true)
	ctx := context.Background()
	st, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index, BatchDocs: 300}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2000 || st.Indexed() != 2000 || st.Created != 2000 || st.Failed != 0 || st.Count != 2000 {
		t.Fatalf("stats = %+v; want 2000 events read, created and counted", st)
	}
	if st.Skipped["malformed JSON"]+st.Skipped["truncated"] != 2 {
		t.Errorf("skipped = %v; want the 2 malformed lines counted", st.Skipped)
	}
	// The mapping: keyword fields match case-insensitively, .cased keeps case.
	all := searchIDs(t, c, index, "process.name:bash")
	lower := searchIDs(t, c, index, "process.name.cased:bash")
	upper := searchIDs(t, c, index, "process.name.cased:Bash")
	if len(all) == 0 || len(lower) == 0 || len(upper) == 0 || len(lower)+len(upper) != len(all) {
		t.Errorf("process.name:bash = %d hits, .cased:bash %d, .cased:Bash %d; want the first to be the sum of the others", len(all), len(lower), len(upper))
	}
	if n := len(searchIDs(t, c, index, "PROCESS.NAME:BASH")); n != 0 {
		// field names stay case-sensitive; values do not
		t.Errorf("PROCESS.NAME:BASH matched %d; field names must be case-sensitive", n)
	}
	if got := len(searchIDs(t, c, index, "process.name:BASH")); got != len(all) {
		t.Errorf("process.name:BASH = %d, want %d (lower-case normalizer)", got, len(all))
	}
	// ip and numeric fields keep their types.
	if got := len(searchIDs(t, c, index, "source.ip:\"192.0.2.0/24\" AND destination.port:[400 TO 500]")); got != 2000 {
		t.Errorf("cidr + range query = %d hits, want 2000", got)
	}
	// Keyword searches use the narrow default fields (message, ...).
	if got := len(searchIDs(t, c, index, `*started*`)); got != 2000 {
		t.Errorf("unqualified *started* = %d hits, want 2000 (index.query.default_field)", got)
	}
	// Provenance: file and line come back, and the event is the line read.
	lines := readLines(t, path)
	_, err = c.SearchAll(ctx, index, map[string]any{"term": map[string]any{"event.id": "ev-000007"}}, SearchOptions{}, func(h Hit) error {
		if h.File != path {
			t.Errorf("file = %q, want %q", h.File, path)
		}
		if h.Line != 8 || string(h.Event()) != lines[7] {
			t.Errorf("line %d event %s; want line 8 %s", h.Line, h.Event(), lines[7])
		}
		if h.ID != DocID(path, 8) {
			t.Errorf("id = %s, want DocID(path, 8)", h.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestReingestCreatesNoDuplicates(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	path := writeEvents(t, t.TempDir(), 1500, false)
	ctx := context.Background()
	first, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}})
	if err != nil {
		t.Fatal(err)
	}
	// Again, from another working directory with a relative path: same ids.
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	second, err := c.LoadFiles(ctx, []string{filepath.Base(path)}, LoadOptions{IngestOptions: IngestOptions{Index: index}, NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Created != 1500 || second.Created != 0 || second.Updated != 1500 {
		t.Errorf("first created %d; second created %d updated %d; want 1500, 0, 1500", first.Created, second.Created, second.Updated)
	}
	if err := c.Refresh(ctx, index); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count(ctx, index, nil); err != nil || n != 1500 {
		t.Errorf("count after re-ingest = %d (%v), want 1500", n, err)
	}
}

func TestTagIsIdempotent(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	path := writeEvents(t, t.TempDir(), 300, false)
	ctx := context.Background()
	if _, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	var ups []TagUpdate
	for line := int64(1); line <= 300; line += 3 {
		ups = append(ups, TagUpdate{ID: DocID(path, line), Tags: []string{"attack.execution", "proc-1"},
			Labels: map[string]string{"procedure": "proc-1"}, TechniqueIDs: []string{"T1059.004"}, TacticIDs: []string{"TA0002"}})
	}
	// A second procedure on some of the same documents, in the same call,
	// naming the event by file and line as a hunt match does.
	ups = append(ups, TagUpdate{File: path, Line: 1, Tags: []string{"proc-2"}, TechniqueIDs: []string{"T1222.002"}})
	ups = append(ups, TagUpdate{File: path, Line: 99999, Tags: []string{"proc-2"}})
	ups = append(ups, TagUpdate{ID: "no-such-document", Tags: []string{"x"}})
	st, err := c.Tag(ctx, index, ups)
	if err != nil {
		t.Fatal(err)
	}
	if st.Updated != 100 || st.Missing != 2 || st.Unchanged != 0 || st.Failed != 0 {
		t.Fatalf("first tagging: %+v; want 100 updated, 2 missing", st)
	}
	st, err = c.Tag(ctx, index, ups)
	if err != nil {
		t.Fatal(err)
	}
	if st.Updated != 0 || st.Unchanged != 100 {
		t.Fatalf("second tagging: %+v; want nothing rewritten", st)
	}
	if err := c.Refresh(ctx, index); err != nil {
		t.Fatal(err)
	}
	if got := len(searchIDs(t, c, index, `tags:proc\-1 AND threat.technique.id:t1059.004 AND labels.procedure:proc\-1`)); got != 100 {
		t.Errorf("tagged documents found = %d, want 100", got)
	}
	_, err = c.SearchAll(ctx, index, map[string]any{"ids": map[string]any{"values": []string{DocID(path, 1)}}}, SearchOptions{}, func(h Hit) error {
		var d struct {
			Tags   []string `json:"tags"`
			Threat struct {
				Technique struct {
					ID []string `json:"id"`
				} `json:"technique"`
			} `json:"threat"`
		}
		if err := json.Unmarshal(h.Source, &d); err != nil {
			return err
		}
		if strings.Join(d.Tags, ",") != "attack.execution,proc-1,proc-2" || strings.Join(d.Threat.Technique.ID, ",") != "T1059.004,T1222.002" {
			t.Errorf("line 1 tags %v techniques %v; want each label once, sorted", d.Tags, d.Threat.Technique.ID)
		}
		// the event itself is intact, without provenance
		var ev map[string]any
		if err := json.Unmarshal(h.Event(), &ev); err != nil || ev["rangehunt"] != nil || ev["process"] == nil {
			t.Errorf("Event() after tagging = %s (%v)", h.Event(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSearchAllBeyondResultWindow pulls more hits than
// index.max_result_window (10,000) with point in time and search_after.
func TestSearchAllBeyondResultWindow(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	path := writeEvents(t, t.TempDir(), 12345, false)
	ctx := context.Background()
	if _, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	lines := map[int64]bool{}
	var prev time.Time
	n, err := c.SearchAll(ctx, index, map[string]any{"query_string": map[string]any{"query": "event.category:process"}}, SearchOptions{PageSize: 2500}, func(h Hit) error {
		if lines[h.Line] {
			return fmt.Errorf("line %d returned twice", h.Line)
		}
		lines[h.Line] = true
		var ts struct {
			T string `json:"@timestamp"`
		}
		_ = json.Unmarshal(h.Source, &ts)
		tm, err := time.Parse(time.RFC3339Nano, ts.T)
		if err != nil {
			return err
		}
		if tm.Before(prev) {
			return fmt.Errorf("hits out of time order: %s after %s", tm, prev)
		}
		prev = tm
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 12345 || len(lines) != 12345 {
		t.Fatalf("SearchAll returned %d hits (%d distinct lines), want 12345", n, len(lines))
	}
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o644) }

// TestSearchAllForeignDocumentsSharingTimestamps pages through documents
// that rangehunt did not ingest (no rangehunt.id), spread over three shards
// with only three distinct @timestamps, two hits a page: every document
// comes back exactly once (a sort on @timestamp alone, or with _doc as the
// tiebreaker, loses hits at page boundaries).
func TestSearchAllForeignDocumentsSharingTimestamps(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	ctx := context.Background()
	if _, err := c.request(ctx, http.MethodPut, "/"+index, nil,
		[]byte(`{"settings":{"number_of_shards":3,"number_of_replicas":0}}`)); err != nil {
		t.Fatal(err)
	}
	var bulk strings.Builder
	const n = 60
	for i := 0; i < n; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_index\":%q,\"_id\":\"doc-%02d\"}}\n", index, i)
		fmt.Fprintf(&bulk, "{\"@timestamp\":\"2024-01-01T00:00:0%dZ\",\"process\":{\"name\":\"sh\"},\"n\":%d}\n", i%3, i)
	}
	if _, err := c.request(ctx, http.MethodPost, "/_bulk", url.Values{"refresh": {"true"}}, []byte(bulk.String())); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	got, err := c.SearchAll(ctx, index, map[string]any{"query_string": map[string]any{"query": "process.name:sh"}}, SearchOptions{PageSize: 2}, func(h Hit) error {
		seen[h.ID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n || len(seen) != n {
		t.Fatalf("SearchAll returned %d hits, %d distinct documents; want %d", got, len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s returned %d times", id, k)
		}
	}
}

// TestForeignIndices tells indices created with rangehunt's mapping from
// indices created by someone else.
func TestForeignIndices(t *testing.T) {
	c := testClient(t)
	ours := testIndex(t, c) + "-ours"
	theirs := testIndex(t, c) + "-theirs"
	ctx := context.Background()
	t.Cleanup(func() { _ = c.DeleteIndex(context.Background(), ours); _ = c.DeleteIndex(context.Background(), theirs) })
	if _, err := c.EnsureIndex(ctx, ours); err != nil {
		t.Fatal(err)
	}
	if _, err := c.request(ctx, http.MethodPut, "/"+theirs, nil, []byte(`{"mappings":{"properties":{"process":{"properties":{"name":{"type":"keyword"}}}}}}`)); err != nil {
		t.Fatal(err)
	}
	got, err := c.ForeignIndices(ctx, ours+","+theirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != theirs {
		t.Errorf("ForeignIndices = %v, want [%s]", got, theirs)
	}
}
