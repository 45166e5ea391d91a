package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rangehunt/rangehunt/internal/pcap"
)

// Labeler gives a flow its Label column. The labelling layer plugs in here;
// without one the column is empty. Label is called from one goroutine, in
// output order.
type Labeler interface {
	Label(f *Flow) string
}

// ConstLabel is a Labeler that gives every flow the same label.
type ConstLabel string

// Label returns the constant.
func (c ConstLabel) Label(*Flow) string { return string(c) }

// Progress receives the number of input bytes consumed; a nil
// *iostreams.Progress works (its methods are nil-safe).
type Progress interface {
	Add(n int64)
}

// Options control Extract. Zero timeouts are off.
type Options struct {
	// FlowTimeout closes a flow when a packet arrives more than this long
	// after the flow's first packet (CICFlowMeter's flow timeout); that
	// packet starts a new flow.
	FlowTimeout time.Duration
	// IdleTimeout is CICFlowMeter's activity timeout: a gap longer than
	// this between two packets of a flow ends an active period and
	// starts an idle one (Active/Idle columns). It does not end the flow.
	IdleTimeout time.Duration
	// InactiveTimeout, if set, ends a flow after this long without a
	// packet; the next packet starts a new flow.
	InactiveTimeout time.Duration
	// Workers is the number of flow-table shards (goroutines); < 1 means 1.
	// The output is the same for every value.
	Workers int
	// Format of the output rows.
	Format Format
	// Labeler fills the Label column; nil leaves it empty.
	Labeler Labeler
	// Progress, if not nil, is told how many input bytes were read.
	Progress Progress
}

// DefaultOptions are CICFlowMeter's defaults: 120 s flow timeout, 5 s
// activity timeout, CSV.
func DefaultOptions() Options {
	return Options{FlowTimeout: 120 * time.Second, IdleTimeout: 5 * time.Second, Workers: 1, Format: CSV}
}

// Input is one capture to read.
type Input struct {
	Name string // for messages
	R    io.Reader
}

// Summary counts what Extract saw. Every packet read is either in a flow,
// not IP, or malformed (by reason):
// Packets == InFlows + NotIP + sum(Malformed).
type Summary struct {
	Files     int
	Packets   int64 // frames read from the inputs
	InFlows   int64 // decoded packets accounted to flows
	NotIP     int64 // ARP, LLDP, unknown link types …
	Malformed [pcap.NumReasons]int64
	// FirstMalformed locates the first malformed packet of each reason
	// ("file packet N"), so that it can be found with tshark.
	FirstMalformed [pcap.NumReasons]string
	// Informational counts (these packets are still in flows).
	Snapped       int64 // transport payload partly cut by snaplen
	ZeroTime      int64 // packets with timestamp 0 (or none, pcapng SPB)
	BackwardsTime int64 // packets older than their file's previous packet
	Flows         int64 // flows written
	FlowsBy       [4]int64
	MaxActive     int // peak number of open flows (sum over shards)
	Warnings      []string
}

// MalformedTotal is the number of packets counted as malformed.
func (s *Summary) MalformedTotal() int64 {
	var n int64
	for _, v := range s.Malformed {
		n += v
	}
	return n
}

