package pcap

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite golden files and fuzz seeds")

var (
	v4a = net.IP{192, 168, 1, 10}
	v4b = net.IP{10, 1, 2, 3}
	v6a = net.ParseIP("2001:db8::1")
	v6b = net.ParseIP("2001:db8::2")
)

func ser(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if n, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, o := range ls {
				if nl, ok := o.(gopacket.NetworkLayer); ok {
					_ = n.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
}

func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: v4a, DstIP: v4b, Protocol: p}
}

func ip6(p layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: v6a, DstIP: v6b, NextHeader: p}
}

func tcp(opts bool) *layers.TCP {
	t := &layers.TCP{SrcPort: 1234, DstPort: 443, SYN: true, PSH: true, Window: 4321}
	if opts {
		t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}, {OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}}, {OptionType: layers.TCPOptionKindNop}}
	}
	return t
}

func udp() *layers.UDP { return &layers.UDP{SrcPort: 5353, DstPort: 53} }

func pay(n int) gopacket.Payload { return gopacket.Payload(bytes.Repeat([]byte{'p'}, n)) }

// ipv6Ext builds an IPv6 packet by hand with the given extension headers
// (each: next-header value and raw bytes) before a UDP header.
func ipv6Ext(exts [][]byte, firstNext byte, l4 []byte) []byte {
	var body []byte
	for _, e := range exts {
		body = append(body, e...)
	}
	body = append(body, l4...)
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(body)))
	h[6] = firstNext
	h[7] = 64
	copy(h[8:], v6a.To16())
	copy(h[24:], v6b.To16())
	return append(h, body...)
}

func udpBytes(n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint16(b, 5353)
	binary.BigEndian.PutUint16(b[2:], 53)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	return b
}

type decodeCase struct {
	name   string
	link   LinkType
	data   []byte
	reason Reason
	want   Decoded // checked when reason is OK: Proto, ports, flags, window, lengths, Snapped
}

