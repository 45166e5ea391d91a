package flow

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/pcap"
)

// rawPacket builds an IPv4 packet (link type raw IP) from a 6-byte fuzz
// descriptor: hosts, ports, protocol, TCP flags, payload size.
func rawPacket(d []byte) []byte {
	proto := []byte{6, 17, 1, 47}[d[0]&3]
	src, dst := 1+d[0]>>2&3, 5+d[0]>>4&3
	sport, dport := uint16(1000+int(d[1]&3)), uint16(80+int(d[1]>>2&1))
	pl := int(d[3]) * 4
	var l4 []byte
	switch proto {
	case 6:
		l4 = make([]byte, 20+pl)
		binary.BigEndian.PutUint16(l4, sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
		l4[12] = 5 << 4
		l4[13] = d[2]
		binary.BigEndian.PutUint16(l4[14:], uint16(d[4])<<8)
	case 17:
		l4 = make([]byte, 8+pl)
		binary.BigEndian.PutUint16(l4, sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(8+pl))
	default:
		l4 = make([]byte, pl)
	}
	ip := make([]byte, 20, 20+len(l4))
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	ip[8] = 64
	ip[9] = proto
	ip[12], ip[15] = 10, src
	ip[16], ip[19] = 10, dst
	if d[5]&0x80 != 0 { // sometimes a fragment or a bad header
		switch d[5] & 3 {
		case 0:
			ip[6] = 0x01
		case 1:
			ip[0] = 0x43
		case 2:
			if proto == 6 {
				l4[12] = 3 << 4
			}
		}
	}
	return append(ip, l4...)
}

// fuzzCapture turns descriptors into a pcap (raw IP) with times that move
// forward by d[5]&0x7f × 50 ms, and backwards now and then.
func fuzzCapture(data []byte) []byte {
	w := newPcapWriter(101)
	ts := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(data) >= 6 {
		d := data[:6]
		data = data[6:]
		step := time.Duration(d[5]&0x7f) * 50 * time.Millisecond
		if d[4]&1 != 0 && d[5]&0x80 == 0 {
			step = -step / 4
		}
		ts = ts.Add(step)
		pk := rawPacket(d)
		if d[4]&2 != 0 && len(pk) > 30 { // snaplen cut
			w.write(ts, pk[:len(pk)-4], len(pk))
			continue
		}
		w.write(ts, pk, 0)
	}
	return w.buf.Bytes()
}

func fuzzOptions(workers int) Options {
	return Options{FlowTimeout: 3 * time.Second, IdleTimeout: time.Second, InactiveTimeout: 2 * time.Second, Workers: workers}
}

// FuzzFlowTable drives the whole pipeline with arbitrary packet sequences
// (and with the raw bytes as a capture file): no panic, every packet
// accounted once, the same bytes for 1 and 2 workers.
func FuzzFlowTable(f *testing.F) {
	f.Add([]byte{0, 0, 2, 0, 0, 1, 0x10, 0, 0x12, 0, 0, 1, 0, 0, 0x10, 3, 0, 1, 0, 0, 0x11, 0, 0, 1, 0x10, 0, 0x11, 0, 0, 1})
	f.Add([]byte{1, 1, 0, 5, 0, 40, 0x11, 1, 0, 5, 1, 40, 1, 1, 0, 5, 0, 0x7f, 3, 2, 0, 1, 0, 0x81})
	f.Add(fuzzCapture([]byte{0, 0, 2, 0, 0, 1, 0x10, 0, 0x14, 0, 0, 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 6*4096 {
			return
		}
		for _, in := range [][]byte{fuzzCapture(data), data} {
			var outs [2][]byte
			for i, w := range []int{1, 2} {
				var buf bytes.Buffer
				c := &collect{}
				o := fuzzOptions(w)
				o.Labeler = c
				sum, err := Extract(context.Background(), []Input{{Name: "fuzz", R: bytes.NewReader(in)}}, &buf, o)
				if err != nil {
					return // not a capture at all
				}
				if sum.InFlows+sum.NotIP+sum.MalformedTotal() != sum.Packets {
					t.Fatalf("accounted %d+%d+%d != %d", sum.InFlows, sum.NotIP, sum.MalformedTotal(), sum.Packets)
				}
				var n int64
				for _, fl := range c.flows {
					n += fl.FwdPackets + fl.BwdPackets
					if fl.End < fl.Start || fl.FwdPackets < 1 {
						t.Fatalf("bad flow %+v", fl)
					}
				}
				if n != sum.InFlows {
					t.Fatalf("flows hold %d packets, %d decoded", n, sum.InFlows)
				}
				outs[i] = buf.Bytes()
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Fatalf("workers 1 and 2 differ")
			}
		}
	})
}

// TestBadPacketsCounted runs malformed packets through Extract: each is
// counted by reason, the good ones still make flows.
func TestBadPacketsCounted(t *testing.T) {
	descs := [][]byte{
		{0, 0, 2, 0, 0, 1},       // TCP SYN
		{0, 0, 0x10, 0, 0, 0x80}, // IPv4 fragment
		{0, 0, 0x10, 0, 0, 0x81}, // IHL 3
		{0, 0, 0x10, 0, 0, 0x82}, // TCP data offset 3
		{0, 0, 0x10, 5, 2, 1},    // snaplen-cut payload: still in the flow
		{0, 0, 0x10, 0, 1, 4},    // backwards in time: still in the flow
	}
	var data []byte
	for _, d := range descs {
		data = append(data, d...)
	}
	w := newPcapWriter(101)
	w.buf.Write(fuzzCapture(data)[24:])
	w.write(time.Unix(0, 0), rawPacket([]byte{0, 0, 0x10, 0, 0, 0}), 0) // zero timestamp
	c := &collect{}
	o := DefaultOptions()
	o.Labeler = c
	sum, err := Extract(context.Background(), []Input{{Name: "bad", R: &w.buf}}, &bytes.Buffer{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Packets != 7 || sum.InFlows != 4 {
		t.Errorf("packets %d in flows %d", sum.Packets, sum.InFlows)
	}
	want := map[string]int64{"ip-fragment": 1, "bad-ihl": 1, "bad-tcp-data-offset": 1}
	wantFirst := map[string]string{"ip-fragment": "bad packet 2", "bad-ihl": "bad packet 3", "bad-tcp-data-offset": "bad packet 4"}
	for r, n := range sum.Malformed {
		name := pcap.Reason(r).String()
		if n != want[name] || sum.FirstMalformed[r] != wantFirst[name] {
			t.Errorf("malformed %s = %d, first %q; want %d, %q", name, n, sum.FirstMalformed[r], want[name], wantFirst[name])
		}
	}
	var rep bytes.Buffer
	sum.Report(&rep)
	if !strings.Contains(rep.String(), "  bad-ihl: 1 (first: bad packet 3)\n") {
		t.Errorf("report does not locate the bad-ihl packet:\n%s", rep.String())
	}
	if sum.Snapped != 1 || sum.BackwardsTime != 2 || sum.ZeroTime != 1 {
		t.Errorf("snapped %d backwards %d zero %d, want 1 2 1", sum.Snapped, sum.BackwardsTime, sum.ZeroTime)
	}
	if len(c.flows) != 1 || c.flows[0].FwdPackets != 4 {
		t.Fatalf("flows %d", len(c.flows))
	}
	// the snaplen-cut packet counts its full payload (from the IP length)
	check(t, c.flows[0], map[string]float64{"Total Length of Fwd Packet": 20, "Flow IAT Min": 0})
}
