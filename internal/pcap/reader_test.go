package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

func readAll(t *testing.T, r *Reader) []Packet {
	t.Helper()
	var out []Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}

// TestSharedCapturesAgainstTshark reads every shared capture and compares
// each packet's time, wire length and captured length with tshark's.
func TestSharedCapturesAgainstTshark(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark")
	dir := testutil.SharedDir(t, "pcaps")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) < 18 {
		t.Fatalf("want 18 captures, found %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len").Output()
			if err != nil && len(out) == 0 {
				t.Fatalf("tshark: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			fh, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			r, err := NewReader(fh)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				p, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n >= len(lines) {
					t.Fatalf("more packets than tshark's %d", len(lines))
				}
				f := strings.Fields(lines[n])
				n++
				if p.Index != n {
					t.Fatalf("index %d, want %d", p.Index, n)
				}
				sec, frac, _ := strings.Cut(f[0], ".")
				s, _ := strconv.ParseInt(sec, 10, 64)
				frac = (frac + "000000000")[:9]
				ns, _ := strconv.ParseInt(frac, 10, 64)
				if want := s*1e9 + ns; p.Timestamp != want {
					t.Fatalf("packet %d: time %d, tshark %d", n, p.Timestamp, want)
				}
				if strconv.Itoa(p.OrigLen) != f[1] || strconv.Itoa(len(p.Data)) != f[2] {
					t.Fatalf("packet %d: len %d caplen %d, tshark %s %s", n, p.OrigLen, len(p.Data), f[1], f[2])
				}
			}
			if n != len(lines) {
				t.Fatalf("read %d packets, tshark %d", n, len(lines))
			}
		})
	}
}

// pcapFile builds a classic pcap file in the given byte order and precision.
func pcapFile(bo order, nano bool, link uint32, recs [][]byte, ts []int64) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	bo.PutUint32(h, magic)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], 65535)
	bo.PutUint32(h[20:], link)
	b.Write(h)
	for i, d := range recs {
		r := make([]byte, 16)
		bo.PutUint32(r, uint32(ts[i]/1e9))
		if nano {
			bo.PutUint32(r[4:], uint32(ts[i]%1e9))
		} else {
			bo.PutUint32(r[4:], uint32(ts[i]%1e9/1e3))
		}
		bo.PutUint32(r[8:], uint32(len(d)))
		bo.PutUint32(r[12:], uint32(len(d)+10))
		b.Write(r)
		b.Write(d)
	}
	return b.Bytes()
}

func TestPcapVariants(t *testing.T) {
	recs := [][]byte{[]byte("abc"), []byte("defgh")}
	ts := []int64{1_700_000_000_123_456_000, 1_700_000_001_000_001_000}
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			name := bo.String() + map[bool]string{false: "/micro", true: "/nano"}[nano]
			t.Run(name, func(t *testing.T) {
				r, err := NewReader(bytes.NewReader(pcapFile(bo, nano, 113, recs, ts)))
				if err != nil {
					t.Fatal(err)
				}
				if r.Format() != FormatPcap || r.LinkType() != LinkSLL {
					t.Fatalf("format %v link %v", r.Format(), r.LinkType())
				}
				ps := readAll(t, r)
				if len(ps) != 2 || string(ps[1].Data) != "defgh" || ps[1].OrigLen != 15 || ps[0].Timestamp != ts[0] || ps[1].Timestamp != ts[1] || ps[1].Index != 2 {
					t.Fatalf("packets %+v", ps)
				}
				if len(r.Warnings()) != 0 {
					t.Fatalf("warnings %q", r.Warnings())
				}
			})
		}
	}
}

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ngBlock builds one pcapng block.
func ngBlock(bo order, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(len(body) + 12)
	b := make([]byte, 8, n)
	bo.PutUint32(b, typ)
	bo.PutUint32(b[4:], n)
	b = append(b, body...)
	return bo.AppendUint32(b, n)
}

func shb(bo order) []byte {
	body := bo.AppendUint32(nil, 0x1A2B3C4D)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	return ngBlock(bo, blockSHB, body)
}

func idb(bo order, link uint16, tsresol byte) []byte {
	body := bo.AppendUint16(nil, link)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 0)
	if tsresol != 0 {
		body = bo.AppendUint16(body, 9)
		body = bo.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
		body = bo.AppendUint32(body, 0) // opt_endofopt
	}
	return ngBlock(bo, blockIDB, body)
}

func epb(bo order, ifc uint32, ts uint64, data []byte, orig int) []byte {
	body := bo.AppendUint32(nil, ifc)
	body = bo.AppendUint32(body, uint32(ts>>32))
	body = bo.AppendUint32(body, uint32(ts))
	body = bo.AppendUint32(body, uint32(len(data)))
	body = bo.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	return ngBlock(bo, blockEPB, body)
}

