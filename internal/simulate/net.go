package simulate

import (
	"strconv"

	"github.com/rangehunt/rangehunt/internal/pcapwrite"
)

type convStat struct {
	packets, bytes int64
	first          int64
}

// conn is one TCP connection or UDP exchange between two hosts.
type conn struct {
	id           uint64
	udp          bool
	cli, srv     *host
	sport, dport uint16
	cp, sp       *proc // owning processes (nil when not logged)
	lbl          uint16
	segs         [2]*segment
	nseg         int
	stats        [2]convStat
	pending      int
	finished     bool
}

const mss = 1460

func (s *sim) newConn(cli, srv *host, sport, dport uint16, udp bool, cp *proc, lbl uint16) *conn {
	s.connID++
	c := &conn{id: s.connID, udp: udp, cli: cli, srv: srv, sport: sport, dport: dport, cp: cp, lbl: lbl}
	if srv.listen != nil {
		c.sp = srv.listen[dport]
	}
	c.segs[0], c.nseg = cli.seg, 1
	if srv.seg != cli.seg && !srv.absent {
		c.segs[1], c.nseg = srv.seg, 2
	}
	s.open[c.id] = c
	return c
}

func (s *sim) pkt(c *conn, t int64, dir uint8, flg uint8, sq, ak uint32, pay []byte, fill int, lbl uint16) {
	if t < s.now {
		t = s.now
	}
	c.pending++
	it := item{t: t, kind: itPkt, c: c, dir: dir, flg: flg, sq: sq, ak: ak, pay: pay, fill: uint16(fill), lbl: lbl}
	s.push(it)
}

func (s *sim) pktPre(c *conn, t int64, dir uint8, sq, ak uint32, pre []byte, fill int, lbl uint16) {
	if t < s.now {
		t = s.now
	}
	c.pending++
	it := item{t: t, kind: itPkt, c: c, dir: dir, flg: pcapwrite.ACK | pcapwrite.PSH, sq: sq, ak: ak, fill: uint16(fill), lbl: lbl}
	it.preN = uint8(copy(it.pre[:], pre))
	s.push(it)
}

func (s *sim) netEvent(c *conn, t int64, dir uint8, lbl uint16) {
	h, p := c.cli, c.cp
	if dir == 1 {
		h, p = c.srv, c.sp
	}
	if p == nil || !h.logged {
		return
	}
	s.push(item{t: t, kind: itNet, c: c, dir: dir, lbl: lbl})
}

