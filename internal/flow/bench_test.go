package flow

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/pcap"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

var benchCap = flag.String("benchcap", "", "TestWriteBenchCapture writes the ≥1M-packet benchmark capture to this path")

// writeBenchCapture concatenates the shared captures (all Ethernet) into
// one nanosecond pcap, again and again until it holds at least minPackets.
// Each file's packets keep their relative times and are shifted to start
// one second after the previous file ended.
func writeBenchCapture(w io.Writer, files []string, minPackets int) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := newPcapWriter(uint32(pcap.LinkEthernet))
	if _, err := bw.Write(pw.buf.Bytes()); err != nil {
		return 0, err
	}
	var hdr [16]byte
	cursor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	n := 0
	for n < minPackets {
		for _, file := range files {
			fh, err := os.Open(file)
			if err != nil {
				return n, err
			}
			r, err := pcap.NewReader(fh)
			if err != nil {
				fh.Close()
				return n, fmt.Errorf("%s: %w", file, err)
			}
			var first, last int64
			for i := 0; ; i++ {
				p, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					fh.Close()
					return n, fmt.Errorf("%s: %w", file, err)
				}
				if p.LinkType != pcap.LinkEthernet {
					continue
				}
				if i == 0 {
					first = p.Timestamp
				}
				ts := cursor + p.Timestamp - first
				if ts > last {
					last = ts
				}
				putRecord(&hdr, ts, len(p.Data), p.OrigLen)
				bw.Write(hdr[:])
				bw.Write(p.Data)
				n++
			}
			fh.Close()
			cursor = last + int64(time.Second)
		}
	}
	return n, bw.Flush()
}

func putRecord(h *[16]byte, ts int64, caplen, orig int) {
	le := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le(h[0:], uint32(ts/1e9))
	le(h[4:], uint32(ts%1e9))
	le(h[8:], uint32(caplen))
	le(h[12:], uint32(orig))
}

func sharedFilesSorted(tb testing.TB) []string {
	dir := testutil.SharedDir(tb, "pcaps")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	sort.Strings(files)
	return files
}

// TestWriteBenchCapture writes the benchmark capture for
// scripts/bench-flows.sh (go test -run TestWriteBenchCapture -args -benchcap=F).
func TestWriteBenchCapture(t *testing.T) {
	if *benchCap == "" {
		t.Skip("set -benchcap=PATH to write the benchmark capture")
	}
	fh, err := os.Create(*benchCap)
	if err != nil {
		t.Fatal(err)
	}
	n, err := writeBenchCapture(fh, sharedFilesSorted(t), 1_000_000)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("wrote %d packets to %s\n", n, *benchCap)
}

// BenchmarkExtract runs the whole pipeline (read, decode, flow table, CSV)
// on a ≥1M-packet capture built from the shared captures.
//
//	go test ./internal/flow -run '^$' -bench Extract -benchtime 2x -count 5 | tee new.txt; benchstat old.txt new.txt
func BenchmarkExtract(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.pcap")
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	n, err := writeBenchCapture(fh, sharedFilesSorted(b), 1_000_000)
	fh.Close()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			o := DefaultOptions()
			o.Workers = workers
			var flows int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fh, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				sum, err := Extract(context.Background(), []Input{{Name: path, R: fh}}, io.Discard, o)
				fh.Close()
				if err != nil {
					b.Fatal(err)
				}
				if sum.Packets != int64(n) {
					b.Fatalf("read %d packets, wrote %d", sum.Packets, n)
				}
				flows = sum.Flows
			}
			el := b.Elapsed().Seconds()
			b.ReportMetric(float64(n)*float64(b.N)/el, "pkts/s")
			b.ReportMetric(float64(flows), "flows/op")
			b.ReportMetric(float64(n), "pkts/op")
		})
	}
}

// TestTableNoAllocsPerPacket: a packet of an existing flow costs no
// allocation (decode + table update); only a new flow allocates.
func TestTableNoAllocsPerPacket(t *testing.T) {
	o := DefaultOptions()
	tb := newTable(&o)
	var p pkt
	data := rawPacket([]byte{0, 0, 0x18, 10, 0, 0})
	if r := pcap.Decode(pcap.LinkRaw, data, &p.d); r != pcap.ReasonOK {
		t.Fatal(r)
	}
	p.ts = 1e9
	tb.packet(&p)
	allocs := testing.AllocsPerRun(1000, func() {
		p.seq++
		p.ts += 1e6
		pcap.Decode(pcap.LinkRaw, data, &p.d)
		tb.packet(&p)
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per packet", allocs)
	}
	if len(tb.flows) != 1 {
		t.Fatalf("%d flows", len(tb.flows))
	}
}
