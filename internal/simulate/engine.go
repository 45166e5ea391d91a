package simulate

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/rangehunt/rangehunt/internal/pcapwrite"
)

// Item kinds in the time-ordered queue.
const (
	itCall      = iota // run fn
	itProcStart        // process exec (or fork) event
	itProcEnd          // process end event
	itNet              // network connection event on one side
	itPkt              // one packet
)

// item is one thing that happens at time t. The queue orders items by
// (t, seq); seq is the order in which items were scheduled, so a parent's
// start always precedes a child's start at the same instant.
type item struct {
	t    int64
	seq  uint64
	kind uint8
	dir  uint8 // packets and network events: 0 client side, 1 server side
	flg  uint8 // TCP flags
	preN uint8
	lbl  uint16 // label override of a packet (0: the connection's)
	fill uint16 // filler bytes after pay
	pre  [5]byte
	sq   uint32 // TCP seq
	ak   uint32 // TCP ack
	c    *conn
	p    *proc
	pay  []byte
	fn   func()
}

// queue is a binary heap of small keys over a slab of items, so that
// sifting moves 24-byte keys instead of whole items.
type queue struct {
	keys  []qkey
	items []item
	free  []int32
}

type qkey struct {
	t   int64
	seq uint64
	idx int32
}

func (k qkey) less(o qkey) bool { return k.t < o.t || (k.t == o.t && k.seq < o.seq) }

func (q *queue) len() int { return len(q.keys) }

// first returns the time of the earliest item; the queue must not be empty.
func (q *queue) first() int64 { return q.keys[0].t }

func (q *queue) reset() {
	q.keys = q.keys[:0]
	q.items = q.items[:0]
	q.free = q.free[:0]
}

func (q *queue) push(it item) {
	var idx int32
	if n := len(q.free); n > 0 {
		idx = q.free[n-1]
		q.free = q.free[:n-1]
		q.items[idx] = it
	} else {
		idx = int32(len(q.items))
		q.items = append(q.items, it)
	}
	k := qkey{t: it.t, seq: it.seq, idx: idx}
	h := append(q.keys, k)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !k.less(h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = k
	q.keys = h
}

// pop removes the earliest item and returns it.
func (q *queue) pop() item {
	h := q.keys
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	if n > 0 {
		h[i] = last
	}
	q.keys = h
	it := q.items[top.idx]
	q.items[top.idx] = item{}
	q.free = append(q.free, top.idx)
	return it
}

// outFile is one output file with its truth run-length encoder.
type outFile struct {
	name string
	w    *bufio.Writer
	c    io.Closer
	n    int64 // records written
	// current truth run
	runLbl   uint16
	runStart int64
	pcap     *pcapwrite.Writer
	cw       *countWriter
}

// countWriter counts the bytes written to a file.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// truthRuns writes "file,first,last,label" rows.
type truthWriter struct {
	w *bufio.Writer
	c io.Closer
}

// record counts one record of f with label lbl and extends or closes
// the file's current truth run.
func (s *sim) record(f *outFile, tw *truthWriter, lbl uint16, event bool) {
	f.n++
	if event {
		s.lblEvents[lbl]++
	} else {
		s.lblPackets[lbl]++
	}
	if f.n == 1 {
		f.runLbl, f.runStart = lbl, 1
		return
	}
	if lbl != f.runLbl {
		s.flushRun(f, tw, f.n-1)
		f.runLbl, f.runStart = lbl, f.n
	}
}

func (s *sim) flushRun(f *outFile, tw *truthWriter, last int64) {
	b := s.tbuf[:0]
	b = append(b, f.name...)
	b = append(b, ',')
	b = strconv.AppendInt(b, f.runStart, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, last, 10)
	b = append(b, ',')
	b = append(b, s.labels[f.runLbl]...)
	b = append(b, '\n')
	tw.w.Write(b)
	s.tbuf = b
}

// finishRuns writes the open run of every file.
func (s *sim) finishRuns(files []*outFile, tw *truthWriter) {
	for _, f := range files {
		if f.n > 0 {
			s.flushRun(f, tw, f.n)
		}
	}
}

type sim struct {
	opts  Options
	rng   *rand.Rand
	q     queue
	seq   uint64
	now   int64
	start int64
	end   int64

	sink   Sink
	files  []*outFile
	logs   []*outFile
	pcaps  []*outFile
	closer []io.Closer

	tEvents, tPackets, tConv *truthWriter
	tbuf                     []byte

	labels     []string
	lblIndex   map[string]uint16
	lblEvents  []int64
	lblPackets []int64
	lblConv    []int64

	w          *world
	filler     []byte
	fillPrefix []uint64
	ebuf       []byte // event encoding buffer
	fbuf       []byte // frame buffer
	pbuf       []byte // payload buffer
	tsCache    tsCache
	exeHash    map[string]string
	connID     uint64
	open       map[uint64]*conn
	err        error
	scripts    map[string]string
	plans      map[string][]shStep // parsed payloads (plans are read-only)
	behaviours map[string]func(*proc, int64) int64
	rev        *revShell
	aitm       uint16
	att        *attack
	onRequest  func(srv *host, port int, f fetchSpec, t int64, lbl uint16, at int64) int64
	events     int64
	packets    int64
	progress   func(events, packets int64)
	// nextProgress is the record count at which progress is next reported.
	nextProgress int64
}

func (s *sim) at(t int64, fn func()) {
	s.seq++
	s.q.push(item{t: t, seq: s.seq, kind: itCall, fn: fn})
}

func (s *sim) push(it item) {
	s.seq++
	it.seq = s.seq
	s.q.push(it)
}

// label returns the index of a procedure id ("" and "benign" are 0).
func (s *sim) label(id string) uint16 {
	if id == "" {
		return 0
	}
	if i, ok := s.lblIndex[id]; ok {
		return i
	}
	i := uint16(len(s.labels))
	s.labels = append(s.labels, id)
	s.lblIndex[id] = i
	s.lblEvents = append(s.lblEvents, 0)
	s.lblPackets = append(s.lblPackets, 0)
	s.lblConv = append(s.lblConv, 0)
	return i
}

func (s *sim) create(name string) (*outFile, error) {
	wc, err := s.sink.Create(name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	cw := &countWriter{w: wc}
	f := &outFile{name: name, w: bufio.NewWriterSize(cw, 256<<10), c: wc, cw: cw}
	s.files = append(s.files, f)
	return f, nil
}

func (s *sim) createTruth(name, header string) (*truthWriter, error) {
	f, err := s.create(name)
	if err != nil {
		return nil, err
	}
	f.w.WriteString(header + "\n")
	return &truthWriter{w: f.w}, nil
}

// sortedConns returns the open connections in id order.
func (s *sim) sortedConns() []*conn {
	out := make([]*conn, 0, len(s.open))
	for _, c := range s.open {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
