package flow

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden pins the CSV of a few small shared captures byte for byte
// (TCP handshake/teardown, out-of-order packets, DNS over UDP and TCP, a SYN
// flood, IPv6 and mixed services). Rerun with -update after an intended
// change and review the diff.
func TestGolden(t *testing.T) {
	dir := testutil.SharedDir(t, "pcaps")
	for _, name := range []string{"zeek_rfb_vnc-scanner.pcap", "tcpdump_dns_tcp.pcap", "gopacket_test_dns.pcap", "sv_tcp-syn-flood.pcap", "zeek_var-services-std-ports.pcap", "zeek_nmap-vsn.pcap"} {
		t.Run(name, func(t *testing.T) {
			_, _, out := extractFile(t, filepath.Join(dir, name), DefaultOptions())
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".csv")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (rerun with -update)", err)
			}
			if !bytes.Equal(out, want) {
				gl, wl := strings.Split(string(out), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) && i < len(wl); i++ {
					if gl[i] != wl[i] {
						t.Fatalf("%s line %d differs:\n got %s\nwant %s\n(rerun with -update if intended)", golden, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s: %d lines, want %d (rerun with -update if intended)", golden, len(gl), len(wl))
			}
		})
	}
}
