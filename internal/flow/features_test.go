package flow

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// hp is one hand-built packet: time offset, direction, TCP flags, payload
// size, window.
type hp struct {
	at    time.Duration
	bwd   bool
	flags string // letters F S R P A U E C
	pl    int
	win   uint16
	udp   bool
}

var (
	cli    = net.IP{10, 0, 0, 1}
	srv    = net.IP{10, 0, 0, 2}
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cliPrt = layers.TCPPort(40000)
	srvPrt = layers.TCPPort(80)
)

// capture writes the packets as an Ethernet pcap with gopacket.
func capture(t *testing.T, pkts []hp) []byte {
	t.Helper()
	w := newPcapWriter(1)
	for _, p := range pkts {
		w.write(t0.Add(p.at), serialize(t, p), 0)
	}
	return w.buf.Bytes()
}

func serialize(t *testing.T, p hp) []byte {
	t.Helper()
	src, dst := cli, srv
	sp, dp := cliPrt, srvPrt
	if p.bwd {
		src, dst, sp, dp = dst, src, dp, sp
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolTCP}
	payload := gopacket.Payload(bytes.Repeat([]byte{'x'}, p.pl))
	var l4 gopacket.SerializableLayer
	if p.udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
		_ = u.SetNetworkLayerForChecksum(ip)
		l4 = u
	} else {
		tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Window: p.win, Seq: 1}
		for _, c := range p.flags {
			switch c {
			case 'F':
				tcp.FIN = true
			case 'S':
				tcp.SYN = true
			case 'R':
				tcp.RST = true
			case 'P':
				tcp.PSH = true
			case 'A':
				tcp.ACK = true
			case 'U':
				tcp.URG = true
			case 'E':
				tcp.ECE = true
			case 'C':
				tcp.CWR = true
			}
		}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		l4 = tcp
	}
	sb := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, l4, payload); err != nil {
		t.Fatal(err)
	}
	return sb.Bytes()
}

