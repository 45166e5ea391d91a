package flow

import (
	"encoding/binary"
	"slices"

	"github.com/rangehunt/rangehunt/internal/pcap"
)

// key is the direction-free 5-tuple: the smaller (address, port) first.
type key struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8
}

func makeKey(d *pcap.Decoded) key {
	k := key{proto: d.Proto}
	if less(&d.Src, d.SrcPort, &d.Dst, d.DstPort) {
		k.a, k.pa, k.b, k.pb = d.Src, d.SrcPort, d.Dst, d.DstPort
	} else {
		k.a, k.pa, k.b, k.pb = d.Dst, d.DstPort, d.Src, d.SrcPort
	}
	return k
}

func less(a *[16]byte, pa uint16, b *[16]byte, pb uint16) bool {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		return a0 < b0
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	if a1 != b1 {
		return a1 < b1
	}
	return pa < pb
}

// shard spreads keys over workers; it is a fixed function of the key, so
// the assignment does not depend on run or worker timing.
func (k *key) shard(n int) int {
	h := binary.LittleEndian.Uint64(k.a[:8]) ^ binary.LittleEndian.Uint64(k.a[8:])*0x9E3779B97F4A7C15
	h ^= binary.LittleEndian.Uint64(k.b[:8])*0xC2B2AE3D27D4EB4F ^ binary.LittleEndian.Uint64(k.b[8:])
	h ^= uint64(k.pa)<<32 | uint64(k.pb)<<16 | uint64(k.proto)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return int(h % uint64(n))
}

// finGrace is how long a flow that saw FIN both ways waits for its last
// ACKs (packet time) before a sweep closes it.
const finGrace = int64(1e9)

// table is one worker's share of the flow table.
type table struct {
	flows                   map[key]*Flow
	flowTO, idleTO, inactTO int64 // ns; 0 = off
	done                    []*Flow
	maxActive               int
}

func newTable(o *Options) *table {
	return &table{
		flows:   make(map[key]*Flow, 1024),
		flowTO:  int64(o.FlowTimeout),
		idleTO:  int64(o.IdleTimeout),
		inactTO: int64(o.InactiveTimeout),
	}
}

func (t *table) close(k key, f *Flow, r EndReason, seq uint64) {
	f.finish(r, seq)
	delete(t.flows, k)
	t.done = append(t.done, f)
}

// teardown reports whether a packet arriving after FINs in both directions
// still belongs to the closing connection: no SYN and no payload (the last
// ACKs, a retransmitted FIN, a RST).
func teardown(d *pcap.Decoded) bool {
	return d.Proto == pcap.ProtoTCP && d.TCPFlags&pcap.FlagSYN == 0 && d.Payload == 0
}

func (t *table) packet(p *pkt) {
	k := makeKey(&p.d)
	f := t.flows[k]
	if f != nil {
		switch {
		case t.flowTO > 0 && p.ts-f.Start > t.flowTO, t.inactTO > 0 && p.ts-f.End > t.inactTO:
			t.close(k, f, EndTimeout, p.seq)
			f = nil
		case f.finished && !teardown(&p.d):
			t.close(k, f, EndFIN, p.seq)
			f = nil
		}
	}
	if f == nil {
		f = &Flow{}
		f.init(p)
		t.flows[k] = f
		if len(t.flows) > t.maxActive {
			t.maxActive = len(t.flows)
		}
	}
	fwd := f.isFwd(p)
	f.add(p, fwd, t.idleTO)
	if p.d.Proto != pcap.ProtoTCP {
		return
	}
	fl := p.d.TCPFlags
	if fl&pcap.FlagRST != 0 {
		r := EndRST
		if f.finished {
			r = EndFIN
		}
		t.close(k, f, r, p.seq)
		return
	}
	if fl&pcap.FlagFIN != 0 {
		if fwd {
			f.finFwd = true
		} else {
			f.finBwd = true
		}
		f.finished = f.finFwd && f.finBwd
	}
}

// sweep closes the flows that no later packet could join: past the flow
// timeout, idle past the inactivity timeout, or finished and quiet for
// finGrace. now is the latest packet time seen.
func (t *table) sweep(now int64, seq uint64) {
	for k, f := range t.flows {
		switch {
		case t.flowTO > 0 && now-f.Start > t.flowTO, t.inactTO > 0 && now-f.End > t.inactTO:
			t.close(k, f, EndTimeout, seq)
		case f.finished && now-f.End > finGrace:
			t.close(k, f, EndFIN, seq)
		}
	}
}

// flush returns the flows closed since the last flush in output order.
func (t *table) flush() []*Flow {
	out := t.done
	sortFlows(out)
	t.done = make([]*Flow, 0, max(16, len(out)))
	return out
}

// end closes every open flow at the end of input.
func (t *table) end(seq uint64) []*Flow {
	for k, f := range t.flows {
		r := EndInput
		if f.finished {
			r = EndFIN
		}
		t.close(k, f, r, seq)
	}
	return t.flush()
}

// sortFlows orders flows by the event that closed them, then by the packet
// that opened them: both are positions in the merged input, so the order is
// the same for any number of workers.
func sortFlows(fs []*Flow) {
	slices.SortFunc(fs, func(a, b *Flow) int {
		if a.closeSeq != b.closeSeq {
			if a.closeSeq < b.closeSeq {
				return -1
			}
			return 1
		}
		if a.openSeq < b.openSeq {
			return -1
		}
		if a.openSeq > b.openSeq {
			return 1
		}
		return 0
	})
}
