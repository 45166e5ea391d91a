package pcap

import (
	"encoding/binary"
)

// Reason says why a frame did not decode to an IP packet with a usable
// transport header. ReasonOK means it did.
type Reason uint8

// Decode outcomes. ReasonNotIP is not an error: ARP, LLDP and the like are
// simply not flows. The others are malformed or unusable packets.
const (
	ReasonOK            Reason = iota
	ReasonNotIP                // a link payload that is not IPv4/IPv6 (ARP, …)
	ReasonUnknownLink          // a link type this decoder does not know
	ReasonTruncatedLink        // frame shorter than its link header
	ReasonTruncatedIP          // IP header cut (by snaplen or a short frame)
	ReasonBadIPVersion         // version nibble disagrees with the link's ethertype
	ReasonBadIHL               // IPv4 header length < 20 or beyond the packet
	ReasonBadIPLength          // IPv4 total length smaller than its header
	ReasonFragment             // a non-first IP fragment: no transport header
	ReasonBadExtHeader         // IPv6 extension header chain cut or too long
	ReasonTruncatedL4          // transport header cut by snaplen
	ReasonBadDataOffset        // TCP data offset < 5 or beyond the IP payload
	ReasonBadUDPLength         // IP payload shorter than a UDP header
	numReasons
)

// NumReasons is the number of Reason values, for arrays indexed by Reason.
const NumReasons = int(numReasons)

var reasonNames = [...]string{
	ReasonOK:            "ok",
	ReasonNotIP:         "not-ip",
	ReasonUnknownLink:   "unknown-link-type",
	ReasonTruncatedLink: "truncated-link-header",
	ReasonTruncatedIP:   "truncated-ip-header",
	ReasonBadIPVersion:  "bad-ip-version",
	ReasonBadIHL:        "bad-ihl",
	ReasonBadIPLength:   "bad-ip-total-length",
	ReasonFragment:      "ip-fragment",
	ReasonBadExtHeader:  "bad-ipv6-extension-header",
	ReasonTruncatedL4:   "truncated-transport-header",
	ReasonBadDataOffset: "bad-tcp-data-offset",
	ReasonBadUDPLength:  "bad-udp-length",
}

// String returns the reason as used in summaries, e.g. "bad-ihl".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// IP protocol numbers the decoder looks into.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits as in the TCP header's flags byte.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
	FlagECE = 0x40
	FlagCWR = 0x80
)

// Decoded holds the header fields a flow meter needs. Decode fills it in
// place; it holds no references to the packet data.
type Decoded struct {
	IPv6     bool
	Src, Dst [16]byte // IPv4 addresses use the first 4 bytes
	Proto    uint8
	SrcPort  uint16
	DstPort  uint16
	TCPFlags uint8
	Window   uint16 // TCP window field (unscaled)
	IPHdrLen int    // IPv4 header incl. options, or IPv6 fixed + extension headers
	L4HdrLen int    // TCP header incl. options, UDP 8, ICMP 8, other 0
	Payload  int    // transport payload bytes, from the IP length fields
	Snapped  bool   // payload partly beyond the captured bytes (snaplen cut)
	ICMPType uint8
	ICMPCode uint8
}

// Decode parses data captured on a link of type lt into d. It never
// allocates and never panics on malformed input; the Reason says what, if
// anything, was wrong.
func Decode(lt LinkType, data []byte, d *Decoded) Reason {
	var et uint16
	switch lt {
	case LinkEthernet:
		if len(data) < 14 {
			return ReasonTruncatedLink
		}
		et = binary.BigEndian.Uint16(data[12:])
		data = data[14:]
		for et == 0x8100 || et == 0x88a8 || et == 0x9100 {
			if len(data) < 4 {
				return ReasonTruncatedLink
			}
			et = binary.BigEndian.Uint16(data[2:])
			data = data[4:]
		}
	case LinkSLL:
		if len(data) < 16 {
			return ReasonTruncatedLink
		}
		et = binary.BigEndian.Uint16(data[14:])
		data = data[16:]
	case LinkSLL2:
		if len(data) < 20 {
			return ReasonTruncatedLink
		}
		et = binary.BigEndian.Uint16(data[0:])
		data = data[20:]
	case LinkRaw, LinkRaw12, LinkRaw14:
		if len(data) < 1 {
			return ReasonTruncatedIP
		}
		switch data[0] >> 4 {
		case 4:
			et = 0x0800
		case 6:
			et = 0x86dd
		default:
			return ReasonBadIPVersion
		}
	case LinkIPv4:
		et = 0x0800
	case LinkIPv6:
		et = 0x86dd
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return ReasonTruncatedLink
		}
		fam := binary.LittleEndian.Uint32(data)
		if fam&0xffff == 0 { // written big-endian
			fam = binary.BigEndian.Uint32(data)
		}
		data = data[4:]
		switch fam {
		case 2:
			et = 0x0800
		case 10, 24, 28, 30:
			et = 0x86dd
		default:
			return ReasonNotIP
		}
	default:
		return ReasonUnknownLink
	}
	switch et {
	case 0x0800:
		return decodeIPv4(data, d)
	case 0x86dd:
		return decodeIPv6(data, d)
	}
	return ReasonNotIP
}