func run(t *testing.T, o Options, pkts []hp) []*Flow {
	t.Helper()
	c := &collect{}
	o.Labeler = c
	var out bytes.Buffer
	sum, err := Extract(context.Background(), []Input{{Name: "hand", R: bytes.NewReader(capture(t, pkts))}}, &out, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.InFlows != int64(len(pkts)) {
		t.Fatalf("in flows %d, want %d (summary %+v)", sum.InFlows, len(pkts), sum)
	}
	return c.flows
}

func col(t *testing.T, f *Flow, name string) float64 {
	t.Helper()
	var v [NumValues]float64
	f.Values(&v)
	for i, c := range Columns {
		if c == name {
			return v[i-7]
		}
	}
	t.Fatalf("no column %q", name)
	return 0
}

func check(t *testing.T, f *Flow, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		if g := col(t, f, name); math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// sampleStd is the n−1 standard deviation, computed the textbook way.
func sampleStd(xs ...float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

func TestLengthsAndIAT(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{
		{at: 0, flags: "S", win: 1000},
		{at: ms(1), bwd: true, flags: "SA", win: 2000},
		{at: ms(3), flags: "PA", pl: 100, win: 1001},
		{at: ms(6), bwd: true, flags: "PA", pl: 50, win: 2001},
		{at: ms(10), flags: "PA", pl: 300, win: 1002},
	})
	if len(fs) != 1 {
		t.Fatalf("%d flows, want 1", len(fs))
	}
	f := fs[0]
	check(t, f, map[string]float64{
		"Flow Duration":              10000,
		"Total Fwd Packet":           3,
		"Total Bwd packets":          2,
		"Total Length of Fwd Packet": 400,
		"Total Length of Bwd Packet": 50,
		"Fwd Packet Length Max":      300,
		"Fwd Packet Length Min":      0,
		"Fwd Packet Length Mean":     400.0 / 3,
		"Fwd Packet Length Std":      sampleStd(0, 100, 300),
		"Bwd Packet Length Std":      sampleStd(0, 50),
		"Packet Length Min":          0,
		"Packet Length Max":          300,
		"Packet Length Mean":         90,
		"Packet Length Variance":     sampleStd(0, 0, 100, 50, 300) * sampleStd(0, 0, 100, 50, 300),
		"Flow Bytes/s":               450 / 0.010,
		"Flow Packets/s":             5 / 0.010,
		"Fwd Packets/s":              3 / 0.010,
		"Bwd Packets/s":              2 / 0.010,
		"Flow IAT Mean":              2500,
		"Flow IAT Std":               sampleStd(1000, 2000, 3000, 4000),
		"Flow IAT Max":               4000,
		"Flow IAT Min":               1000,
		"Fwd IAT Total":              10000,
		"Fwd IAT Mean":               5000,
		"Fwd IAT Std":                sampleStd(3000, 7000),
		"Fwd IAT Max":                7000,
		"Fwd IAT Min":                3000,
		"Bwd IAT Total":              5000,
		"Bwd IAT Min":                5000,
		"Fwd Header Length":          60,
		"Bwd Header Length":          40,
		"Down/Up Ratio":              2.0 / 3,
		"Average Packet Size":        90,
		"Fwd Segment Size Avg":       400.0 / 3,
		"Bwd Segment Size Avg":       25,
		"Fwd Act Data Pkts":          2,
		"Fwd Seg Size Min":           20,
		"FWD Init Win Bytes":         1000,
		"Bwd Init Win Bytes":         2000,
		"Subflow Fwd Packets":        3,
		"Subflow Bwd Bytes":          50,
	})
	if f.Src().String() != "10.0.0.1" || f.SrcPort != 40000 || f.Reason != EndInput {
		t.Errorf("direction/reason: %v:%d %v", f.Src(), f.SrcPort, f.Reason)
	}
}

func TestFlagsCountedPerPacket(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{
		{at: 0, flags: "SEC"},
		{at: ms(1), bwd: true, flags: "SAE"},
		{at: ms(2), flags: "PA", pl: 10},
		{at: ms(3), flags: "PAU", pl: 10},
		{at: ms(4), bwd: true, flags: "PA", pl: 10},
		{at: ms(5), bwd: true, flags: "PAU", pl: 10},
		{at: ms(6), bwd: true, flags: "PA", pl: 10},
	})
	check(t, fs[0], map[string]float64{
		"Fwd PSH Flags": 2, "Bwd PSH Flags": 3, "Fwd URG Flags": 1, "Bwd URG Flags": 1,
		"FIN Flag Count": 0, "SYN Flag Count": 2, "RST Flag Count": 0, "PSH Flag Count": 5,
		"ACK Flag Count": 6, "URG Flag Count": 2, "CWR Flag Count": 1, "ECE Flag Count": 2,
	})
}

func TestBulk(t *testing.T) {
	// Forward: 5 payload packets 100 ms apart = one bulk of 5 (bytes 5*100,
	// duration 400 ms). A backward payload packet then breaks the next
	// forward candidate, which therefore never reaches 4.
	pk := []hp{{at: 0, flags: "S"}}
	for i := 0; i < 5; i++ {
		pk = append(pk, hp{at: ms(100 * float64(i+1)), flags: "A", pl: 100})
	}
	pk = append(pk,
		hp{at: ms(600), flags: "A", pl: 10},
		hp{at: ms(650), bwd: true, flags: "A", pl: 7},
		hp{at: ms(700), flags: "A", pl: 10},
		hp{at: ms(800), flags: "A", pl: 10},
		hp{at: ms(3000), flags: "A", pl: 10}, // > 1 s gap: new candidate
	)
	fs := run(t, DefaultOptions(), pk)
	check(t, fs[0], map[string]float64{
		"Fwd Bytes/Bulk Avg":  510,
		"Fwd Packet/Bulk Avg": 6,
		"Fwd Bulk Rate Avg":   510 / 0.5,
		"Bwd Bytes/Bulk Avg":  0,
		"Bwd Packet/Bulk Avg": 0,
		"Bwd Bulk Rate Avg":   0,
	})
}

func TestSubflowsAndActiveIdle(t *testing.T) {
	o := DefaultOptions()
	o.IdleTimeout = 5 * time.Second
	fs := run(t, o, []hp{
		{at: 0, udp: true, pl: 10},
		{at: ms(500), bwd: true, udp: true, pl: 20},
		{at: ms(2000), udp: true, pl: 10}, // 1.5 s gap: subflow 2 (still active)
		{at: ms(9000), udp: true, pl: 10}, // 7 s gap: idle 7 s, subflow 3
		{at: ms(9200), bwd: true, udp: true, pl: 20},
		{at: ms(16200), udp: true, pl: 10}, // 7 s idle again
	})
	if len(fs) != 1 {
		t.Fatalf("%d flows", len(fs))
	}
	check(t, fs[0], map[string]float64{
		"Subflow Fwd Packets": 4.0 / 4,
		"Subflow Fwd Bytes":   40.0 / 4,
		"Subflow Bwd Packets": 2.0 / 4,
		"Subflow Bwd Bytes":   40.0 / 4,
		// active periods: 0–2 s, 9–9.2 s, and the last one (16.2 s, length 0)
		"Active Mean": (2e6 + 0.2e6 + 0) / 3,
		"Active Std":  sampleStd(2e6, 0.2e6, 0),
		"Active Max":  2e6,
		"Active Min":  0,
		"Idle Mean":   7e6,
		"Idle Std":    0,
		"Idle Max":    7e6,
		"Idle Min":    7e6,
		// UDP: header 8, no window
		"Fwd Header Length":  32,
		"FWD Init Win Bytes": -1,
		"Bwd Init Win Bytes": -1,
	})
}

func TestNoIdleRecordsOneActivePeriod(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{{at: 0, udp: true}, {at: ms(1500), udp: true, bwd: true}})
	check(t, fs[0], map[string]float64{"Active Mean": 1.5e6, "Active Max": 1.5e6, "Active Min": 1.5e6, "Idle Max": 0})
}

