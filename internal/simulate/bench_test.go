package simulate

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

type discardSink struct{}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (discardSink) Create(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }

// BenchmarkSimulate measures generation speed without disk I/O: one
// iteration is one simulated hour of florama at benign rate 200 (about
// 1.5 million events and 3 million packets).
//
//	go test ./internal/simulate -run '^$' -bench Simulate -benchtime 1x -count 5 | benchstat -
func BenchmarkSimulate(b *testing.B) {
	for _, w := range []struct {
		name     string
		rate     float64
		workload string
	}{{"florama", benchRate, ""}, {"process", 10 * benchRate, "process"}, {"network", benchRate, "network"}} {
		rate := w.rate
		b.Run("workload="+w.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := testutil.CPUTime()
			var events, packets, bytes int64
			for i := 0; i < b.N; i++ {
				st, err := Run(context.Background(), discardSink{}, Options{Seed: uint64(i + 1), Duration: time.Hour, BenignRate: rate, BenignOnly: w.workload != "", Workload: w.workload})
				if err != nil {
					b.Fatal(err)
				}
				events += st.Events
				packets += st.Packets
				for _, n := range st.Files {
					bytes += n
				}
			}
			sec := b.Elapsed().Seconds()
			cpu := (testutil.CPUTime() - cpu0).Seconds()
			// Per CPU second (user+sys of the process, GC included): the
			// figure that does not depend on how busy the machine is.
			b.ReportMetric(float64(events)/cpu, "events/cpu-s")
			b.ReportMetric(float64(packets)/cpu, "packets/cpu-s")
			b.ReportMetric(float64(events+packets)/cpu, "records/cpu-s")
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(events)/sec, "events/s")
			b.ReportMetric(float64(packets)/sec, "packets/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
			b.ReportMetric(float64(packets)/float64(b.N), "packets/op")
		})
	}
}

var benchRate = 40.0