func (s *sim) emitPacket(it *item) {
	c := it.c
	c.pending--
	src, dst := c.cli, c.srv
	sport, dport := c.sport, c.dport
	if it.dir == 1 {
		src, dst = dst, src
		sport, dport = dport, sport
	}
	pay := it.pay
	if it.preN > 0 {
		b := append(s.pbuf[:0], it.pre[:it.preN]...)
		pay = append(b, pay...)
		s.pbuf = pay
	}
	var tail []byte
	var tailSum uint16
	if n := int(it.fill); n > 0 {
		// 512 aligned slices of the filler: their checksum prefix sums
		// stay in cache.
		off := int(uint64(it.sq)*2654435761%uint64(len(s.filler)/fillerSlot-1)) * fillerSlot
		tail = s.filler[off : off+n]
		tailSum = s.fillerSum(off, n)
	}
	src.ipid++
	f := pcapwrite.Frame{Src: src.ip, Dst: dst.ip, TTL: 64, IPID: src.ipid, DontFragment: true,
		SrcPort: sport, DstPort: dport, Seq: it.sq, Ack: it.ak, Flags: it.flg, Payload: pay,
		Tail: tail, TailSum: tailSum, TailSumOK: true}
	if !src.logged && !src.absent {
		f.TTL = 53
	}
	switch {
	case it.flg&pcapwrite.SYN != 0:
		f.Window = 64240
		if it.flg&pcapwrite.ACK != 0 {
			f.Window = 65160
		}
		f.Options = pcapwrite.SYNOptions
	case it.flg&pcapwrite.RST != 0:
		f.Window = 0
	default:
		f.Window = 501 + uint16(it.dir)*8
	}
	lbl := c.lbl
	if it.lbl != 0 {
		lbl = it.lbl
	}
	// Hops in the order the frame crosses them.
	for k := 0; k < c.nseg; k++ {
		hop := k
		if it.dir == 1 {
			hop = c.nseg - 1 - k
		}
		seg := c.segs[hop]
		if k == 0 {
			f.SrcMAC, f.DstMAC = src.mac, dst.mac
			if c.nseg > 1 {
				f.DstMAC = seg.routerMAC
			}
			if c.udp {
				s.fbuf = pcapwrite.AppendUDPHead(s.fbuf[:0], &f)
			} else {
				s.fbuf = pcapwrite.AppendTCPHead(s.fbuf[:0], &f)
			}
		} else {
			// The router forwards the frame onto the next segment.
			pcapwrite.Rehop(s.fbuf, seg.routerMAC, dst.mac)
		}
		out := seg.out
		if err := out.pcap.WritePacketParts(it.t, s.fbuf, tail); err != nil && s.err == nil {
			s.err = err
		}
		flen := int64(len(s.fbuf) + len(tail))
		s.record(out, s.tPackets, lbl, false)
		s.packets++
		st := &c.stats[hop]
		if st.packets == 0 {
			st.first = it.t
		}
		st.packets++
		st.bytes += flen
	}
	if c.pending == 0 && c.finished {
		s.finishConn(c)
	}
}

// finishConn writes the conversation rows of c, one per segment.
func (s *sim) finishConn(c *conn) {
	delete(s.open, c.id)
	for k := 0; k < c.nseg; k++ {
		st := c.stats[k]
		if st.packets == 0 {
			continue
		}
		b := s.tbuf[:0]
		b = append(b, c.segs[k].out.name...)
		if c.udp {
			b = append(b, ",udp,"...)
		} else {
			b = append(b, ",tcp,"...)
		}
		b = append(b, c.cli.ipStr...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.sport), 10)
		b = append(b, ',')
		b = append(b, c.srv.ipStr...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.dport), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, st.first/1e3, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, st.packets, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, st.bytes, 10)
		b = append(b, ',')
		b = append(b, s.labels[c.lbl]...)
		b = append(b, '\n')
		s.tConv.w.Write(b)
		s.tbuf = b
		s.lblConv[c.lbl]++
	}
}

// tcpSess schedules the packets of one TCP connection.
type tcpSess struct {
	s          *sim
	c          *conn
	t          int64 // time of the last scheduled packet
	rtt        int64
	cseq, sseq uint32 // next sequence number of each side
	rate       int64  // ns per byte
	up         bool   // established
	// ssh sends opaque bytes as whole encrypted SSH packets (4-byte
	// length, ciphertext in 8-byte blocks, 16-byte MAC) per segment.
	ssh bool
}

// sshChunk rounds n up to the size of an encrypted SSH packet (at least
// 36 bytes) that fits in one segment.
func sshChunk(n int) int {
	c := n - 20
	if c < 16 {
		c = 16
	}
	c = (c + 7) &^ 7
	if 20+c > mss {
		c = (mss - 20) &^ 7
	}
	return 20 + c
}

func (s *sim) rttBetween(a, b *host) int64 {
	base := 150*us + s.rng.Int64N(250*us)
	if a.seg != b.seg {
		base += 300 * us
	}
	if !a.logged || !b.logged || a.role == "attacker" || b.role == "attacker" {
		base += 8*ms + s.rng.Int64N(30*ms)
	}
	return base
}