func TestFlowTimeout(t *testing.T) {
	o := DefaultOptions()
	o.FlowTimeout = 10 * time.Second
	fs := run(t, o, []hp{
		{at: 0, udp: true, pl: 1},
		{at: 4 * time.Second, udp: true, bwd: true, pl: 1},
		{at: 9 * time.Second, udp: true, pl: 1},
		{at: 11 * time.Second, udp: true, bwd: true, pl: 1}, // > 10 s after start: new flow, bwd sender is its src
		{at: 12 * time.Second, udp: true, pl: 1},
	})
	if len(fs) != 2 {
		t.Fatalf("%d flows, want 2", len(fs))
	}
	if fs[0].Reason != EndTimeout || fs[0].FwdPackets != 2 || fs[0].BwdPackets != 1 {
		t.Errorf("first flow %v fwd %d bwd %d", fs[0].Reason, fs[0].FwdPackets, fs[0].BwdPackets)
	}
	if fs[1].Src().String() != "10.0.0.2" || fs[1].FwdPackets != 1 || fs[1].BwdPackets != 1 {
		t.Errorf("second flow src %v fwd %d bwd %d", fs[1].Src(), fs[1].FwdPackets, fs[1].BwdPackets)
	}
}

func TestInactiveTimeoutAndSweep(t *testing.T) {
	o := DefaultOptions()
	o.InactiveTimeout = 3 * time.Second
	// Flow A goes quiet; flow B (other port) keeps time moving, so a sweep
	// closes A before the input ends.
	pk := []hp{{at: 0, udp: true, pl: 5}}
	other := func(at time.Duration) hp { return hp{at: at, udp: true, pl: 1, bwd: true} }
	for i := 1; i <= 6; i++ {
		pk = append(pk, other(time.Duration(i)*time.Second))
	}
	fs := runMixed(t, o, pk)
	if len(fs) != 2 {
		t.Fatalf("%d flows, want 2", len(fs))
	}
	if fs[0].Reason != EndTimeout || fs[0].FwdPackets != 1 {
		t.Errorf("first flow: %v %d", fs[0].Reason, fs[0].FwdPackets)
	}
}

// runMixed makes bwd packets a different flow (port 53 → 5353) so that two
// flows interleave.
func runMixed(t *testing.T, o Options, pkts []hp) []*Flow {
	t.Helper()
	w := newPcapWriter(1)
	for _, p := range pkts {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: cli, DstIP: srv, Protocol: layers.IPProtocolUDP}
		u := &layers.UDP{SrcPort: 1000, DstPort: 53}
		if p.bwd {
			u.SrcPort, u.DstPort = 2000, 5353
		}
		_ = u.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, u, gopacket.Payload(make([]byte, p.pl))); err != nil {
			t.Fatal(err)
		}
		w.write(t0.Add(p.at), sb.Bytes(), 0)
	}
	c := &collect{}
	o.Labeler = c
	if _, err := Extract(context.Background(), []Input{{Name: "mixed", R: &w.buf}}, &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	return c.flows
}

