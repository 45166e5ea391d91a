package hunt

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/testutil"
	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

var (
	benchOut = flag.String("bench-out", "", "TestWriteBenchEvents: write realistic ECS process events to this file")
	benchMB  = flag.Int("bench-mb", 100, "TestWriteBenchEvents: size of the file in MB")
)

var (
	benchBins = []string{"/usr/bin/bash", "/usr/bin/ls", "/usr/bin/cat", "/usr/bin/grep", "/usr/bin/python3",
		"/usr/sbin/sshd", "/usr/bin/sudo", "/usr/bin/systemctl", "/usr/bin/curl", "/usr/bin/ps",
		"/usr/lib/systemd/systemd-journald", "/usr/bin/awk", "/usr/bin/sed", "/usr/bin/find", "/usr/bin/tar"}
	benchArgs = []string{"-la /var/log", "-c 'for f in /etc/*.conf; do md5sum $f; done'", "--quiet status nginx.service",
		"-o /tmp/update.sh https://updates.example.com/agent/latest", "aux", "-rn TODO /srv/app/src", "/etc/passwd",
		"-m pip install --user requests==2.31.0", "-czf /backup/home.tgz /home/alice", "{print $1}"}
	benchUsers = []string{"root", "alice", "bob", "www-data", "postgres"}
)

// benchEvent returns one realistic ECS process event (Auditbeat/Elastic
// Agent style, ~900 bytes): mostly process starts, some ends and network
// and file events.
func benchEvent(rng *rand.Rand, i int) string {
	exe := benchBins[rng.Intn(len(benchBins))]
	name := filepath.Base(exe)
	args := benchArgs[rng.Intn(len(benchArgs))]
	parent := benchBins[rng.Intn(4)]
	user := benchUsers[rng.Intn(len(benchUsers))]
	ts := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Millisecond)
	cat, typ := `["process"]`, `["start"]`
	switch rng.Intn(10) {
	case 0:
		typ = `["end"]`
	case 1:
		cat, typ = `["network"]`, `["connection","start"]`
	case 2:
		cat, typ = `["file"]`, `["creation"]`
	}
	pid := 1000 + rng.Intn(60000)
	return fmt.Sprintf(`{"@timestamp":"%s","agent":{"type":"auditbeat","version":"8.14.3","id":"5b8c2f4e-2d7a-4c1e-9b1f-7e3a9d0c6a11"},`+
		`"ecs":{"version":"8.11.0"},"host":{"name":"web-%02d","hostname":"web-%02d","os":{"family":"debian","kernel":"6.1.0-18-amd64","name":"Debian GNU/Linux","version":"12"},"ip":["10.20.%d.%d"]},`+
		`"event":{"kind":"event","category":%s,"type":%s,"action":"executed","module":"auditd","dataset":"auditd.log","outcome":"success"},`+
		`"process":{"pid":%d,"name":"%s","executable":"%s","args":["%s","%s"],"command_line":"%s %s","working_directory":"/home/%s",`+
		`"parent":{"pid":%d,"name":"%s","executable":"%s","command_line":"%s"},"entity_id":"p%x"},`+
		`"user":{"name":"%s","id":"%d"},"tags":["range-run-7"],"message":"process %s started by %s"}`,
		ts.Format(time.RFC3339Nano), i%16, i%16, rng.Intn(255), rng.Intn(255), cat, typ,
		pid, name, exe, name, strings.ReplaceAll(args, `'`, `\u0027`), exe, strings.ReplaceAll(args, `'`, `\u0027`), user,
		pid-rng.Intn(900)-1, filepath.Base(parent), parent, parent, i, user, 1000+rng.Intn(5), name, user)
}

func writeBenchFile(w io.Writer, size int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewSource(42))
	var n int64
	for i := 0; n < size; i++ {
		l := benchEvent(rng, i)
		n += int64(len(l)) + 1
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// TestWriteBenchEvents writes the benchmark's events to -bench-out (used
// by scripts/bench-hunt.sh); it does nothing without the flag.
func TestWriteBenchEvents(t *testing.T) {
	if *benchOut == "" {
		t.Skip("no -bench-out")
	}
	f, err := os.Create(*benchOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBenchFile(f, int64(*benchMB)<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func benchRuleSet(b *testing.B) *RuleSet {
	rules, _ := sigmahq.LinuxRules(b)
	rs, err := NewRuleSet(rules, nil, LoadOptions{Pipeline: "ecs_linux"})
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

// BenchmarkHunt measures the evaluator on one core: extraction of the
// fields the 248 SigmaHQ Linux rules read (ecs_linux + event kind) and
// their evaluation, over realistic ECS process events.
func BenchmarkHunt(b *testing.B) {
	rs := benchRuleSet(b)
	set, errs := match.Compile(rs.Rules)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	rng := rand.New(rand.NewSource(1))
	var evs [][]byte
	var size int64
	for i := 0; i < 4096; i++ {
		e := benchEvent(rng, i)
		evs = append(evs, []byte(e))
		size += int64(len(e)) + 1
	}
	m := set.NewMatcher()
	var hits []int
	nHits := 0
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testutil.CPUTime()
	for i := 0; i < b.N; i++ {
		for _, e := range evs {
			var err error
			hits, err = m.Match(e, hits[:0])
			if err != nil {
				b.Fatal(err)
			}
			nHits += len(hits)
		}
	}
	// The machine may be shared: CPU time gives the per-core figure
	// whatever the load.
	if cpu := (testutil.CPUTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(nHits)/float64(b.N*len(evs)), "hits/event")
}

// BenchmarkHuntFile measures the whole file backend (reading NDJSON,
// matching, ordering, writing JSON lines) with one worker.
func BenchmarkHuntFile(b *testing.B) {
	rs := benchRuleSet(b)
	p := filepath.Join(b.TempDir(), "events.ndjson")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBenchFile(f, 16<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(p)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), &FileBackend{Files: []string{p}, Workers: 1}, rs, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
