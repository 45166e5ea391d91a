// Package flow groups decoded packets into bidirectional flows and computes
// the CICFlowMeter feature set for each (see docs/flow-features.md for the
// definitions and where they deliberately differ from the Java tool).
//
// Timeouts are driven by packet time only, so a capture gives the same flows
// on every run; output rows come in a fixed order whatever the number of
// workers.
package flow

import (
	"math"
	"net/netip"

	"github.com/rangehunt/rangehunt/internal/pcap"
)

// EndReason says why a flow was closed.
type EndReason uint8

// Flow end reasons.
const (
	EndInput   EndReason = iota // end of input
	EndTimeout                  // flow (active) timeout or inactivity timeout
	EndFIN                      // FIN seen in both directions (plus the last ACK)
	EndRST                      // a TCP reset
)

// String returns the reason in words, e.g. "fin".
func (e EndReason) String() string {
	switch e {
	case EndInput:
		return "end-of-input"
	case EndTimeout:
		return "timeout"
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	}
	return "unknown"
}

// stat accumulates count, mean, sample variance (Welford), min, max and sum.
type stat struct {
	n        int64
	mean, m2 float64
	min, max float64
	sum      float64
}

func (s *stat) add(x float64) {
	s.n++
	if s.n == 1 {
		s.min, s.max = x, x
	} else {
		if x < s.min {
			s.min = x
		}
		if x > s.max {
			s.max = x
		}
	}
	s.sum += x
	d := x - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (x - s.mean)
}

// std is the sample standard deviation (n−1), 0 for fewer than 2 values.
func (s *stat) std() float64 { return math.Sqrt(s.variance()) }

func (s *stat) variance() float64 {
	if s.n < 2 {
		return 0
	}
	v := s.m2 / float64(s.n-1)
	if v < 0 {
		return 0
	}
	return v
}

func (s *stat) mn() float64 {
	if s.n == 0 {
		return 0
	}
	return s.min
}

func (s *stat) mx() float64 {
	if s.n == 0 {
		return 0
	}
	return s.max
}

func (s *stat) avg() float64 {
	if s.n == 0 {
		return 0
	}
	return s.sum / float64(s.n)
}

// bulk is CICFlowMeter's bulk-transfer detector for one direction.
type bulk struct {
	active     bool  // a candidate bulk is open
	start      int64 // time of its first packet
	last       int64 // time of its latest packet
	helperPkts int64
	helperSize int64
	count      int64 // bulks found
	pkts       int64 // packets in bulks
	size       int64 // payload bytes in bulks
	dur        int64 // ns spent in bulks
}

const bulkGap = int64(1e9) // 1 s between payload packets of one bulk
const bulkMin = 4          // packets that make a bulk

func (b *bulk) update(ts int64, size int64, other *bulk) {
	// A payload packet of the other direction after this candidate started
	// breaks it.
	if b.active && other.active && other.last > b.start {
		b.active = false
	}
	if size <= 0 {
		return
	}
	if !b.active || ts-b.last > bulkGap {
		b.active, b.start, b.last = true, ts, ts
		b.helperPkts, b.helperSize = 1, size
		return
	}
	b.helperPkts++
	b.helperSize += size
	switch {
	case b.helperPkts == bulkMin:
		b.count++
		b.pkts += b.helperPkts
		b.size += b.helperSize
		b.dur += ts - b.start
	case b.helperPkts > bulkMin:
		b.pkts++
		b.size += size
		b.dur += ts - b.last
	}
	b.last = ts
}

// Flow is one bidirectional flow. The exported fields are read-only for
// callers (a Labeler, tests); the features are computed by Values.
type Flow struct {
	SrcIP, DstIP     [16]byte // forward direction = the first packet's
	IPv6             bool
	SrcPort, DstPort uint16
	Proto            uint8
	Start, End       int64 // first and last packet time, ns since epoch
	Reason           EndReason

	FwdPackets, BwdPackets       int64
	FwdFrameBytes, BwdFrameBytes int64 // wire length of the frames (not a CIC column)

	openSeq, closeSeq uint64

	fwdLen, bwdLen, allLen  stat // transport payload bytes
	flowIAT, fwdIAT, bwdIAT stat
	lastFwd, lastBwd        int64
	fwdPSH, bwdPSH          int64
	fwdURG, bwdURG          int64
	flags                   [8]int64 // FIN SYN RST PSH ACK URG ECE CWR
	fwdHdr, bwdHdr          int64
	fwdWin, bwdWin          int32 // -1 until seen
	fwdActData              int64
	fwdSegMin               int64
	active, idle            stat
	startActive, endActive  int64
	sfGaps                  int64
	bulkF, bulkB            bulk
	finFwd, finBwd          bool
	finished                bool // FINs both ways: waiting for the last ACK
}