func TestFINBothWaysEndsFlowWithLastACK(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{
		{at: 0, flags: "S"},
		{at: ms(1), bwd: true, flags: "SA"},
		{at: ms(2), flags: "A"},
		{at: ms(3), flags: "FA"},           // forward FIN: flow stays open
		{at: ms(4), bwd: true, flags: "A"}, // still the same flow
		{at: ms(5), bwd: true, flags: "FA"},
		{at: ms(6), flags: "A"}, // last ACK belongs to the flow
		{at: ms(7), flags: "S"}, // a new connection on the same ports
	})
	if len(fs) != 2 {
		t.Fatalf("%d flows, want 2", len(fs))
	}
	if fs[0].Reason != EndFIN || fs[0].FwdPackets != 4 || fs[0].BwdPackets != 3 {
		t.Errorf("first flow %v fwd %d bwd %d", fs[0].Reason, fs[0].FwdPackets, fs[0].BwdPackets)
	}
	check(t, fs[0], map[string]float64{"FIN Flag Count": 2, "Flow Duration": 6000})
	if fs[1].FwdPackets != 1 || fs[1].Reason != EndInput {
		t.Errorf("second flow %v fwd %d", fs[1].Reason, fs[1].FwdPackets)
	}
}

func TestRSTEndsFlow(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{
		{at: 0, flags: "S"},
		{at: ms(1), bwd: true, flags: "RA"}, // the RST belongs to the flow
		{at: ms(2), flags: "S"},
	})
	if len(fs) != 2 {
		t.Fatalf("%d flows, want 2", len(fs))
	}
	if fs[0].Reason != EndRST || fs[0].FwdPackets != 1 || fs[0].BwdPackets != 1 {
		t.Errorf("first flow %v fwd %d bwd %d", fs[0].Reason, fs[0].FwdPackets, fs[0].BwdPackets)
	}
	check(t, fs[0], map[string]float64{"RST Flag Count": 1, "Flow Duration": 1000})
}

func TestSinglePacketFlowWritten(t *testing.T) {
	fs := run(t, DefaultOptions(), []hp{{at: 0, flags: "S", win: 512}})
	if len(fs) != 1 {
		t.Fatalf("%d flows", len(fs))
	}
	check(t, fs[0], map[string]float64{"Flow Bytes/s": 0, "Flow Packets/s": 0, "Flow IAT Mean": 0, "FWD Init Win Bytes": 512, "Bwd Init Win Bytes": -1})
}

// pcapWriter writes a nanosecond pcap file (gopacket's pcapgo would pull in
// golang.org/x/net, which this module does not require).
type pcapWriter struct{ buf bytes.Buffer }

func newPcapWriter(link uint32) *pcapWriter {
	w := &pcapWriter{}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], link)
	w.buf.Write(h[:])
	return w
}

// write adds a record; orig 0 means the whole frame was captured.
func (w *pcapWriter) write(ts time.Time, data []byte, orig int) {
	if orig == 0 {
		orig = len(data)
	}
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], uint32(orig))
	w.buf.Write(h[:])
	w.buf.Write(data)
}

// TestMergeInputsInTimeOrder: two captures are merged by timestamp, equal
// timestamps keep the order of the inputs, and one flow spread over both
// files is one flow with the right gaps.
func TestMergeInputsInTimeOrder(t *testing.T) {
	mk := func(pk []hp) []byte { return capture(t, pk) }
	// file A: the TCP flow's forward packets; file B: its backward packets
	// and a UDP flow that starts at the same instant as the TCP flow.
	a := mk([]hp{{at: ms(10), flags: "S"}, {at: ms(30), flags: "A"}, {at: ms(50), flags: "A", pl: 5}})
	b := mk([]hp{{at: ms(10), udp: true, pl: 1}, {at: ms(20), bwd: true, flags: "SA"}, {at: ms(40), bwd: true, flags: "A", pl: 9}})
	for _, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
		files := map[string][]byte{"a": a, "b": b}
		c := &collect{}
		o := DefaultOptions()
		o.Labeler = c
		sum, err := Extract(context.Background(), []Input{
			{Name: order[0], R: bytes.NewReader(files[order[0]])},
			{Name: order[1], R: bytes.NewReader(files[order[1]])},
		}, &bytes.Buffer{}, o)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Packets != 6 || sum.BackwardsTime != 0 || len(c.flows) != 2 {
			t.Fatalf("%v: packets %d backwards %d flows %d", order, sum.Packets, sum.BackwardsTime, len(c.flows))
		}
		first := c.flows[0].Proto
		if want := map[string]uint8{"a": 6, "b": 17}[order[0]]; first != want {
			t.Errorf("%v: first flow protocol %d, want %d (tie broken by input order)", order, first, want)
		}
		for _, f := range c.flows {
			if f.Proto != 6 {
				continue
			}
			check(t, f, map[string]float64{"Total Fwd Packet": 3, "Total Bwd packets": 2, "Flow IAT Max": 10000, "Flow IAT Min": 10000, "Flow Duration": 40000})
		}
	}
}