func decodeCases(t testing.TB) []decodeCase {
	tcpSyn := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(true), pay(10))
	padded := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(false))
	padded = append(padded, make([]byte, 60-len(padded))...) // Ethernet minimum-frame padding
	ipOnly := ser(t, ip4(layers.IPProtocolUDP), udp(), pay(3))
	ip6udp := ser(t, ip6(layers.IPProtocolUDP), udp(), pay(7))
	snapped := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(false), pay(1000))[:14+20+20+5]
	cutTCP := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(false), pay(10))[:14+20+10]
	badIHL := bytes.Clone(tcpSyn)
	badIHL[14] = 0x44
	bigIHL := bytes.Clone(ipOnly)
	bigIHL[0] = 0x4f
	bigIHL = bigIHL[:30]
	badOff := bytes.Clone(tcpSyn)
	badOff[14+20+12] = 0x40
	hugeOff := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcp(false))
	hugeOff[14+20+12] = 0xf0
	frag := ser(t, eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: v4a, DstIP: v4b, Protocol: layers.IPProtocolUDP, FragOffset: 185}, pay(100))
	firstFrag := ser(t, eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: v4a, DstIP: v4b, Protocol: layers.IPProtocolUDP, Flags: layers.IPv4MoreFragments}, udp(), pay(100))
	tso := bytes.Clone(ipOnly)
	tso[2], tso[3] = 0, 0
	hbh := []byte{60, 0, 1, 4, 0, 0, 0, 0}                          // hop-by-hop → dest opts, PadN
	dst := []byte{17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // dest opts (16 bytes) → UDP
	fragFirst := []byte{17, 0, 0, 1, 0, 0, 0, 42}                   // offset 0, M=1
	fragLater := []byte{17, 0, 0x05, 0x01, 0, 0, 0, 42}             // offset 160
	sll := append([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd}, ip6udp...)
	sll2 := append([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ipOnly...)
	null := append([]byte{2, 0, 0, 0}, ipOnly...)
	loop := append([]byte{0, 0, 0, 24}, ip6udp...)
	icmp := ser(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, pay(56))
	gre := ser(t, ip4(layers.IPProtocolGRE), pay(24))
	arp := ser(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
		SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: v4a.To4(), DstHwAddress: make([]byte, 6), DstProtAddress: v4b.To4()})
	vlan := ser(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolUDP), udp(), pay(4))
	qinq := ser(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 9, Type: layers.EthernetTypeIPv6}, ip6(layers.IPProtocolUDP), udp(), pay(4))
	wrongVer := bytes.Clone(tcpSyn)
	wrongVer[14] = 0x65

	udpWant := func(pl int) Decoded { return Decoded{Proto: 17, SrcPort: 5353, DstPort: 53, L4HdrLen: 8, Payload: pl} }
	return []decodeCase{
		{"eth/ipv4/tcp+options", LinkEthernet, tcpSyn, ReasonOK, Decoded{Proto: 6, SrcPort: 1234, DstPort: 443, TCPFlags: FlagSYN | FlagPSH, Window: 4321, IPHdrLen: 20, L4HdrLen: 32, Payload: 10}},
		{"eth padding is not payload", LinkEthernet, padded, ReasonOK, Decoded{Proto: 6, SrcPort: 1234, DstPort: 443, TCPFlags: FlagSYN | FlagPSH, Window: 4321, IPHdrLen: 20, L4HdrLen: 20}},
		{"snaplen cut payload", LinkEthernet, snapped, ReasonOK, Decoded{Proto: 6, SrcPort: 1234, DstPort: 443, TCPFlags: FlagSYN | FlagPSH, Window: 4321, IPHdrLen: 20, L4HdrLen: 20, Payload: 1000, Snapped: true}},
		{"vlan", LinkEthernet, vlan, ReasonOK, udpWant(4)},
		{"qinq ipv6", LinkEthernet, qinq, ReasonOK, udpWant(4)},
		{"raw ipv4", LinkRaw, ipOnly, ReasonOK, udpWant(3)},
		{"raw ipv6", LinkRaw, ip6udp, ReasonOK, udpWant(7)},
		{"linktype ipv4", LinkIPv4, ipOnly, ReasonOK, udpWant(3)},
		{"linktype ipv6", LinkIPv6, ip6udp, ReasonOK, udpWant(7)},
		{"sll", LinkSLL, sll, ReasonOK, udpWant(7)},
		{"sll2", LinkSLL2, sll2, ReasonOK, udpWant(3)},
		{"null loopback", LinkNull, null, ReasonOK, udpWant(3)},
		{"openbsd loop ipv6", LinkLoop, loop, ReasonOK, udpWant(7)},
		{"ipv6 hop-by-hop + dest opts", LinkIPv6, ipv6Ext([][]byte{hbh, dst}, 0, udpBytes(5)), ReasonOK, Decoded{Proto: 17, SrcPort: 5353, DstPort: 53, IPHdrLen: 64, L4HdrLen: 8, Payload: 5}},
		{"ipv6 first fragment", LinkIPv6, ipv6Ext([][]byte{fragFirst}, 44, udpBytes(5)), ReasonOK, Decoded{Proto: 17, SrcPort: 5353, DstPort: 53, IPHdrLen: 48, L4HdrLen: 8, Payload: 5}},
		{"ipv6 later fragment", LinkIPv6, ipv6Ext([][]byte{fragLater}, 44, make([]byte, 20)), ReasonFragment, Decoded{}},
		{"ipv6 ext header cut", LinkIPv6, ipv6Ext([][]byte{hbh[:5]}, 0, nil), ReasonBadExtHeader, Decoded{}},
		{"ipv6 no next header", LinkIPv6, ipv6Ext(nil, 59, make([]byte, 6)), ReasonOK, Decoded{Proto: 59, IPHdrLen: 40, Payload: 6}},
		{"ipv4 first fragment", LinkEthernet, firstFrag, ReasonOK, Decoded{Proto: 17, SrcPort: 5353, DstPort: 53, IPHdrLen: 20, L4HdrLen: 8, Payload: 100}},
		{"ipv4 later fragment", LinkEthernet, frag, ReasonFragment, Decoded{}},
		{"ipv4 total length 0 (TSO)", LinkRaw, tso, ReasonOK, udpWant(3)},
		{"icmp echo", LinkEthernet, icmp, ReasonOK, Decoded{Proto: 1, IPHdrLen: 20, L4HdrLen: 8, Payload: 56, ICMPType: 8}},
		{"gre: other protocol", LinkRaw, gre, ReasonOK, Decoded{Proto: 47, IPHdrLen: 20, Payload: 24}},
		{"arp", LinkEthernet, arp, ReasonNotIP, Decoded{}},
		{"unknown link", LinkType(147), tcpSyn, ReasonUnknownLink, Decoded{}},
		{"short ethernet", LinkEthernet, tcpSyn[:10], ReasonTruncatedLink, Decoded{}},
		{"short ip", LinkEthernet, tcpSyn[:14+12], ReasonTruncatedIP, Decoded{}},
		{"ihl 4", LinkEthernet, badIHL, ReasonBadIHL, Decoded{}},
		{"ihl beyond packet", LinkRaw, bigIHL, ReasonBadIHL, Decoded{}},
		{"version 6 in ipv4 ethertype", LinkEthernet, wrongVer, ReasonBadIPVersion, Decoded{}},
		{"tcp data offset 4", LinkEthernet, badOff, ReasonBadDataOffset, Decoded{}},
		{"tcp data offset beyond segment", LinkEthernet, hugeOff, ReasonBadDataOffset, Decoded{}},
		{"tcp header cut", LinkEthernet, cutTCP, ReasonTruncatedL4, Decoded{}},
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoded
			r := Decode(tc.link, tc.data, &d)
			if r != tc.reason {
				t.Fatalf("reason %v, want %v", r, tc.reason)
			}
			if r != ReasonOK {
				return
			}
			w := tc.want
			got := Decoded{Proto: d.Proto, SrcPort: d.SrcPort, DstPort: d.DstPort, TCPFlags: d.TCPFlags, Window: d.Window,
				L4HdrLen: d.L4HdrLen, Payload: d.Payload, Snapped: d.Snapped, ICMPType: d.ICMPType, ICMPCode: d.ICMPCode}
			if w.IPHdrLen != 0 {
				got.IPHdrLen = d.IPHdrLen
			}
			if got != w {
				t.Errorf("decoded\n got %+v\nwant %+v", got, w)
			}
			src := net.IP(d.Src[:4])
			if d.IPv6 {
				src = net.IP(d.Src[:])
			}
			if !src.Equal(v4a) && !src.Equal(v6a) {
				t.Errorf("source address %v", src)
			}
		})
	}
}

func TestDecodeNoAllocs(t *testing.T) {
	cases := decodeCases(t)
	var d Decoded
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range cases {
			Decode(c.link, c.data, &d)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per run", allocs)
	}
}

var fuzzLinks = []LinkType{LinkEthernet, LinkRaw, LinkIPv4, LinkIPv6, LinkSLL, LinkSLL2, LinkNull, LinkLoop}

// FuzzDecode feeds arbitrary bytes to the decoder on every link type: it
// must not panic, and what it reports must be consistent.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases(f) {
		f.Add(uint8(c.link), c.data)
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var d Decoded
		for _, lt := range append(fuzzLinks, LinkType(link)) {
			r := Decode(lt, data, &d)
			if r >= numReasons {
				t.Fatalf("reason %d out of range", r)
			}
			if r == ReasonOK && (d.Payload < 0 || d.L4HdrLen < 0 || d.L4HdrLen > 60 || d.IPHdrLen < 20) {
				t.Fatalf("link %d: inconsistent %+v", lt, d)
			}
		}
	})
}

// TestWriteFuzzSeeds writes the decoder table as a seed corpus under
// testdata/fuzz/FuzzDecode (run with -update).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range decodeCases(t) {
		body := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", byte(c.link), c.data)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
