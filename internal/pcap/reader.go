// Package pcap reads packet captures (pcap and pcapng) as a stream and
// decodes link, network and transport headers without allocating.
//
// A Reader sniffs the file format from the first bytes; Next returns one
// packet at a time and the packet's Data is valid only until the next call
// (zero copy). A capture cut short in the middle of a record ends the stream
// with io.EOF and a warning (see Reader.Warnings), not an error, because
// everything before the cut is still good data.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// LinkType is a capture link-layer header type (LINKTYPE_* from tcpdump.org).
type LinkType uint16

// Link types the decoder understands.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte address family
	LinkEthernet LinkType = 1   // Ethernet II (with 802.1Q/802.1ad tags)
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6
	LinkRaw12    LinkType = 12  // raw IP on some OpenBSD captures
	LinkRaw14    LinkType = 14  // raw IP, another historical value
	LinkLoop     LinkType = 108 // OpenBSD loopback: 4-byte big-endian family
	LinkSLL      LinkType = 113 // Linux "cooked" capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux "cooked" capture v2
)

// Format is the container format of a capture file.
type Format int

// Capture container formats.
const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// ErrNotCapture is returned by NewReader when the input is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// Packet is one captured frame. Data aliases the reader's buffer and is
// valid only until the next call to Next.
type Packet struct {
	Data      []byte   // captured bytes (len = captured length)
	OrigLen   int      // length of the frame on the wire
	Timestamp int64    // nanoseconds since the Unix epoch
	LinkType  LinkType // link type of the interface that captured it
	Interface int      // pcapng interface index (0 for pcap)
	Index     int      // 1-based packet number in the file
}

// maxPacket bounds a single record, so garbage in a length field cannot make
// the reader allocate gigabytes.
const maxPacket = 1 << 20

// maxBlock bounds a pcapng block (packets plus options).
const maxBlock = maxPacket + 64<<10

type iface struct {
	link    LinkType
	snaplen uint32
	// ts conversion: ns = ts*mul/div (+ offset)
	mul, div uint64
	offset   int64
}

// Reader streams packets from a pcap or pcapng capture.
type Reader struct {
	r      *bufio.Reader
	format Format
	bo     binary.ByteOrder
	buf    []byte
	hdr    [32]byte
	index  int
	off    int64

	// pcap
	link    LinkType
	snaplen uint32
	nano    bool

	// pcapng
	ifaces []iface

	warnings []string
}

