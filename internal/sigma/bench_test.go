package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// BenchmarkParseSigmaHQ parses every active SigmaHQ rule (3 780 files,
// YAML included) per iteration. The converter's budget is 1 s for all of
// them on one core. Compare runs with:
//
//	go test -run XXX -bench ParseSigmaHQ -benchtime 5x -count 5 ./internal/sigma | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkParseSigmaHQ(b *testing.B) {
	root := testutil.SharedDir(b, "sigma")
	type input struct {
		path string
		data []byte
	}
	var inputs []input
	var size int64
	for _, sub := range sigmaHQRuleDirs {
		for _, p := range ruleFiles(b, filepath.Join(root, sub)) {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			inputs = append(inputs, input{p, data})
			size += int64(len(data))
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testutil.CPUTime()
	rules := 0
	for b.Loop() {
		for _, in := range inputs {
			f, errs := Parse(in.path, in.data)
			if errs.Err() != nil {
				b.Fatal(errs)
			}
			rules += len(f.Rules)
		}
	}
	b.ReportMetric(float64(rules)/b.Elapsed().Seconds(), "rules/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1000, "ms/all-rules")
	// On a shared machine wall time includes waiting for a core; the
	// process's CPU time is what the 1 s budget is about.
	b.ReportMetric((testutil.CPUTime()-cpu0).Seconds()/float64(b.N)*1000, "cpu-ms/all-rules")
}

// BenchmarkParseCondition measures the condition parser alone.
func BenchmarkParseCondition(b *testing.B) {
	src := "all of selection_* and not 1 of filter_main_* and not (filter_optional_a or filter_optional_b)"
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCondition(src); err != nil {
			b.Fatal(err)
		}
	}
}
