package opensearch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"
)

// BenchmarkIngest loads 100,000 ECS events (about 55 MB of NDJSON) into a
// fresh index of the local node per iteration, through LoadFiles (reader,
// bulk requests, refresh and count check). It skips without a server.
// Besides events/s (wall clock, which swings with whatever else runs on the
// machine) it reports the node's CPU time per event (server-us/event, from
// the node's process stats: steadier, but it also counts other clients'
// requests to the same node) and the client's (client-us/event).
// scripts/bench-ingest.sh runs it and prints the node's settings.
func BenchmarkIngest(b *testing.B) {
	c := testClient(b)
	n := 100000
	path := writeEvents(b, b.TempDir(), n, false)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	index := testIndex(b, c)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(fi.Size())
	b.ResetTimer()
	var rate, server, client float64
	for range b.N {
		b.StopTimer()
		if err := c.DeleteIndex(ctx, index); err != nil {
			b.Fatal(err)
		}
		if _, err := c.EnsureIndex(ctx, index); err != nil {
			b.Fatal(err)
		}
		cpu0 := nodeCPU(b, c)
		self0 := selfCPU()
		b.StartTimer()
		st, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		server = float64((nodeCPU(b, c) - cpu0).Microseconds()) / float64(n)
		client = float64((selfCPU() - self0).Microseconds()) / float64(n)
		b.StartTimer()
		if st.Count != int64(n) {
			b.Fatalf("count %d, want %d", st.Count, n)
		}
		rate = st.Rate()
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(server, "server-us/event")
	b.ReportMetric(client, "client-us/event")
}

// nodeCPU is the CPU time the node's process has used so far.
func nodeCPU(b *testing.B, c *Client) time.Duration {
	data, err := c.request(context.Background(), http.MethodGet, "/_nodes/_local/stats/process", url.Values{"filter_path": {"nodes.*.process.cpu.total_in_millis"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var r struct {
		Nodes map[string]struct {
			Process struct {
				CPU struct {
					TotalInMillis int64 `json:"total_in_millis"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Nodes) != 1 {
		b.Fatalf("node process stats %s: %v", data, err)
	}
	for _, n := range r.Nodes {
		return time.Duration(n.Process.CPU.TotalInMillis) * time.Millisecond
	}
	return 0
}
