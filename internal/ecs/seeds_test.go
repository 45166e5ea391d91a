package ecs

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files (the fuzz seed corpus in testdata/fuzz)")

// fuzzSeedFiles are the seed corpus files kept in testdata/fuzz: realistic
// inputs and each kind of bad input, as files so that they stay with the
// crashers the fuzzer may add.
func fuzzSeedFiles(t *testing.T) map[string][]byte {
	events := benchCorpus(4)
	lines := bytes.Split(bytes.TrimSpace(events), []byte("\n"))
	array := append(append([]byte("[\n  "), bytes.Join(lines, []byte(",\n  "))...), "\n]\n"...)
	gz := gzipBytes(t, string(events))
	mixed := strings.Join([]string{string(lines[0]), "", `{"process":{"name":"sh"`, "{\"a\":\"\xff\"}", "[1]",
		`{"a" 1}`, strings.Repeat(" ", 10) + string(lines[1]), `{"process.args":["a","b"],"process":{"parent.name":"x"}}`}, "\n")
	reader := map[string][]byte{
		"seed-ndjson":    events,
		"seed-array":     array,
		"seed-gzip":      gz,
		"seed-gzip-cut":  gz[:len(gz)/2],
		"seed-bad-lines": []byte(mixed),
		"seed-array-bad": []byte(`[{"a":1},{"a" 1},"x",{"b":[2]} {"c":3},,{"d":"` + "\xfe" + `"}]  x`),
		"seed-long-line": []byte(`{"a":1}` + "\n" + `{"long":"` + strings.Repeat("z", 400) + `"}` + "\n{}\n"),
	}
	extract := map[string][]byte{
		"seed-event":         lines[0],
		"seed-dotted":        []byte(`{"a.b":1,"a":{"b":[2,{"c":3}]},"process.parent":{"name":"x"},"process":{"parent.name":"y","args":["-c","id"]}}`),
		"seed-escapes":       []byte(`{"a":"\u00e9\ud83d\ude00\ud800\"\\\/\b\f\n\r\t","x":{"y.z":"\u0000"},"":{"":0}}`),
		"seed-deep":          []byte(`{"a":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`),
		"seed-arrays":        []byte(`{"a":[[1,[2]],{"b":[true,null]},[],{}],"b":-0.5e-3}`),
		"seed-not-object":    []byte(`[{"a":1}]`),
		"seed-malformed-key": []byte(`{"a":1,"b"}`),
	}
	files := map[string][]byte{}
	for name, data := range reader {
		files[filepath.Join("FuzzReader", name)] = data
	}
	for name, data := range extract {
		files[filepath.Join("FuzzExtract", name)] = data
	}
	return files
}

// TestFuzzSeedCorpus checks that testdata/fuzz holds the seed corpus
// (rewrite it with -update).
func TestFuzzSeedCorpus(t *testing.T) {
	for name, data := range fuzzSeedFiles(t) {
		path := filepath.Join("testdata", "fuzz", name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v); rerun with -update", path, err)
		}
	}
}