// Src returns the forward source address.
func (f *Flow) Src() netip.Addr { return addr(f.SrcIP, f.IPv6) }

// Dst returns the forward destination address.
func (f *Flow) Dst() netip.Addr { return addr(f.DstIP, f.IPv6) }

func addr(b [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

// FwdBytes is the forward transport payload total.
func (f *Flow) FwdBytes() int64 { return int64(f.fwdLen.sum) }

// BwdBytes is the backward transport payload total.
func (f *Flow) BwdBytes() int64 { return int64(f.bwdLen.sum) }

// pkt is a decoded packet handed to a flow table.
type pkt struct {
	seq   uint64
	ts    int64
	frame int64
	d     pcap.Decoded
}

func (f *Flow) init(p *pkt) {
	d := &p.d
	f.SrcIP, f.DstIP, f.IPv6 = d.Src, d.Dst, d.IPv6
	f.SrcPort, f.DstPort, f.Proto = d.SrcPort, d.DstPort, d.Proto
	f.Start, f.End = p.ts, p.ts
	f.startActive, f.endActive = p.ts, p.ts
	f.fwdWin, f.bwdWin = -1, -1
	f.openSeq = p.seq
}

// isFwd reports whether p travels in the flow's forward direction.
func (f *Flow) isFwd(p *pkt) bool {
	return p.d.Src == f.SrcIP && p.d.SrcPort == f.SrcPort
}

// add accounts one packet. idleTO is the activity timeout in ns (0: off).
func (f *Flow) add(p *pkt, fwd bool, idleTO int64) {
	ts := p.ts
	if ts < f.End { // out of order: treat as simultaneous with the last one
		ts = f.End
	}
	d := &p.d
	if f.FwdPackets+f.BwdPackets > 0 {
		gap := ts - f.End
		f.flowIAT.add(float64(gap))
		if gap > int64(1e9) {
			f.sfGaps++
		}
		if idleTO > 0 && ts-f.endActive > idleTO {
			f.active.add(float64(f.endActive - f.startActive))
			f.idle.add(float64(ts - f.endActive))
			f.startActive = ts
		}
		f.endActive = ts
		f.End = ts
	}
	pl := int64(d.Payload)
	f.allLen.add(float64(pl))
	tcp := d.Proto == pcap.ProtoTCP
	if fwd {
		if f.FwdPackets > 0 {
			f.fwdIAT.add(float64(ts - f.lastFwd))
		}
		f.lastFwd = ts
		f.FwdPackets++
		f.FwdFrameBytes += p.frame
		f.fwdLen.add(float64(pl))
		f.fwdHdr += int64(d.L4HdrLen)
		if f.FwdPackets == 1 || int64(d.L4HdrLen) < f.fwdSegMin {
			f.fwdSegMin = int64(d.L4HdrLen)
		}
		if pl > 0 {
			f.fwdActData++
		}
		if tcp {
			if f.fwdWin < 0 {
				f.fwdWin = int32(d.Window)
			}
			if d.TCPFlags&pcap.FlagPSH != 0 {
				f.fwdPSH++
			}
			if d.TCPFlags&pcap.FlagURG != 0 {
				f.fwdURG++
			}
		}
		f.bulkF.update(ts, pl, &f.bulkB)
	} else {
		if f.BwdPackets > 0 {
			f.bwdIAT.add(float64(ts - f.lastBwd))
		}
		f.lastBwd = ts
		f.BwdPackets++
		f.BwdFrameBytes += p.frame
		f.bwdLen.add(float64(pl))
		f.bwdHdr += int64(d.L4HdrLen)
		if tcp {
			if f.bwdWin < 0 {
				f.bwdWin = int32(d.Window)
			}
			if d.TCPFlags&pcap.FlagPSH != 0 {
				f.bwdPSH++
			}
			if d.TCPFlags&pcap.FlagURG != 0 {
				f.bwdURG++
			}
		}
		f.bulkB.update(ts, pl, &f.bulkF)
	}
	if tcp {
		fl := d.TCPFlags
		for i := 0; fl != 0; i, fl = i+1, fl>>1 {
			f.flags[i] += int64(fl & 1)
		}
	}
}

// finish records the last active period.
func (f *Flow) finish(reason EndReason, seq uint64) {
	f.Reason = reason
	f.closeSeq = seq
	f.active.add(float64(f.endActive - f.startActive))
}

// NumValues is the number of numeric feature columns (Flow Duration … Idle Min).
const NumValues = 76

const us = 1e3 // ns per µs

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Values computes the 76 numeric features in column order (Flow Duration
// through Idle Min). Times are in microseconds, rates per second.
func (f *Flow) Values(v *[NumValues]float64) {
	dur := float64(f.End - f.Start)
	durS := dur / 1e9
	fwdB, bwdB := f.fwdLen.sum, f.bwdLen.sum
	fp, bp := float64(f.FwdPackets), float64(f.BwdPackets)
	n := fp + bp
	sf := float64(f.sfGaps + 1)
	i := 0
	put := func(x float64) { v[i] = x; i++ }
	put(dur / us)
	put(fp)
	put(bp)
	put(fwdB)
	put(bwdB)
	put(f.fwdLen.mx())
	put(f.fwdLen.mn())
	put(f.fwdLen.avg())
	put(f.fwdLen.std())
	put(f.bwdLen.mx())
	put(f.bwdLen.mn())
	put(f.bwdLen.avg())
	put(f.bwdLen.std())
	put(ratio(fwdB+bwdB, durS))
	put(ratio(n, durS))
	put(f.flowIAT.avg() / us)
	put(f.flowIAT.std() / us)
	put(f.flowIAT.mx() / us)
	put(f.flowIAT.mn() / us)
	put(f.fwdIAT.sum / us)
	put(f.fwdIAT.avg() / us)
	put(f.fwdIAT.std() / us)
	put(f.fwdIAT.mx() / us)
	put(f.fwdIAT.mn() / us)
	put(f.bwdIAT.sum / us)
	put(f.bwdIAT.avg() / us)
	put(f.bwdIAT.std() / us)
	put(f.bwdIAT.mx() / us)
	put(f.bwdIAT.mn() / us)
	put(float64(f.fwdPSH))
	put(float64(f.bwdPSH))
	put(float64(f.fwdURG))
	put(float64(f.bwdURG))
	put(float64(f.fwdHdr))
	put(float64(f.bwdHdr))
	put(ratio(fp, durS))
	put(ratio(bp, durS))
	put(f.allLen.mn())
	put(f.allLen.mx())
	put(f.allLen.avg())
	put(f.allLen.std())
	put(f.allLen.variance())
	for _, b := range [8]int{0, 1, 2, 3, 4, 5, 7, 6} { // FIN SYN RST PSH ACK URG CWR ECE
		put(float64(f.flags[b]))
	}
	put(ratio(bp, fp))
	put(ratio(fwdB+bwdB, n))
	put(ratio(fwdB, fp))
	put(ratio(bwdB, bp))
	put(ratio(float64(f.bulkF.size), float64(f.bulkF.count)))
	put(ratio(float64(f.bulkF.pkts), float64(f.bulkF.count)))
	put(ratio(float64(f.bulkF.size), float64(f.bulkF.dur)/1e9))
	put(ratio(float64(f.bulkB.size), float64(f.bulkB.count)))
	put(ratio(float64(f.bulkB.pkts), float64(f.bulkB.count)))
	put(ratio(float64(f.bulkB.size), float64(f.bulkB.dur)/1e9))
	put(fp / sf)
	put(fwdB / sf)
	put(bp / sf)
	put(bwdB / sf)
	put(float64(f.fwdWin))
	put(float64(f.bwdWin))
	put(float64(f.fwdActData))
	put(float64(f.fwdSegMin))
	put(f.active.avg() / us)
	put(f.active.std() / us)
	put(f.active.mx() / us)
	put(f.active.mn() / us)
	put(f.idle.avg() / us)
	put(f.idle.std() / us)
	put(f.idle.mx() / us)
	put(f.idle.mn() / us)
}
