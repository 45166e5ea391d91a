package pcapwrite

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

func testFrames() [][]byte {
	base := Frame{
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2},
		Src: [4]byte{172, 16, 0, 10}, Dst: [4]byte{172, 16, 1, 4},
		TTL: 64, DontFragment: true, SrcPort: 40000, DstPort: 80, Window: 64240,
	}
	var frames [][]byte
	syn := base
	syn.Flags, syn.Seq, syn.Options, syn.IPID = SYN, 1000, SYNOptions, 1
	frames = append(frames, AppendTCP(nil, &syn))
	data := base
	data.Flags, data.Seq, data.Ack, data.IPID = PSH|ACK, 1001, 5001, 2
	data.Payload = []byte("GET / HTTP/1.1\r\nHost: 172.16.1.4\r\n\r\n") // 36 bytes, even
	frames = append(frames, AppendTCP(nil, &data))
	odd := data
	odd.Payload = []byte("odd")
	frames = append(frames, AppendTCP(nil, &odd))
	tail := data
	tail.Payload = []byte("odd")
	tail.Tail = []byte("tail bytes after an odd payload!!")
	frames = append(frames, AppendTCP(nil, &tail))
	pre := tail
	pre.TailSum, pre.TailSumOK = PartialSum(pre.Tail), true
	frames = append(frames, AppendTCP(nil, &pre))
	hop := AppendTCP(nil, &data)
	Rehop(hop, [6]byte{2, 0, 0, 0, 0, 9}, [6]byte{2, 0, 0, 0, 0, 8})
	frames = append(frames, hop)
	udp := base
	udp.SrcPort, udp.DstPort, udp.Payload = 53000, 9999, []byte{1, 2, 3, 4, 5}
	frames = append(frames, AppendUDP(nil, &udp))
	return frames
}

func TestChecksumsFoldToZero(t *testing.T) {
	for i, fr := range testFrames() {
		ip := fr[14:34]
		if Checksum(ip) != 0 {
			t.Errorf("frame %d: IPv4 header checksum does not verify", i)
		}
		l4 := fr[34:]
		var f Frame
		copy(f.Src[:], ip[12:16])
		copy(f.Dst[:], ip[16:20])
		if c := ^fold(sum(l4, pseudo(&f, ip[9], len(l4)))); c != 0 {
			t.Errorf("frame %d: L4 checksum residue %#x", i, c)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	frames := testFrames()
	for i, fr := range frames {
		if err := w.WritePacket(1764882171000000000+int64(i)*1500, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != LinkTypeEthernet {
		t.Fatalf("bad file header % x", b[:24])
	}
	b = b[24:]
	for i := range frames {
		sec, usec := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		n := binary.LittleEndian.Uint32(b[8:])
		if orig := binary.LittleEndian.Uint32(b[12:]); orig != n || int(n) != len(frames[i]) {
			t.Fatalf("packet %d: caplen %d origlen %d, want %d", i, n, orig, len(frames[i]))
		}
		data := b[16 : 16+n]
		b = b[16+n:]
		if want := int64(1764882171000000000 + int64(i)*1500); int64(sec)*1e9+int64(usec)*1e3 != want/1000*1000 {
			t.Errorf("packet %d: time %d.%06d, want %d", i, sec, usec, want)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: %v", i, el.Error())
		}
		if i == 1 {
			tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp.Seq != 1001 || tcp.Ack != 5001 || !tcp.PSH || !tcp.ACK || string(tcp.Payload) != string(frames[1][54:]) {
				t.Errorf("packet 1 decoded as %+v", tcp)
			}
		}
	}
}

func TestTsharkAcceptsChecksums(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark")
	path := filepath.Join(t.TempDir(), "t.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range testFrames() {
		// Half of them as head and tail.
		if i%2 == 1 {
			err = w.WritePacketParts(1764882171000000000+int64(i)*1000, fr[:40], fr[40:])
		} else {
			err = w.WritePacket(1764882171000000000+int64(i)*1000, fr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(tshark, "-r", path, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-o", "udp.check_checksum:TRUE", "-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status",
		"-e", "udp.checksum.status").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 7 {
		t.Fatalf("tshark printed %d lines:\n%s", len(lines), out)
	}
	for i, l := range lines {
		// Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
		for _, st := range strings.Split(l, "\t") {
			if st != "" && st != "1" {
				t.Errorf("packet %d checksum statuses %q (0 bad, 1 good, 2 unverified)", i+1, l)
			}
		}
		if strings.Count(l, "1") != 2 {
			t.Errorf("packet %d: want IP and L4 checksum verified, got %q", i+1, l)
		}
	}
}