// NewReader sniffs the capture format from r and reads the file header.
func NewReader(r io.Reader) (*Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	rd := &Reader{r: br, buf: make([]byte, 0, 64<<10)}
	magic, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty input: %w", ErrNotCapture)
		}
		return nil, fmt.Errorf("reading magic: %w", err)
	}
	switch {
	case binary.LittleEndian.Uint32(magic) == 0x0A0D0D0A:
		rd.format = FormatPcapNG
		if err := rd.readSHB(); err != nil {
			return nil, err
		}
	default:
		if err := rd.readPcapHeader(); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// Format reports the container format.
func (r *Reader) Format() Format { return r.format }

// LinkType reports the link type of a pcap file, or of the first pcapng
// interface seen so far (0 if none yet).
func (r *Reader) LinkType() LinkType {
	if r.format == FormatPcap {
		return r.link
	}
	if len(r.ifaces) > 0 {
		return r.ifaces[0].link
	}
	return 0
}

// Warnings lists problems that ended the stream early (a truncated file,
// garbage where a record header should be). They are not errors: the
// packets before the problem were delivered.
func (r *Reader) Warnings() []string { return r.warnings }

// Offset reports how many bytes of the input have been consumed.
func (r *Reader) Offset() int64 { return r.off }

// Count reports how many packets Next has returned.
func (r *Reader) Count() int { return r.index }

func (r *Reader) warnf(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

func (r *Reader) readFull(p []byte) (int, error) {
	n, err := io.ReadFull(r.r, p)
	r.off += int64(n)
	return n, err
}

func (r *Reader) readPcapHeader() error {
	h := r.hdr[:24]
	if n, err := r.readFull(h); err != nil {
		if n >= 4 && isPcapMagic(h[:4]) {
			return fmt.Errorf("pcap file header: only %d of 24 bytes: %w", n, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("%w (%d bytes)", ErrNotCapture, n)
	}
	switch binary.LittleEndian.Uint32(h) {
	case 0xa1b2c3d4:
		r.bo = binary.LittleEndian
	case 0xa1b23c4d:
		r.bo, r.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		r.bo = binary.BigEndian
	case 0x4d3cb2a1:
		r.bo, r.nano = binary.BigEndian, true
	default:
		return fmt.Errorf("%w: magic %#08x", ErrNotCapture, binary.BigEndian.Uint32(h))
	}
	r.format = FormatPcap
	r.snaplen = r.bo.Uint32(h[16:])
	// The upper bits of the link-type field carry FCS information.
	r.link = LinkType(r.bo.Uint32(h[20:]) & 0xffff)
	return nil
}

func isPcapMagic(b []byte) bool {
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		return true
	}
	return false
}

// Next returns the next packet. It returns io.EOF at the end of the capture,
// including when the file is cut short (a warning is recorded then). Other
// errors come from the underlying reader.
func (r *Reader) Next() (Packet, error) {
	if r.format == FormatPcap {
		return r.nextPcap()
	}
	return r.nextNG()
}

func (r *Reader) nextPcap() (Packet, error) {
	h := r.hdr[:16]
	n, err := r.readFull(h)
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return Packet{}, io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.warnf("truncated file: record header of packet %d cut after %d of 16 bytes (offset %d)", r.index+1, n, r.off-int64(n))
			return Packet{}, io.EOF
		}
		return Packet{}, fmt.Errorf("packet %d: reading record header: %w", r.index+1, err)
	}
	sec := uint64(r.bo.Uint32(h[0:]))
	frac := uint64(r.bo.Uint32(h[4:]))
	caplen := r.bo.Uint32(h[8:])
	orig := r.bo.Uint32(h[12:])
	if caplen > maxPacket || (r.snaplen > 0 && r.snaplen < maxPacket && caplen > r.snaplen+64<<10) {
		r.warnf("corrupt record header at packet %d (offset %d): captured length %d is impossible; stopping", r.index+1, r.off-16, caplen)
		return Packet{}, io.EOF
	}
	if !r.nano && frac >= 1_000_000 || r.nano && frac >= 1_000_000_000 {
		r.warnf("corrupt record header at packet %d (offset %d): sub-second field %d out of range; stopping", r.index+1, r.off-16, frac)
		return Packet{}, io.EOF
	}
	data, err := r.body(int(caplen))
	if err != nil {
		return Packet{}, err
	}
	r.index++
	ts := int64(sec) * 1e9
	if r.nano {
		ts += int64(frac)
	} else {
		ts += int64(frac) * 1e3
	}
	if orig < caplen {
		orig = caplen
	}
	return Packet{Data: data, OrigLen: int(orig), Timestamp: ts, LinkType: r.link, Index: r.index}, nil
}

// body reads n bytes of packet data into the reusable buffer. A short read
// means a truncated file: it records a warning and returns io.EOF.
func (r *Reader) body(n int) ([]byte, error) {
	if cap(r.buf) < n {
		r.buf = make([]byte, n, n+n/4)
	}
	data := r.buf[:n]
	got, err := r.readFull(data)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.warnf("truncated file: packet %d cut after %d of %d bytes (offset %d)", r.index+1, got, n, r.off-int64(got))
			return nil, io.EOF
		}
		return nil, fmt.Errorf("packet %d: reading data: %w", r.index+1, err)
	}
	return data, nil
}

// --- pcapng ---

const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockOPB = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003
	blockEPB = 0x00000006
)

