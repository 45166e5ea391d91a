package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// Compare runs with benchstat:
//
//	go test -run '^$' -bench BenchmarkReaderExtract -count 5 ./internal/ecs > new.txt
//	benchstat old.txt new.txt

// benchFields are ~30 fields that Sigma rules for Linux read (after the
// ecs_linux mapping) plus the ones the matcher needs for every event.
var benchFields = []string{
	"@timestamp", "event.category", "event.type", "event.action", "event.module", "event.dataset",
	"event.outcome", "process.executable", "process.name", "process.args", "process.command_line",
	"process.working_directory", "process.pid", "process.parent.executable", "process.parent.name",
	"process.parent.command_line", "process.parent.pid", "process.title", "user.name", "user.id",
	"user.effective.name", "group.name", "host.name", "host.hostname", "file.path", "file.name",
	"destination.ip", "destination.port", "source.ip", "tags", "auditd.data.syscall",
}

var (
	benchExes = []string{"/usr/bin/bash", "/usr/bin/curl", "/usr/bin/python3.12", "/usr/sbin/sshd", "/usr/bin/cat",
		"/usr/bin/find", "/usr/bin/crontab", "/usr/bin/base64", "/usr/bin/wget", "/usr/bin/systemctl"}
	benchArgs = []string{"-c", "-O", "/etc/passwd", "--no-check-certificate", "http://203.0.113.7:8080/stage2.sh",
		"-name", "*.pem", "/tmp/.x", "echo Y3VybCAtcyBodHRwOi8vZXhhbXBsZS5jb20= | base64 -d | sh", "-la", "--user=root",
		"status", "ssh.service", "-type", "f", "-perm", "-4000", "'quoted arg'", "C:\\odd\\path", "ünïcödé"}
	benchUsers = []string{"root", "ubuntu", "www-data", "alice", "svc_backup"}
	benchHosts = []string{"web-01", "db-02", "range-victim-3", "jump-host"}
)

// benchEvent builds one Auditbeat-like process start event.
func benchEvent(rng *rand.Rand, t time.Time) []byte {
	exe := benchExes[rng.IntN(len(benchExes))]
	name := exe[strings.LastIndexByte(exe, '/')+1:]
	args := []string{name}
	for k := rng.IntN(4); k >= 0; k-- {
		args = append(args, benchArgs[rng.IntN(len(benchArgs))])
	}
	pexe := benchExes[rng.IntN(len(benchExes))]
	pname := pexe[strings.LastIndexByte(pexe, '/')+1:]
	user := benchUsers[rng.IntN(len(benchUsers))]
	host := benchHosts[rng.IntN(len(benchHosts))]
	pid, ppid := 1000+rng.IntN(60000), 1+rng.IntN(60000)
	ev := map[string]any{
		"@timestamp": t.Format("2006-01-02T15:04:05.000Z"),
		"event": map[string]any{"category": []string{"process"}, "type": []string{"start"}, "action": "executed",
			"module": "auditd", "dataset": "auditd.log", "kind": "event", "outcome": "success"},
		"process": map[string]any{
			"pid": pid, "name": name, "executable": exe, "args": args, "args_count": len(args),
			"command_line": strings.Join(args, " "), "working_directory": "/home/" + user,
			"parent": map[string]any{"pid": ppid, "name": pname, "executable": pexe},
		},
		"user": map[string]any{"id": fmt.Sprint(rng.IntN(2000)), "name": user,
			"effective": map[string]any{"id": "0", "name": "root"}, "group": map[string]any{"id": "0", "name": "root"}},
		"host": map[string]any{"name": host, "hostname": host, "architecture": "x86_64",
			"os": map[string]any{"family": "debian", "kernel": "6.8.0-45-generic"},
			"ip": []string{"10.0.3." + fmt.Sprint(rng.IntN(250)), "fe80::5054:ff:fe12:3456"}},
		"agent":  map[string]any{"type": "auditbeat", "version": "8.15.0"},
		"ecs":    map[string]any{"version": "8.0.0"},
		"auditd": map[string]any{"data": map[string]any{"syscall": "execve", "exit": "0", "tty": "pts0"}, "session": "1456"},
		"tags":   []string{"rangehunt", "victim"},
	}
	if rng.IntN(3) == 0 {
		// Some producers write dotted keys.
		ev["process.parent.command_line"] = pname + " -D"
		ev["destination.ip"] = "203.0.113.7"
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// benchCorpus returns n NDJSON lines of realistic events.
func benchCorpus(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	t := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		buf.Write(benchEvent(rng, t.Add(time.Duration(i)*time.Millisecond*37)))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// loopReader repeats data forever.
type loopReader struct {
	data []byte
	pos  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], l.data[l.pos:])
		n += k
		l.pos = (l.pos + k) % len(l.data)
	}
	return n, nil
}