// dial opens a TCP connection from cli to srv:dport at t: SYN, SYN/ACK,
// ACK, and the connection events of both sides.
func (s *sim) dial(t int64, cli, srv *host, dport uint16, cp *proc, lbl uint16) *tcpSess {
	c := s.newConn(cli, srv, cli.ephemeralPort(), dport, false, cp, lbl)
	ts := &tcpSess{s: s, c: c, t: t, rtt: s.rttBetween(cli, srv), cseq: s.rng.Uint32(), sseq: s.rng.Uint32(), rate: 80}
	if !cli.logged || !srv.logged {
		ts.rate = 400
	}
	s.netEvent(c, t, 0, 0)
	s.pkt(c, t, 0, pcapwrite.SYN, ts.cseq, 0, nil, 0, 0)
	ts.cseq++
	if srv.absent {
		// Nobody answers: one retransmission after a second.
		s.pkt(c, t+sec+s.rng.Int64N(20*ms), 0, pcapwrite.SYN, ts.cseq-1, 0, nil, 0, 0)
		ts.t = t + sec
		c.finished = true
		return ts
	}
	t1 := t + ts.rtt/2
	s.pkt(c, t1, 1, pcapwrite.SYN|pcapwrite.ACK, ts.sseq, ts.cseq, nil, 0, 0)
	ts.sseq++
	s.netEvent(c, t1, 1, 0)
	ts.t = t + ts.rtt
	s.pkt(c, ts.t, 0, pcapwrite.ACK, ts.cseq, ts.sseq, nil, 0, 0)
	ts.up = true
	return ts
}

// refused is a connection attempt to a closed port: SYN, RST/ACK.
func (s *sim) refused(t int64, cli, srv *host, dport uint16, cp *proc, lbl uint16) int64 {
	c := s.newConn(cli, srv, cli.ephemeralPort(), dport, false, cp, lbl)
	s.netEvent(c, t, 0, 0)
	isn := s.rng.Uint32()
	s.pkt(c, t, 0, pcapwrite.SYN, isn, 0, nil, 0, 0)
	c.finished = true
	if srv.absent {
		s.pkt(c, t+sec+s.rng.Int64N(20*ms), 0, pcapwrite.SYN, isn, 0, nil, 0, 0)
		return t + 2*sec
	}
	rtt := s.rttBetween(cli, srv)
	s.pkt(c, t+rtt/2, 1, pcapwrite.RST|pcapwrite.ACK, 0, isn+1, nil, 0, 0)
	return t + rtt
}

// send schedules a message from one side at or after at: head bytes then
// fill opaque bytes, in MSS-sized segments, acknowledged every second
// segment. tls wraps the opaque part in TLS application-data records.
func (ts *tcpSess) send(at int64, fromClient bool, head []byte, fill int, tls bool, lbl uint16) {
	if !ts.up {
		return
	}
	s, c := ts.s, ts.c
	if at < ts.t {
		at = ts.t
	}
	dir, odir := uint8(0), uint8(1)
	seq, oseq := &ts.cseq, &ts.sseq
	if !fromClient {
		dir, odir = 1, 0
		seq, oseq = &ts.sseq, &ts.cseq
	}
	t := at
	nseg := 0
	last := t
	ack := func(t int64) {
		s.pkt(c, t+ts.rtt/2, odir, pcapwrite.ACK, *oseq, *seq, nil, 0, lbl)
		if t+ts.rtt/2 > last {
			last = t + ts.rtt/2
		}
	}
	for len(head) > 0 {
		n := min(len(head), mss)
		flg := uint8(pcapwrite.ACK)
		if n == len(head) && fill == 0 {
			flg |= pcapwrite.PSH
		}
		s.pkt(c, t, dir, flg, *seq, *oseq, head[:n], 0, lbl)
		*seq += uint32(n)
		head = head[n:]
		nseg++
		if nseg%2 == 0 {
			ack(t)
		}
		if t > last {
			last = t
		}
		t += int64(n+54) * ts.rate
	}
	for fill > 0 {
		n := min(fill, mss)
		if tls {
			n = min(fill, mss-5)
			rec := [5]byte{0x17, 0x03, 0x03, byte(n >> 8), byte(n)}
			s.pktPre(c, t, dir, *seq, *oseq, rec[:], n, lbl)
			*seq += uint32(n + 5)
		} else {
			flg := uint8(pcapwrite.ACK)
			if n == fill {
				flg |= pcapwrite.PSH
			}
			if ts.ssh {
				n = sshChunk(n)
				if n >= fill {
					flg |= pcapwrite.PSH
				}
			}
			s.pkt(c, t, dir, flg, *seq, *oseq, nil, n, lbl)
			*seq += uint32(n)
		}
		fill -= n
		nseg++
		if nseg%2 == 0 {
			ack(t)
		}
		if t > last {
			last = t
		}
		t += int64(n+54) * ts.rate
	}
	if nseg%2 == 1 {
		ack(t - int64(54)*ts.rate)
	}
	ts.t = last
}

