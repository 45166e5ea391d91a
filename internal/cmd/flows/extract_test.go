package flows

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/flow"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

func TestNewCmdExtract(t *testing.T) {
	tests := []struct {
		args    string
		want    ExtractOptions
		wantErr string
	}{
		{args: "-o out.csv a.pcap b.pcapng", want: ExtractOptions{Inputs: []string{"a.pcap", "b.pcapng"}, Output: "out.csv", Format: "csv", FlowTimeout: 120 * time.Second, IdleTimeout: 5 * time.Second, Workers: 1}},
		{args: "--flow-timeout 60s --idle-timeout 1s --inactive-timeout 30s --format jsonl --workers 0 -o - x.pcap", want: ExtractOptions{Inputs: []string{"x.pcap"}, Output: "-", Format: "jsonl", FlowTimeout: time.Minute, IdleTimeout: time.Second, InactiveTimeout: 30 * time.Second}},
		{args: "a.pcap", wantErr: "missing -o OUT"},
		{args: "-o x", wantErr: "requires at least 1 arg"},
		{args: "--format xml -o x a.pcap", wantErr: `unknown format "xml"`},
		{args: "--flow-timeout -1s -o x a.pcap", wantErr: "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ExtractOptions
			cmd := NewCmdExtract(&cmdutil.Factory{IOStreams: ios}, func(o *ExtractOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tc.args))
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if strings.Join(got.Inputs, " ") != strings.Join(tc.want.Inputs, " ") || got.Output != tc.want.Output || got.Format != tc.want.Format ||
				got.FlowTimeout != tc.want.FlowTimeout || got.IdleTimeout != tc.want.IdleTimeout || got.InactiveTimeout != tc.want.InactiveTimeout || got.Workers != tc.want.Workers {
				t.Errorf("options %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestExtractRun(t *testing.T) {
	dir := testutil.SharedDir(t, "pcaps")
	out := filepath.Join(t.TempDir(), "flows.csv")
	ios, _, _, stderr := iostreams.Test()
	err := extractRun(t.Context(), &ExtractOptions{IO: ios, Output: out, Format: "csv", FlowTimeout: 120 * time.Second, IdleTimeout: 5 * time.Second, Workers: 2, Label: "benign, scan",
		Inputs: []string{filepath.Join(dir, "sv_pgsql-5000-query-results.pcap"), filepath.Join(dir, "zeek_nmap-vsn.pcap")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != strings.Join(flow.Columns[:], ",") {
		t.Errorf("header %q", lines[0])
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if len(r) != 84 {
			t.Fatalf("line %d has %d columns", i+1, len(r))
		}
		if i > 0 && r[83] != "benign, scan" {
			t.Fatalf("line %d label %q", i+1, r[83])
		}
	}
	se := stderr.String()
	for _, want := range []string{"packets read: 1332 (from 2 file(s))", "not IP: 503", "truncated file", "flows written: " + strconv.Itoa(len(lines)-1)} {
		if !strings.Contains(se, want) {
			t.Errorf("summary lacks %q:\n%s", want, se)
		}
	}

	err = extractRun(t.Context(), &ExtractOptions{IO: ios, Output: out, Format: "csv", Inputs: []string{filepath.Join(dir, "MANIFEST.md")}})
	if err == nil || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "MANIFEST.md: not a pcap") {
		t.Errorf("error %v, want one naming the file", err)
	}
}
