package opensearch

import (
	"context"
	"os"
	"testing"
)

// BenchmarkIngest loads 100,000 ECS events (about 55 MB of NDJSON) into a
// fresh index of the local node per iteration, through LoadFiles (reader,
// bulk requests, refresh and count check). It skips without a server.
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
	var rate float64
	for range b.N {
		b.StopTimer()
		if err := c.DeleteIndex(ctx, index); err != nil {
			b.Fatal(err)
		}
		if _, err := c.EnsureIndex(ctx, index); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}})
		if err != nil {
			b.Fatal(err)
		}
		if st.Count != int64(n) {
			b.Fatalf("count %d, want %d", st.Count, n)
		}
		rate = st.Rate()
	}
	b.ReportMetric(rate, "events/s")
}