// BenchmarkReaderExtract measures one event per op on an endless in-memory
// stream of Auditbeat-like process events: stage=next validates and splits,
// stage=next+extract also extracts the fields, stage=extract only extracts,
// and stage=encoding-json is the rejected option (decode to map[string]any).
func BenchmarkReaderExtract(b *testing.B) {
	corpus := benchCorpus(2000)
	lines := bytes.Split(bytes.TrimSuffix(corpus, []byte("\n")), []byte("\n"))
	avg := float64(len(corpus)) / float64(len(lines))
	for _, tc := range []struct {
		name    string
		next    bool
		extract bool
		all     bool
	}{
		{"stage=next", true, false, false},
		{"stage=next+extract/fields=31", true, true, false},
		{"stage=next+extract/fields=31+all", true, true, true},
		{"stage=extract/fields=31", false, true, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := NewFields(benchFields)
			f.SetCollectAll(tc.all)
			var ev Event
			r, err := NewReader(&loopReader{data: corpus}, "bench", Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(avg))
			b.ReportAllocs()
			k := 0
			b.ResetTimer()
			cpu0 := testutil.CPUTime()
			for i := 0; i < b.N; i++ {
				var raw []byte
				if tc.next {
					rec, err := r.Next()
					if err != nil {
						b.Fatal(err)
					}
					raw = rec.Raw
				} else {
					raw = lines[k]
					if k++; k == len(lines) {
						k = 0
					}
				}
				if tc.extract {
					if err := f.Extract(raw, &ev); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportRates(b, float64(b.N)*avg, testutil.CPUTime()-cpu0)
		})
	}
	b.Run("stage=encoding-json", func(b *testing.B) {
		b.SetBytes(int64(avg))
		b.ReportAllocs()
		cpu0 := testutil.CPUTime()
		for i := 0; i < b.N; i++ {
			var m map[string]any
			if err := json.Unmarshal(lines[i%len(lines)], &m); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, float64(b.N)*avg, testutil.CPUTime()-cpu0)
	})
}

// reportRates adds events/s and MB per CPU-second (steadier than MB/s when
// other processes share the cores).
func reportRates(b *testing.B, bytes float64, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(bytes/cpu.Seconds()/1e6, "MB/cpu-s")
	}
}

// BenchmarkReaderFile measures whole-input reads per op (including the
// Reader's setup), for NDJSON and gzip.
func BenchmarkReaderFile(b *testing.B) {
	corpus := benchCorpus(2000)
	var gz bytes.Buffer
	zw := newGzip(&gz)
	zw.Write(corpus)
	zw.Close()
	for _, tc := range []struct {
		name string
		data []byte
	}{{"format=ndjson", corpus}, {"format=gzip", gz.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			f := NewFields(benchFields)
			var ev Event
			b.SetBytes(int64(len(corpus)))
			b.ReportAllocs()
			cpu0 := testutil.CPUTime()
			for i := 0; i < b.N; i++ {
				r, err := NewReader(bytes.NewReader(tc.data), "bench", Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if err := f.Extract(rec.Raw, &ev); err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
			cpu := testutil.CPUTime() - cpu0
			if cpu > 0 {
				b.ReportMetric(float64(b.N)*float64(len(corpus))/cpu.Seconds()/1e6, "MB/cpu-s")
			}
		})
	}
}

func TestBenchCorpusSize(t *testing.T) {
	corpus := benchCorpus(2000)
	avg := len(corpus) / 2000
	t.Logf("average line %d bytes", avg)
	if avg < 600 || avg > 1000 {
		t.Errorf("benchmark events average %d bytes a line, want the realistic 600-1000", avg)
	}
}
