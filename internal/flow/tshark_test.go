package flow

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// collect is a Labeler that keeps every flow, in output order.
type collect struct{ flows []*Flow }

func (c *collect) Label(f *Flow) string { c.flows = append(c.flows, f); return "" }

// convKey is a tshark conversation: A and B as tshark prints them.
type convKey struct {
	proto uint8
	a, b  netip.AddrPort
}

// dirCount is frames and frame bytes per direction (A→B, B→A).
type dirCount struct {
	framesAB, framesBA int64
	bytesAB, bytesBA   int64
	// unit of the byte figures tshark printed (1 for exact, 1000 for kB …)
	unitAB, unitBA int64
}

func sharedPcaps(t *testing.T) []string {
	dir := testutil.SharedDir(t, "pcaps")
	files, err := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 18 {
		t.Fatalf("expected 18 captures in %s, found %d", dir, len(files))
	}
	return files
}

func unitOf(s string) (int64, error) {
	switch s {
	case "bytes":
		return 1, nil
	case "kB":
		return 1000, nil
	case "MB":
		return 1000_000, nil
	case "GB":
		return 1000_000_000, nil
	}
	return 0, fmt.Errorf("unknown unit %q", s)
}

// tsharkConv runs tshark's conversation statistics and sums the rows per
// conversation key (tshark may list a reused 5-tuple more than once).
func tsharkConv(t *testing.T, tshark, file string) map[convKey]*dirCount {
	out, err := exec.Command(tshark, "-n", "-q", "-r", file, "-z", "conv,tcp", "-z", "conv,udp").Output()
	// tshark exits 2 on a cut-short file but still prints its statistics.
	if err != nil && !bytes.Contains(out, []byte("UDP Conversations")) {
		t.Fatalf("tshark %s: %v", file, err)
	}
	res := map[convKey]*dirCount{}
	var proto uint8
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "TCP Conversations"):
			proto = 6
		case strings.HasPrefix(line, "UDP Conversations"):
			proto = 17
		}
		f := strings.Fields(line)
		if len(f) < 12 || f[1] != "<->" {
			continue
		}
		a, err1 := netip.ParseAddrPort(bracket(f[0]))
		b, err2 := netip.ParseAddrPort(bracket(f[2]))
		if err1 != nil || err2 != nil {
			t.Fatalf("tshark line %q: %v %v", line, err1, err2)
		}
		num := func(s string) int64 {
			v, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
			if err != nil {
				t.Fatalf("tshark line %q: %v", line, err)
			}
			return v
		}
		uBA, err := unitOf(f[5])
		if err != nil {
			t.Fatalf("tshark line %q: %v", line, err)
		}
		uAB, err := unitOf(f[8])
		if err != nil {
			t.Fatalf("tshark line %q: %v", line, err)
		}
		k := convKey{proto, a, b}
		c := res[k]
		if c == nil {
			c = &dirCount{unitAB: 1, unitBA: 1}
			res[k] = c
		}
		// "<-" is B→A, "->" is A→B.
		c.framesBA += num(f[3])
		c.bytesBA += num(f[4]) * uBA
		c.framesAB += num(f[6])
		c.bytesAB += num(f[7]) * uAB
		c.unitBA = max(c.unitBA, uBA)
		c.unitAB = max(c.unitAB, uAB)
	}
	return res
}

// bracket turns tshark's "fe80::1:5353" into "[fe80::1]:5353".
func bracket(s string) string {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Count(s, ":") == 1 {
		return s
	}
	return "[" + s[:i] + "]" + s[i:]
}

// tsharkExactBytes replaces the conversation table's byte figures, which
// tshark rounds down to kB/MB for large conversations, by exact sums of
// frame.len from tshark's per-frame fields, after checking that the rounded
// figures agree with them. ICMP error frames (which carry an inner TCP/UDP
// header) are not part of conversations.
func tsharkExactBytes(t *testing.T, tshark, file string, conv map[convKey]*dirCount) {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-E", "separator=|",
		"-e", "frame.len", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "icmp.type", "-e", "icmpv6.type").Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("tshark fields %s: %v", file, err)
	}
	first := func(s string) string { v, _, _ := strings.Cut(s, ","); return v }
	exact := map[convKey]*dirCount{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 11 || f[9] != "" || f[10] != "" {
			continue
		}
		var proto uint8
		sp, dp := first(f[5]), first(f[6])
		switch {
		case sp != "":
			proto = 6
		case first(f[7]) != "":
			proto, sp, dp = 17, first(f[7]), first(f[8])
		default:
			continue
		}
		src, dst := first(f[1])+first(f[2]), first(f[3])+first(f[4])
		a, err1 := netip.ParseAddrPort(bracket(src + ":" + sp))
		b, err2 := netip.ParseAddrPort(bracket(dst + ":" + dp))
		n, err3 := strconv.ParseInt(f[0], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("tshark fields line %q: %v %v %v", line, err1, err2, err3)
		}
		k, ab := convKey{proto, a, b}, true
		if conv[k] == nil {
			k, ab = convKey{proto, b, a}, false
		}
		if conv[k] == nil {
			t.Fatalf("tshark frame %q belongs to no conversation of its table", line)
		}
		e := exact[k]
		if e == nil {
			e = &dirCount{}
			exact[k] = e
		}
		if ab {
			e.bytesAB += n
		} else {
			e.bytesBA += n
		}
	}
	for k, c := range conv {
		e := exact[k]
		if e == nil {
			e = &dirCount{}
		}
		if e.bytesAB/c.unitAB*c.unitAB != c.bytesAB || e.bytesBA/c.unitBA*c.unitBA != c.bytesBA {
			t.Fatalf("conversation %v: tshark's table says %d/%d bytes (units %d/%d), its frames sum to %d/%d", k, c.bytesAB, c.bytesBA, c.unitAB, c.unitBA, e.bytesAB, e.bytesBA)
		}
		c.bytesAB, c.bytesBA = e.bytesAB, e.bytesBA
	}
}