func TestPcapNG(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			var f []byte
			f = append(f, shb(bo)...)
			f = append(f, idb(bo, 1, 0)...)                      // Ethernet, µs
			f = append(f, idb(bo, 101, 9)...)                    // raw IP, ns
			f = append(f, idb(bo, 276, 0x8a)...)                 // SLL2, 2^-10 s
			f = append(f, ngBlock(bo, 4, []byte{1, 2, 3, 4})...) // name resolution: skipped
			f = append(f, epb(bo, 0, 1_700_000_000_000_001, []byte("eth"), 60)...)
			f = append(f, epb(bo, 1, 1_700_000_000_000_000_002, []byte("raw"), 3)...)
			f = append(f, epb(bo, 2, 3<<10|512, []byte("sll2!"), 5)...)
			spb := bo.AppendUint32(nil, 4)
			f = append(f, ngBlock(bo, blockSPB, append(spb, "spb!"...))...)
			// a second section in the other byte order
			other := order(binary.BigEndian)
			if bo == binary.BigEndian {
				other = binary.LittleEndian
			}
			f = append(f, shb(other)...)
			f = append(f, idb(other, 228, 0)...)
			f = append(f, epb(other, 0, 5, []byte("v4"), 2)...)
			r, err := NewReader(bytes.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			ps := readAll(t, r)
			want := []struct {
				data string
				link LinkType
				ts   int64
				orig int
			}{
				{"eth", LinkEthernet, 1_700_000_000_000_001_000, 60},
				{"raw", LinkRaw, 1_700_000_000_000_000_002, 3},
				{"sll2!", LinkSLL2, 3_500_000_000, 5},
				{"spb!", LinkEthernet, 0, 4},
				{"v4", LinkIPv4, 5000, 2},
			}
			if len(ps) != len(want) {
				t.Fatalf("%d packets, want %d; warnings %q", len(ps), len(want), r.Warnings())
			}
			for i, w := range want {
				p := ps[i]
				if string(p.Data) != w.data || p.LinkType != w.link || p.Timestamp != w.ts || p.OrigLen != w.orig || p.Index != i+1 {
					t.Errorf("packet %d = %q link %d ts %d orig %d; want %+v", i+1, p.Data, p.LinkType, p.Timestamp, p.OrigLen, w)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	good := pcapFile(binary.LittleEndian, false, 1, [][]byte{make([]byte, 60), make([]byte, 70)}, []int64{1e9, 2e9})
	tests := []struct {
		name    string
		in      []byte
		packets int
		warning string // substring; "" = none
		openErr bool
	}{
		{"empty", nil, 0, "", true},
		{"random", []byte("hello, this is not a capture file at all"), 0, "", true},
		{"header cut", good[:10], 0, "", true},
		{"cut in second record data", good[:len(good)-5], 1, "packet 2 cut after 65 of 70 bytes", false},
		{"cut in second record header", good[:24+16+60+7], 1, "record header of packet 2 cut after 7 of 16 bytes", false},
		{"garbage after header", append(append([]byte{}, good[:24]...), bytes.Repeat([]byte{0xff}, 40)...), 0, "corrupt record header at packet 1", false},
		{"garbage after first packet", append(append([]byte{}, good[:24+16+60]...), bytes.Repeat([]byte{0x7f}, 30)...), 1, "corrupt record header at packet 2", false},
		{"pcapng block length garbage", append(shb(binary.LittleEndian), 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f), 0, "corrupt block header", false},
		{"pcapng packet before interface", append(shb(binary.LittleEndian), epb(binary.LittleEndian, 0, 1, []byte("x"), 1)...), 0, "names interface 0 of 0", false},
		{"pcapng cut", append(append(shb(binary.LittleEndian), idb(binary.LittleEndian, 1, 0)...), epb(binary.LittleEndian, 0, 1, []byte("xyzw"), 4)[:20]...), 0, "truncated file", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in))
			if tc.openErr {
				if err == nil {
					t.Fatal("want an error from NewReader")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ps := readAll(t, r)
			if len(ps) != tc.packets {
				t.Errorf("%d packets, want %d", len(ps), tc.packets)
			}
			w := strings.Join(r.Warnings(), "; ")
			if tc.warning == "" && w != "" || !strings.Contains(w, tc.warning) {
				t.Errorf("warnings %q, want one containing %q", w, tc.warning)
			}
		})
	}
}

func TestReaderNoAllocs(t *testing.T) {
	recs := make([][]byte, 1000)
	ts := make([]int64, 1000)
	for i := range recs {
		recs[i] = make([]byte, 100+i%200)
		ts[i] = int64(i) * 1e6
	}
	data := pcapFile(binary.LittleEndian, false, 1, recs, ts)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %.1f times per packet", allocs)
	}
}