func (r *Reader) readSHB() error {
	h := r.hdr[:12]
	n, err := r.readFull(h)
	if err != nil {
		return fmt.Errorf("pcapng section header: only %d of 12 bytes: %w", n, io.ErrUnexpectedEOF)
	}
	switch binary.LittleEndian.Uint32(h[8:]) {
	case 0x1A2B3C4D:
		r.bo = binary.LittleEndian
	case 0x4D3C2B1A:
		r.bo = binary.BigEndian
	default:
		return fmt.Errorf("%w: pcapng section header has byte-order magic %#08x", ErrNotCapture, binary.BigEndian.Uint32(h[8:]))
	}
	total := r.bo.Uint32(h[4:])
	if total < 28 || total%4 != 0 || total > maxBlock {
		return fmt.Errorf("pcapng section header at offset %d: bad block length %d", r.off-12, total)
	}
	if _, err := r.skip(int(total) - 12); err != nil {
		return fmt.Errorf("pcapng section header: %w", io.ErrUnexpectedEOF)
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

func (r *Reader) skip(n int) (int, error) {
	d, err := r.r.Discard(n)
	r.off += int64(d)
	return d, err
}

func (r *Reader) nextNG() (Packet, error) {
	for {
		h := r.hdr[:8]
		start := r.off
		n, err := r.readFull(h)
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) {
				return Packet{}, io.EOF
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				r.warnf("truncated file: block header cut after %d of 8 bytes (offset %d)", n, start)
				return Packet{}, io.EOF
			}
			return Packet{}, fmt.Errorf("packet %d: reading block header: %w", r.index+1, err)
		}
		typ := r.bo.Uint32(h)
		if binary.LittleEndian.Uint32(h) == blockSHB {
			// New section: its byte order may differ. Re-read with the
			// section's own byte order.
			var rest [4]byte
			if _, err := r.readFull(rest[:]); err != nil {
				r.warnf("truncated file: section header cut (offset %d)", start)
				return Packet{}, io.EOF
			}
			switch binary.LittleEndian.Uint32(rest[:]) {
			case 0x1A2B3C4D:
				r.bo = binary.LittleEndian
			case 0x4D3C2B1A:
				r.bo = binary.BigEndian
			default:
				r.warnf("corrupt section header at offset %d; stopping", start)
				return Packet{}, io.EOF
			}
			total := r.bo.Uint32(h[4:])
			if total < 28 || total%4 != 0 || total > maxBlock {
				r.warnf("corrupt section header at offset %d: length %d; stopping", start, total)
				return Packet{}, io.EOF
			}
			if _, err := r.skip(int(total) - 12); err != nil {
				r.warnf("truncated file: section header cut (offset %d)", start)
				return Packet{}, io.EOF
			}
			r.ifaces = r.ifaces[:0]
			continue
		}
		total := r.bo.Uint32(h[4:])
		if total < 12 || total%4 != 0 || total > maxBlock {
			r.warnf("corrupt block header at offset %d (after packet %d): block length %d; stopping", start, r.index, total)
			return Packet{}, io.EOF
		}
		body, err := r.body(int(total) - 8)
		if err != nil {
			return Packet{}, err
		}
		body = body[:len(body)-4] // trailing length copy
		switch typ {
		case blockIDB:
			if len(body) < 8 {
				r.warnf("corrupt interface block at offset %d; stopping", start)
				return Packet{}, io.EOF
			}
			ifc := iface{link: LinkType(r.bo.Uint16(body)), snaplen: r.bo.Uint32(body[4:]), mul: 1000, div: 1}
			r.parseIDBOptions(body[8:], &ifc)
			r.ifaces = append(r.ifaces, ifc)
		case blockEPB, blockOPB:
			if len(body) < 20 {
				r.warnf("corrupt packet block at offset %d (packet %d); stopping", start, r.index+1)
				return Packet{}, io.EOF
			}
			var id int
			if typ == blockEPB {
				id = int(r.bo.Uint32(body))
			} else {
				id = int(r.bo.Uint16(body))
			}
			tsRaw := uint64(r.bo.Uint32(body[4:]))<<32 | uint64(r.bo.Uint32(body[8:]))
			caplen := int(r.bo.Uint32(body[12:]))
			orig := int(r.bo.Uint32(body[16:]))
			if id >= len(r.ifaces) {
				r.warnf("packet block at offset %d (packet %d) names interface %d of %d; stopping", start, r.index+1, id, len(r.ifaces))
				return Packet{}, io.EOF
			}
			if caplen > len(body)-20 {
				r.warnf("corrupt packet block at offset %d (packet %d): captured length %d exceeds block; stopping", start, r.index+1, caplen)
				return Packet{}, io.EOF
			}
			ifc := &r.ifaces[id]
			r.index++
			if orig < caplen {
				orig = caplen
			}
			return Packet{Data: body[20 : 20+caplen], OrigLen: orig, Timestamp: ifc.ns(tsRaw), LinkType: ifc.link, Interface: id, Index: r.index}, nil
		case blockSPB:
			if len(body) < 4 || len(r.ifaces) == 0 {
				r.warnf("corrupt simple packet block at offset %d (packet %d); stopping", start, r.index+1)
				return Packet{}, io.EOF
			}
			orig := int(r.bo.Uint32(body))
			caplen := len(body) - 4
			ifc := &r.ifaces[0]
			if orig < caplen {
				caplen = orig
			}
			if ifc.snaplen > 0 && int(ifc.snaplen) < caplen {
				caplen = int(ifc.snaplen)
			}
			r.index++
			// A simple packet block has no timestamp.
			return Packet{Data: body[4 : 4+caplen], OrigLen: orig, LinkType: ifc.link, Index: r.index}, nil
		default:
			// name resolution, statistics, custom, decryption secrets…: skip
		}
	}
}