// close tears the connection down with FIN from one side.
func (ts *tcpSess) close(at int64, clientFirst bool) int64 {
	s, c := ts.s, ts.c
	if !ts.up {
		return ts.t
	}
	if at < ts.t {
		at = ts.t
	}
	d1, d2 := uint8(0), uint8(1)
	s1, s2 := &ts.cseq, &ts.sseq
	if !clientFirst {
		d1, d2 = 1, 0
		s1, s2 = &ts.sseq, &ts.cseq
	}
	s.pkt(c, at, d1, pcapwrite.FIN|pcapwrite.ACK, *s1, *s2, nil, 0, 0)
	*s1++
	t := at + ts.rtt/2
	s.pkt(c, t, d2, pcapwrite.FIN|pcapwrite.ACK, *s2, *s1, nil, 0, 0)
	*s2++
	t = at + ts.rtt
	s.pkt(c, t, d1, pcapwrite.ACK, *s1, *s2, nil, 0, 0)
	ts.up = false
	ts.t = t
	c.finished = true
	return t
}

// reset aborts the connection with RST/ACK from the client (what nmap's
// connect scan does after a successful connect).
func (ts *tcpSess) reset(at int64) int64 {
	if at < ts.t {
		at = ts.t
	}
	ts.s.pkt(ts.c, at, 0, pcapwrite.RST|pcapwrite.ACK, ts.cseq, ts.sseq, nil, 0, 0)
	ts.up = false
	ts.c.finished = true
	ts.t = at
	return at
}

// udpExchange sends a request and, unless the server is absent, a reply.
func (s *sim) udpExchange(t int64, cli, srv *host, sport, dport uint16, req, resp []byte, cp *proc, lbl uint16) int64 {
	if sport == 0 {
		sport = cli.ephemeralPort()
	}
	c := s.newConn(cli, srv, sport, dport, true, cp, lbl)
	s.netEvent(c, t, 0, 0)
	s.pkt(c, t, 0, 0, 0, 0, req, 0, 0)
	c.finished = true
	if srv.absent || resp == nil {
		return t
	}
	rtt := s.rttBetween(cli, srv)
	s.pkt(c, t+rtt, 1, 0, 0, 0, resp, 0, 0)
	return t + rtt
}

// fillerSum returns the ones'-complement sum of filler[off:off+n] (off
// even) from the prefix sums.
func (s *sim) fillerSum(off, n int) uint16 {
	a, b := off/2, (off+n)/2
	acc := s.fillPrefix[b] - s.fillPrefix[a]
	if n%2 == 1 {
		acc += uint64(s.filler[off+n-1]) << 8
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// fillerSlot is the alignment of the filler slices used as payload.
const fillerSlot = 2048

func (s *sim) initFiller() {
	s.filler = make([]byte, 1<<20)
	for i := 0; i < len(s.filler); i += 8 {
		v := s.rng.Uint64()
		for k := 0; k < 8; k++ {
			s.filler[i+k] = byte(v >> (8 * k))
		}
	}
	s.fillPrefix = make([]uint64, len(s.filler)/2+1)
	for i := 0; i < len(s.filler)/2; i++ {
		s.fillPrefix[i+1] = s.fillPrefix[i] + (uint64(s.filler[2*i])<<8 | uint64(s.filler[2*i+1]))
	}
}