func tsharkCount(t *testing.T, tshark, file string) int64 {
	out, err := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-e", "frame.number").Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("tshark %s: %v", file, err)
	}
	return int64(bytes.Count(out, []byte("\n")))
}

func extractFile(t *testing.T, file string, o Options) (*Summary, []*Flow, []byte) {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	c := &collect{}
	o.Labeler = c
	var buf bytes.Buffer
	sum, err := Extract(context.Background(), []Input{{Name: filepath.Base(file), R: fh}}, &buf, o)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return sum, c.flows, buf.Bytes()
}

// TestSharedCapturesMatchTshark checks, on every shared capture, that each
// packet is accounted exactly once and that per-direction packets and frame
// bytes of every TCP and UDP conversation equal tshark's (timeouts off, so
// no flow is split by time; flows a FIN/RST split are summed per key).
func TestSharedCapturesMatchTshark(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark")
	for _, file := range sharedPcaps(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			o := DefaultOptions()
			o.FlowTimeout = 0
			sum, flows, _ := extractFile(t, file, o)

			if want := tsharkCount(t, tshark, file); sum.Packets != want {
				t.Errorf("packets read = %d, tshark reads %d", sum.Packets, want)
			}
			if got := sum.InFlows + sum.NotIP + sum.MalformedTotal(); got != sum.Packets {
				t.Errorf("accounted %d (flows %d + not IP %d + malformed %d) != read %d", got, sum.InFlows, sum.NotIP, sum.MalformedTotal(), sum.Packets)
			}
			var inFlows int64
			for _, f := range flows {
				inFlows += f.FwdPackets + f.BwdPackets
			}
			if inFlows != sum.InFlows {
				t.Errorf("packets in flow rows = %d, summary says %d", inFlows, sum.InFlows)
			}
			if int64(len(flows)) != sum.Flows {
				t.Errorf("flows labelled %d, written %d", len(flows), sum.Flows)
			}

			want := tsharkConv(t, tshark, file)
			tsharkExactBytes(t, tshark, file, want)
			got := map[convKey]*dirCount{}
			for _, f := range flows {
				if f.Proto != 6 && f.Proto != 17 {
					continue
				}
				src := netip.AddrPortFrom(f.Src(), f.SrcPort)
				dst := netip.AddrPortFrom(f.Dst(), f.DstPort)
				k, fwdIsAB := convKey{f.Proto, src, dst}, true
				if _, ok := want[k]; !ok {
					k, fwdIsAB = convKey{f.Proto, dst, src}, false
				}
				c := got[k]
				if c == nil {
					c = &dirCount{}
					got[k] = c
				}
				if fwdIsAB {
					c.framesAB += f.FwdPackets
					c.bytesAB += f.FwdFrameBytes
					c.framesBA += f.BwdPackets
					c.bytesBA += f.BwdFrameBytes
				} else {
					c.framesBA += f.FwdPackets
					c.bytesBA += f.FwdFrameBytes
					c.framesAB += f.BwdPackets
					c.bytesAB += f.BwdFrameBytes
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d TCP/UDP conversations, tshark has %d", len(got), len(want))
			}
			bad := 0
			for k, w := range want {
				g := got[k]
				if g == nil {
					t.Errorf("conversation %v missing (tshark: %+v)", k, *w)
					bad++
				} else if g.framesAB != w.framesAB || g.framesBA != w.framesBA ||
					g.bytesAB != w.bytesAB || g.bytesBA != w.bytesBA {
					t.Errorf("conversation %v: got A→B %d frames %d bytes, B→A %d/%d; tshark A→B %d/%d, B→A %d/%d (byte units %d/%d)",
						k, g.framesAB, g.bytesAB, g.framesBA, g.bytesBA, w.framesAB, w.bytesAB, w.framesBA, w.bytesBA, w.unitAB, w.unitBA)
					bad++
				}
				if bad > 10 {
					t.Fatal("too many mismatches")
				}
			}
		})
	}
}

// TestTruncatedCapture pins the cut-short pgsql capture: 785 packets and a
// warning, no error.
func TestTruncatedCapture(t *testing.T) {
	file := filepath.Join(testutil.SharedDir(t, "pcaps"), "sv_pgsql-5000-query-results.pcap")
	sum, _, _ := extractFile(t, file, DefaultOptions())
	if sum.Packets != 785 {
		t.Errorf("packets = %d, want 785", sum.Packets)
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "truncated") {
		t.Errorf("warnings = %q, want one about truncation", sum.Warnings)
	}
}

// TestWorkersIdentical runs all shared captures in one merged run with 1
// and 2 workers (and twice with 2) and wants identical bytes.
func TestWorkersIdentical(t *testing.T) {
	files := sharedPcaps(t)
	run := func(workers int, format Format) []byte {
		var ins []Input
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			ins = append(ins, Input{Name: f, R: fh})
		}
		o := DefaultOptions()
		o.Workers, o.Format = workers, format
		var buf bytes.Buffer
		if _, err := Extract(context.Background(), ins, &buf, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, format := range []Format{CSV, JSONL, Parquet} {
		one := run(1, format)
		if len(one) < 1000 {
			t.Fatalf("output too short: %d bytes", len(one))
		}
		for _, w := range []int{2, 2, 3} {
			if got := run(w, format); !bytes.Equal(one, got) {
				t.Errorf("format %d: workers=%d output differs from workers=1 (%d vs %d bytes)", format, w, len(got), len(one))
			}
		}
	}
}