func (r *Reader) parseIDBOptions(opts []byte, ifc *iface) {
	for len(opts) >= 4 {
		code := r.bo.Uint16(opts)
		l := int(r.bo.Uint16(opts[2:]))
		opts = opts[4:]
		if l > len(opts) {
			return
		}
		v := opts[:l]
		switch code {
		case 0:
			return
		case 9: // if_tsresol
			if l >= 1 {
				ifc.setResolution(v[0])
			}
		case 14: // if_tsoffset, seconds
			if l >= 8 {
				ifc.offset = int64(r.bo.Uint64(v)) * 1e9
			}
		}
		pad := (l + 3) &^ 3
		if pad > len(opts) {
			return
		}
		opts = opts[pad:]
	}
}

// setResolution sets the ts→ns conversion from if_tsresol: a power of ten
// (high bit clear) or of two (high bit set).
func (ifc *iface) setResolution(b byte) {
	e := uint(b & 0x7f)
	if b&0x80 == 0 {
		switch {
		case e <= 9:
			ifc.mul, ifc.div = pow10(9-e), 1
		case e <= 19:
			ifc.mul, ifc.div = 1, pow10(e-9)
		default:
			ifc.mul, ifc.div = 1, pow10(19) // nonsense resolution: clamp
		}
		return
	}
	if e > 63 {
		e = 63
	}
	ifc.mul, ifc.div = 1e9, 1<<e
}

func pow10(e uint) uint64 {
	v := uint64(1)
	for ; e > 0; e-- {
		v *= 10
	}
	return v
}

func (ifc *iface) ns(ts uint64) int64 {
	hi, lo := bits.Mul64(ts, ifc.mul)
	if hi >= ifc.div {
		return ifc.offset + int64(^uint64(0)>>1) // overflow: clamp far future
	}
	q, _ := bits.Div64(hi, lo, ifc.div)
	return ifc.offset + int64(q&(^uint64(0)>>1))
}
