package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy is a failure injector in front of the real node: it answers
// the first failures bulk requests itself with the given statuses (or by
// dropping the connection when the status is 0), optionally rewrites the
// first successful bulk response to reject every other item with 429, and
// forwards everything else to the node unchanged.
type faultProxy struct {
	statuses    []int // per failed bulk request, in order; 0 drops the connection
	rejectItems bool

	mu       sync.Mutex
	bulks    int
	rejected int
	served   atomic.Int64
}

func (f *faultProxy) start(t *testing.T, target string) *httptest.Server {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.served.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/_bulk") {
			rp.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		n := f.bulks
		f.bulks++
		f.mu.Unlock()
		if n < len(f.statuses) {
			io.Copy(io.Discard, r.Body)
			if f.statuses[n] == 0 {
				hj, ok := w.(http.Hijacker)
				if !ok {
					t.Error("cannot hijack")
					return
				}
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.statuses[n])
			io.WriteString(w, `{"error":{"type":"injected","reason":"fault injected by the test"},"status":`+http.StatusText(f.statuses[n])+`}`)
			return
		}
		if !f.rejectItems {
			rp.ServeHTTP(w, r)
			return
		}
		// Forward, then mark every other item of the first response as
		// rejected with 429 (as a node with a full write queue does).
		r.Header.Del("Accept-Encoding")
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		f.mu.Lock()
		first := f.rejected == 0
		var resp map[string]any
		if first && rec.Code == 200 && json.Unmarshal(rec.Body.Bytes(), &resp) == nil {
			items, _ := resp["items"].([]any)
			for i := 0; i < len(items); i += 2 {
				for _, v := range items[i].(map[string]any) {
					m := v.(map[string]any)
					m["status"] = 429
					m["error"] = map[string]any{"type": "rejected_execution_exception", "reason": "injected"}
				}
				f.rejected++
			}
			resp["errors"] = true
			b, _ := json.Marshal(resp)
			rec.Body = bytes.NewBuffer(b)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func proxiedClient(t *testing.T, real *Client, proxyURL string, maxRetries int) *Client {
	t.Helper()
	cfg := real.Config()
	cfg.URL = proxyURL
	cfg.MaxRetries = maxRetries
	cfg.RetryBase = 5 * time.Millisecond
	cfg.RetryMax = 50 * time.Millisecond
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIngestRetriesOn429And503AndDroppedConnections(t *testing.T) {
	real := testClient(t)
	index := testIndex(t, real)
	path := writeEvents(t, t.TempDir(), 4000, false)
	fp := &faultProxy{statuses: []int{503, 429, 0, 502, 503}}
	srv := fp.start(t, real.Config().URL)
	c := proxiedClient(t, real, srv.URL, 8)
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index, BatchDocs: 1000, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Indexed() != 4000 || st.Failed != 0 || st.Count != 4000 {
		t.Errorf("stats %+v; want 4000 indexed and counted, none failed", st)
	}
	if c.Retries() < 5 {
		t.Errorf("retries = %d, want at least 5 (one per injected failure)", c.Retries())
	}
	if fp.bulks < 5+4 {
		t.Errorf("%d bulk requests reached the proxy, want the 5 failed ones and 4 batches", fp.bulks)
	}
}

func TestIngestRetriesRejectedItems(t *testing.T) {
	real := testClient(t)
	index := testIndex(t, real)
	path := writeEvents(t, t.TempDir(), 1000, false)
	fp := &faultProxy{rejectItems: true}
	srv := fp.start(t, real.Config().URL)
	c := proxiedClient(t, real, srv.URL, 8)
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index, BatchDocs: 1000, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if st.ItemRetries != 500 || st.Indexed() != 1000 || st.Failed != 0 || st.Count != 1000 {
		t.Errorf("stats %+v; want 500 items re-sent, 1000 indexed and counted exactly once", st)
	}
}

func TestIngestGivesUpAndReports(t *testing.T) {
	real := testClient(t)
	index := testIndex(t, real)
	path := writeEvents(t, t.TempDir(), 100, false)
	fp := &faultProxy{statuses: []int{503, 503, 503, 503}}
	srv := fp.start(t, real.Config().URL)
	c := proxiedClient(t, real, srv.URL, 2)
	var failures atomic.Int64
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index, OnFailure: func(ItemFailure) { failures.Add(1) }}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err = %v; want the abandoned bulk reported with its last status", err)
	}
	if st.Failed != 100 || failures.Load() != 100 || st.Indexed() != 0 {
		t.Errorf("stats %+v, %d failures reported; want all 100 documents counted as failed", st, failures.Load())
	}
}

func TestIngestRefusedDocumentsAreCounted(t *testing.T) {
	c := testClient(t)
	index := testIndex(t, c)
	dir := t.TempDir()
	path := dir + "/mixed.ndjson"
	data := `{"@timestamp":"2024-05-01T10:00:00Z","source":{"ip":"10.1.1.1"}}
{"@timestamp":"2024-05-01T10:00:01Z","source":{"ip":"not-an-ip"}}
{"@timestamp":"yesterday","event":{"id":"x"}}
{"@timestamp":"2024-05-01T10:00:03Z","destination":{"port":"https"}}
{"@timestamp":"2024-05-01T10:00:04Z","process":{"name":"ok"}}
`
	if err := writeFile(path, data); err != nil {
		t.Fatal(err)
	}
	var got []ItemFailure
	var mu sync.Mutex
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index, OnFailure: func(f ItemFailure) {
		mu.Lock()
		got = append(got, f)
		mu.Unlock()
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Indexed() != 2 || st.Failed != 3 || st.Count != 2 {
		t.Errorf("stats %+v; want 2 indexed, 3 refused", st)
	}
	lines := map[int64]bool{}
	for _, f := range got {
		lines[f.Line] = true
		if f.Status != 400 || f.Type != "mapper_parsing_exception" || f.File != path {
			t.Errorf("failure %v; want a 400 mapper_parsing_exception naming the file", f)
		}
	}
	if !lines[2] || !lines[3] || !lines[4] {
		t.Errorf("refused lines %v; want 2, 3 and 4", lines)
	}
}