// Report writes a human-readable summary.
func (s *Summary) Report(w io.Writer) {
	fmt.Fprintf(w, "packets read: %d (from %d file(s))\n", s.Packets, s.Files)
	fmt.Fprintf(w, "decoded into flows: %d\n", s.InFlows)
	fmt.Fprintf(w, "not IP: %d\n", s.NotIP)
	fmt.Fprintf(w, "malformed: %d\n", s.MalformedTotal())
	for r, n := range s.Malformed {
		if n > 0 {
			if first := s.FirstMalformed[r]; first != "" {
				fmt.Fprintf(w, "  %s: %d (first: %s)\n", pcap.Reason(r), n, first)
			} else {
				fmt.Fprintf(w, "  %s: %d\n", pcap.Reason(r), n)
			}
		}
	}
	if s.Snapped+s.ZeroTime+s.BackwardsTime > 0 {
		fmt.Fprintf(w, "notes: %d snaplen-cut, %d zero timestamps, %d out-of-order timestamps\n", s.Snapped, s.ZeroTime, s.BackwardsTime)
	}
	fmt.Fprintf(w, "flows written: %d (fin %d, rst %d, timeout %d, end of input %d)\n",
		s.Flows, s.FlowsBy[EndFIN], s.FlowsBy[EndRST], s.FlowsBy[EndTimeout], s.FlowsBy[EndInput])
	fmt.Fprintf(w, "peak open flows: %d\n", s.MaxActive)
	for _, m := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

type source struct {
	pos    int // position among the inputs: breaks timestamp ties
	name   string
	r      *pcap.Reader
	cur    pcap.Packet
	ok     bool
	lastTS int64
	off    int64
}

type mergeHeap []*source

func (h mergeHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.cur.Timestamp != b.cur.Timestamp {
		return a.cur.Timestamp < b.cur.Timestamp
	}
	return a.pos < b.pos
}

func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

const (
	sweepEvery = int64(time.Second) // packet time between timeout sweeps
	flushEvery = 1 << 16            // packets between output flushes
	batchSize  = 512
)

// Extract reads the captures, merged in timestamp order (ties keep the
// order of inputs), and writes one row per flow to w. It returns a summary
// even on error.
func Extract(ctx context.Context, inputs []Input, w io.Writer, opts Options) (*Summary, error) {
	sum := &Summary{Files: len(inputs)}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	srcs := make([]*source, 0, len(inputs))
	defer func() {
		for _, s := range srcs {
			for _, m := range s.r.Warnings() {
				sum.Warnings = append(sum.Warnings, s.name+": "+m)
			}
		}
	}()
	for _, in := range inputs {
		r, err := pcap.NewReader(in.R)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", in.Name, err)
		}
		s := &source{name: in.Name, r: r}
		s.cur, err = r.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return sum, fmt.Errorf("%s: %w", in.Name, err)
		}
		s.ok = err == nil
		srcs = append(srcs, s)
	}

	out := newWriter(w, &opts)
	if err := out.header(); err != nil {
		return sum, fmt.Errorf("writing flows: %w", err)
	}
	var sh shards
	if opts.Workers == 1 {
		sh = newInline(&opts, out)
	} else {
		sh = newParallel(&opts, out)
	}

	var (
		seq       uint64
		now       int64
		nextSweep int64
		started   bool
		swept     bool
		p         pkt
		err       error
	)
	// A binary min-heap of the inputs by (timestamp of their next packet,
	// input position): a stable k-way merge.
	h := make(mergeHeap, 0, len(srcs))
	for i, s := range srcs {
		s.pos = i
		if s.ok {
			h = append(h, s)
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	for len(h) > 0 {
		s := h[0]
		cp := &s.cur
		seq++
		sum.Packets++
		ts := cp.Timestamp
		if ts == 0 {
			sum.ZeroTime++
		}
		if ts < s.lastTS {
			sum.BackwardsTime++
		} else {
			s.lastTS = ts
		}
		switch r := pcap.Decode(cp.LinkType, cp.Data, &p.d); r {
		case pcap.ReasonOK:
			sum.InFlows++
			if p.d.Snapped {
				sum.Snapped++
			}
			p.seq, p.ts, p.frame = seq, ts, int64(cp.OrigLen)
			sh.packet(&p)
		case pcap.ReasonNotIP, pcap.ReasonUnknownLink:
			sum.NotIP++
		default:
			if sum.Malformed[r] == 0 {
				sum.FirstMalformed[r] = s.name + " packet " + strconv.Itoa(cp.Index)
			}
			sum.Malformed[r]++
		}
		if !started || ts > now {
			now, started = ts, true
		}
		s.cur, err = s.r.Next()
		if err != nil {
			s.ok = false
			if !errors.Is(err, io.EOF) {
				sh.stop()
				return sum, fmt.Errorf("%s: %w", s.name, err)
			}
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		if len(h) > 1 {
			h.down(0)
		}
		switch {
		case !swept || now >= nextSweep:
			if swept {
				sh.tick(seq, now, true)
			}
			swept, nextSweep = true, now+sweepEvery
		case seq%flushEvery == 0:
			sh.tick(seq, now, false)
		}
		if seq&4095 == 0 {
			if err := ctx.Err(); err != nil {
				sh.stop()
				return sum, err
			}
			if opts.Progress != nil {
				var n int64
				for _, c := range srcs {
					o := c.r.Offset()
					n += o - c.off
					c.off = o
				}
				opts.Progress.Add(n)
			}
		}
	}
	if opts.Progress != nil {
		var n int64
		for _, c := range srcs {
			n += c.r.Offset() - c.off
		}
		opts.Progress.Add(n)
	}
	sh.end(seq + 1)
	sum.MaxActive = sh.maxActive()
	sum.Flows = out.n
	sum.FlowsBy = out.by
	if out.err != nil {
		return sum, out.err
	}
	if err := out.flush(); err != nil {
		return sum, err
	}
	return sum, nil
}

// shards is the flow table, inline or split over goroutines.
type shards interface {
	packet(p *pkt)
	tick(seq uint64, now int64, sweep bool)
	end(seq uint64)
	stop()
	maxActive() int
}

// inline runs one table in the calling goroutine.
type inline struct {
	t   *table
	out *writer
}

func newInline(o *Options, out *writer) *inline { return &inline{t: newTable(o), out: out} }

func (s *inline) packet(p *pkt) { s.t.packet(p) }
func (s *inline) tick(seq uint64, now int64, sweep bool) {
	if sweep {
		s.t.sweep(now, seq)
	}
	if len(s.t.done) > 0 {
		s.out.writeAll(s.t.flush())
	}
}
func (s *inline) end(seq uint64) { s.out.writeAll(s.t.end(seq)) }
func (s *inline) stop()          {}
func (s *inline) maxActive() int { return s.t.maxActive }

// parallel shards the table by key over goroutines. The reading goroutine
// sends packets in batches; at every tick each shard answers with the
// flows it closed, and a merger writes them in (closeSeq, openSeq) order.
type parallel struct {
	ins  []chan msg
	outs []chan []*Flow
	bufs [][]pkt
	free chan []pkt
	tabs []*table
	done chan struct{}
	out  *writer
	n    int
}

type msg struct {
	pkts  []pkt
	tick  bool
	sweep bool
	end   bool
	seq   uint64
	now   int64
}

func newParallel(o *Options, out *writer) *parallel {
	n := o.Workers
	s := &parallel{n: n, out: out, done: make(chan struct{}), free: make(chan []pkt, 4*n+4)}
	for i := 0; i < n; i++ {
		in := make(chan msg, 8)
		oc := make(chan []*Flow, 4)
		t := newTable(o)
		s.ins, s.outs, s.tabs = append(s.ins, in), append(s.outs, oc), append(s.tabs, t)
		s.bufs = append(s.bufs, s.batch())
		go func() {
			for m := range in {
				for i := range m.pkts {
					t.packet(&m.pkts[i])
				}
				if m.pkts != nil {
					select {
					case s.free <- m.pkts[:0]:
					default:
					}
				}
				switch {
				case m.end:
					oc <- t.end(m.seq)
					close(oc)
				case m.tick:
					if m.sweep {
						t.sweep(m.now, m.seq)
					}
					oc <- t.flush()
				}
			}
		}()
	}
	go s.merge()
	return s
}

func (s *parallel) batch() []pkt {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]pkt, 0, batchSize)
	}
}

