package ecs

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// TestSharedAuditEvents reads go-libaudit's normalised auditd events (a
// pretty-printed JSON array file, real data), then the same events as
// NDJSON and gzip-compressed NDJSON, and checks every extracted field
// against encoding/json.
func TestSharedAuditEvents(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, "logs"), "go-libaudit-testdata")
	files, err := filepath.Glob(filepath.Join(dir, "*.json.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.json.golden in %s: %v", dir, err)
	}
	paths := []string{"test_name", "event.@timestamp", "event.process.args", "event.process.exe", "event.process.pid",
		"event.ecs.event.category", "event.ecs.event.type", "event.user.ids.uid", "event.paths.name", "event.summary.object.primary"}
	fields := NewFields(paths)
	var ev Event
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var elems []json.RawMessage
			if err := json.Unmarshal(data, &elems); err != nil {
				t.Fatal(err)
			}
			var ndjson bytes.Buffer
			for _, e := range elems {
				if err := json.Compact(&ndjson, e); err != nil {
					t.Fatal(err)
				}
				ndjson.WriteByte('\n')
			}
			for _, in := range []struct {
				name string
				data []byte
			}{{"array", data}, {"ndjson", ndjson.Bytes()}, {"gzip", gzipBytes(t, ndjson.String())}} {
				r, err := NewReader(bytes.NewReader(in.data), file, Options{Strict: true})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s: %v", in.name, err)
					}
					if rec.Line != int64(n+1) {
						t.Errorf("%s: record %d has line %d", in.name, n+1, rec.Line)
					}
					if err := fields.Extract(rec.Raw, &ev); err != nil {
						t.Fatalf("%s: Extract: %v", in.name, err)
					}
					want, _, _, err := refExtract(rec.Raw)
					if err != nil {
						t.Fatal(err)
					}
					for i, p := range paths {
						if got := render(ev.Values(i)); !slices.Equal(got, want[p]) {
							t.Errorf("%s: record %d: %s = %q, encoding/json gives %q", in.name, n+1, p, got, want[p])
						}
					}
					if ts := ev.Values(fields.Index("event.@timestamp")); len(ts) != 1 {
						t.Errorf("%s: record %d: @timestamp %q", in.name, n+1, render(ts))
					} else if _, err := ts[0].Time(); err != nil {
						t.Errorf("%s: record %d: %v", in.name, n+1, err)
					}
					n++
				}
				if n != len(elems) {
					t.Errorf("%s: %d events, want %d", in.name, n, len(elems))
				}
				if st := r.Stats(); st.SkippedTotal() != 0 {
					t.Errorf("%s: skipped %v", in.name, st.Skipped)
				}
			}
		})
	}
}