func decodeIPv4(b []byte, d *Decoded) Reason {
	if len(b) < 20 {
		return ReasonTruncatedIP
	}
	if b[0]>>4 != 4 {
		return ReasonBadIPVersion
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return ReasonBadIHL
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total == 0 { // TSO: length left to the NIC
		total = len(b)
	}
	if total < ihl {
		if ihl > len(b) {
			return ReasonBadIHL
		}
		return ReasonBadIPLength
	}
	if ihl > len(b) {
		return ReasonTruncatedIP
	}
	d.IPv6 = false
	d.Src = [16]byte{}
	d.Dst = [16]byte{}
	copy(d.Src[:4], b[12:16])
	copy(d.Dst[:4], b[16:20])
	d.Proto = b[9]
	d.IPHdrLen = ihl
	frag := binary.BigEndian.Uint16(b[6:]) & 0x1fff
	if frag != 0 {
		return ReasonFragment
	}
	return decodeL4(d.Proto, b[ihl:], total-ihl, d)
}

func decodeIPv6(b []byte, d *Decoded) Reason {
	if len(b) < 40 {
		return ReasonTruncatedIP
	}
	if b[0]>>4 != 6 {
		return ReasonBadIPVersion
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if plen == 0 { // jumbogram or TSO
		plen = len(b) - 40
	}
	d.IPv6 = true
	copy(d.Src[:], b[8:24])
	copy(d.Dst[:], b[24:40])
	next := b[6]
	b = b[40:]
	hdr := 40
	for i := 0; ; i++ {
		if i > 16 {
			return ReasonBadExtHeader
		}
		var l int
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, dest opts, mobility, HIP, shim6
			if len(b) < 8 {
				return ReasonBadExtHeader
			}
			l = (int(b[1]) + 1) * 8
		case 51: // AH: length in 4-byte units, minus 2
			if len(b) < 8 {
				return ReasonBadExtHeader
			}
			l = (int(b[1]) + 2) * 4
		case 44: // fragment
			if len(b) < 8 {
				return ReasonBadExtHeader
			}
			l = 8
			if binary.BigEndian.Uint16(b[2:])&0xfff8 != 0 {
				d.Proto = b[0]
				d.IPHdrLen = hdr + 8
				return ReasonFragment
			}
		default:
			d.Proto = next
			d.IPHdrLen = hdr
			return decodeL4(next, b, plen-(hdr-40), d)
		}
		if l > len(b) || l > plen-(hdr-40) {
			return ReasonBadExtHeader
		}
		next = b[0]
		b = b[l:]
		hdr += l
	}
}

// decodeL4 reads the transport header from b (captured bytes after the IP
// headers); avail is the transport length according to the IP header.
func decodeL4(proto uint8, b []byte, avail int, d *Decoded) Reason {
	d.SrcPort, d.DstPort, d.TCPFlags, d.Window = 0, 0, 0, 0
	d.ICMPType, d.ICMPCode = 0, 0
	if avail < 0 {
		avail = 0
	}
	d.Snapped = len(b) < avail
	switch proto {
	case ProtoTCP:
		if avail < 20 {
			if len(b) < avail || len(b) < 13 {
				return ReasonTruncatedL4
			}
			return ReasonBadDataOffset
		}
		if len(b) < 20 {
			return ReasonTruncatedL4
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > avail {
			return ReasonBadDataOffset
		}
		d.SrcPort = binary.BigEndian.Uint16(b)
		d.DstPort = binary.BigEndian.Uint16(b[2:])
		d.TCPFlags = b[13]
		d.Window = binary.BigEndian.Uint16(b[14:])
		d.L4HdrLen = off
		d.Payload = avail - off
	case ProtoUDP:
		if avail < 8 {
			if len(b) < avail {
				return ReasonTruncatedL4
			}
			return ReasonBadUDPLength
		}
		if len(b) < 8 {
			return ReasonTruncatedL4
		}
		d.SrcPort = binary.BigEndian.Uint16(b)
		d.DstPort = binary.BigEndian.Uint16(b[2:])
		d.L4HdrLen = 8
		d.Payload = avail - 8
	case ProtoICMP, ProtoICMPv6:
		if len(b) >= 2 {
			d.ICMPType, d.ICMPCode = b[0], b[1]
		}
		if avail >= 8 {
			d.L4HdrLen = 8
			d.Payload = avail - 8
		} else {
			d.L4HdrLen = 0
			d.Payload = avail
		}
	default:
		d.L4HdrLen = 0
		d.Payload = avail
	}
	return ReasonOK
}