func (s *parallel) packet(p *pkt) {
	k := makeKey(&p.d)
	i := k.shard(s.n)
	s.bufs[i] = append(s.bufs[i], *p)
	if len(s.bufs[i]) == batchSize {
		s.ins[i] <- msg{pkts: s.bufs[i]}
		s.bufs[i] = s.batch()
	}
}

func (s *parallel) send(m msg) {
	for i, in := range s.ins {
		mm := m
		if len(s.bufs[i]) > 0 {
			mm.pkts = s.bufs[i]
			s.bufs[i] = s.batch()
		}
		in <- mm
	}
}

func (s *parallel) tick(seq uint64, now int64, sweep bool) {
	s.send(msg{tick: true, sweep: sweep, seq: seq, now: now})
}

func (s *parallel) end(seq uint64) {
	s.send(msg{end: true, seq: seq})
	for _, in := range s.ins {
		close(in)
	}
	<-s.done
}

func (s *parallel) stop() {
	s.end(^uint64(0))
}

func (s *parallel) maxActive() int {
	n := 0
	for _, t := range s.tabs {
		n += t.maxActive
	}
	return n
}

// merge takes one answer per shard per tick and writes their union in order.
func (s *parallel) merge() {
	defer close(s.done)
	var all []*Flow
	for {
		all = all[:0]
		open := false
		for _, oc := range s.outs {
			fs, ok := <-oc
			if ok {
				open = true
				all = append(all, fs...)
			}
		}
		if !open {
			return
		}
		sortFlows(all)
		s.out.writeAll(all)
	}
}
