package pcapwrite

import "encoding/binary"

// IP protocol numbers.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// TCP flag bits.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Frame describes one Ethernet/IPv4 TCP or UDP packet to build.
type Frame struct {
	SrcMAC, DstMAC   [6]byte
	Src, Dst         [4]byte
	TTL              uint8
	IPID             uint16
	DontFragment     bool
	SrcPort, DstPort uint16
	// TCP only.
	Seq, Ack uint32
	Flags    uint8
	Window   uint16
	// Options are raw TCP options; their length must be a multiple of 4.
	Options []byte
	Payload []byte
	// Tail is appended after Payload. When TailSumOK is set, TailSum is
	// the ones'-complement sum of Tail (as 16-bit big-endian words from
	// its first byte, see PartialSum), so that a caller sending slices of
	// one large buffer can precompute it.
	Tail      []byte
	TailSum   uint16
	TailSumOK bool
}

// PartialSum returns the folded ones'-complement sum of b as big-endian
// 16-bit words, an odd last byte padded with zero (RFC 1071).
func PartialSum(b []byte) uint16 { return fold(sum(b, 0)) }

// tailSum adds the tail's sum to acc, where the tail starts after odd
// bytes (swapping its byte order, RFC 1071 2(B)) when odd is set.
func tailSum(f *Frame, acc uint64, odd bool) uint64 {
	if len(f.Tail) == 0 {
		return acc
	}
	var ts uint16
	if f.TailSumOK {
		ts = f.TailSum
	} else {
		ts = fold(sum(f.Tail, 0))
	}
	if odd {
		ts = ts<<8 | ts>>8
	}
	return acc + uint64(ts)
}

// SYNOptions are the TCP options of a SYN or SYN/ACK: MSS 1460, NOP,
// window scale 7, NOP, NOP, SACK permitted.
var SYNOptions = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2}

func appendEthIP(dst []byte, f *Frame, proto uint8, l4len int) ([]byte, int) {
	dst = append(dst, f.DstMAC[:]...)
	dst = append(dst, f.SrcMAC[:]...)
	dst = append(dst, 0x08, 0x00)
	ipStart := len(dst)
	total := 20 + l4len
	var flags byte
	if f.DontFragment {
		flags = 0x40
	}
	dst = append(dst, 0x45, 0, byte(total>>8), byte(total), byte(f.IPID>>8), byte(f.IPID), flags, 0, f.TTL, proto, 0, 0)
	dst = append(dst, f.Src[:]...)
	dst = append(dst, f.Dst[:]...)
	cs := ^fold(sum(dst[ipStart:ipStart+20], 0))
	binary.BigEndian.PutUint16(dst[ipStart+10:], cs)
	return dst, ipStart
}

func pseudo(f *Frame, proto uint8, l4len int) uint64 {
	s := uint64(binary.BigEndian.Uint16(f.Src[0:])) + uint64(binary.BigEndian.Uint16(f.Src[2:])) +
		uint64(binary.BigEndian.Uint16(f.Dst[0:])) + uint64(binary.BigEndian.Uint16(f.Dst[2:]))
	return s + uint64(proto) + uint64(l4len)
}

// AppendTCP appends the Ethernet/IPv4/TCP frame f to dst and returns it.
func AppendTCP(dst []byte, f *Frame) []byte { return append(appendTCP(dst, f), f.Tail...) }

// AppendTCPHead appends the frame f without its Tail (the checksums cover
// the Tail): write the Tail after it, e.g. with Writer.WritePacketParts.
func AppendTCPHead(dst []byte, f *Frame) []byte { return appendTCP(dst, f) }

func appendTCP(dst []byte, f *Frame) []byte {
	hl := 20 + len(f.Options)
	l4len := hl + len(f.Payload) + len(f.Tail)
	dst, _ = appendEthIP(dst, f, ProtoTCP, l4len)
	t := len(dst)
	dst = append(dst,
		byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort),
		byte(f.Seq>>24), byte(f.Seq>>16), byte(f.Seq>>8), byte(f.Seq),
		byte(f.Ack>>24), byte(f.Ack>>16), byte(f.Ack>>8), byte(f.Ack),
		byte(hl/4)<<4, f.Flags, byte(f.Window>>8), byte(f.Window), 0, 0, 0, 0)
	dst = append(dst, f.Options...)
	dst = append(dst, f.Payload...)
	acc := tailSum(f, sum(dst[t:], pseudo(f, ProtoTCP, l4len)), len(f.Payload)%2 == 1)
	cs := ^fold(acc)
	binary.BigEndian.PutUint16(dst[t+16:], cs)
	return dst
}

// AppendUDP appends the Ethernet/IPv4/UDP frame f to dst and returns it.
func AppendUDP(dst []byte, f *Frame) []byte { return append(appendUDP(dst, f), f.Tail...) }

// AppendUDPHead is AppendTCPHead for UDP.
func AppendUDPHead(dst []byte, f *Frame) []byte { return appendUDP(dst, f) }

func appendUDP(dst []byte, f *Frame) []byte {
	l4len := 8 + len(f.Payload) + len(f.Tail)
	dst, _ = appendEthIP(dst, f, ProtoUDP, l4len)
	u := len(dst)
	dst = append(dst, byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort),
		byte(l4len>>8), byte(l4len), 0, 0)
	dst = append(dst, f.Payload...)
	acc := tailSum(f, sum(dst[u:], pseudo(f, ProtoUDP, l4len)), len(f.Payload)%2 == 1)
	cs := ^fold(acc)
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(dst[u+6:], cs)
	return dst
}

// sum adds b as big-endian 16-bit words to acc (odd length padded with 0).
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v >> 48
		acc += (v >> 32) & 0xffff
		acc += (v >> 16) & 0xffff
		acc += v & 0xffff
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = (acc & 0xffff) + (acc >> 16)
	}
	return uint16(acc)
}

// Checksum returns the Internet checksum (RFC 1071) of b.
func Checksum(b []byte) uint16 { return ^fold(sum(b, 0)) }

// Rehop rewrites a frame built by AppendTCP or AppendUDP in place for the
// next hop: new MAC addresses and a TTL decremented by one, with the IPv4
// header checksum updated.
func Rehop(frame []byte, src, dst [6]byte) {
	copy(frame[0:6], dst[:])
	copy(frame[6:12], src[:])
	ip := frame[14:34]
	ip[8]--
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum(ip, 0)))
}
