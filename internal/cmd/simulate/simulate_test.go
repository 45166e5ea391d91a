package simulate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

func TestNewCmdFlags(t *testing.T) {
	tests := []struct {
		args    string
		want    Options
		wantErr string
	}{
		{args: "--out d", want: Options{Scenario: "florama", Seed: 1, Duration: time.Hour, Hosts: 3, BenignRate: 0.5, Out: "d"}},
		{args: "--out d --seed 9 --duration 2h --hosts 10 --benign-rate 2 --benign-only",
			want: Options{Scenario: "florama", Seed: 9, Duration: 2 * time.Hour, Hosts: 10, BenignRate: 2, BenignOnly: true, Out: "d"}},
		{args: "--list", want: Options{Scenario: "florama", Seed: 1, Duration: time.Hour, Hosts: 3, BenignRate: 0.5, List: true}},
		{args: "", wantErr: "--out is required"},
		{args: "--out d --hosts 0", wantErr: "--hosts must be at least 1"},
		{args: "--out d --duration -1h", wantErr: "--duration must be positive"},
		{args: "--out d --start yesterday", wantErr: "--start"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := newCmd(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want flag error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if *got != tt.want {
				t.Fatalf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	dir := t.TempDir()
	o := &Options{IO: ios, Scenario: "florama", Seed: 1, Duration: 30 * time.Minute, Hosts: 2, BenignRate: 0.5, Out: dir}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"scenario.yaml", "logs/web.ndjson", "logs/ws2.ndjson", "pcaps/dmz.pcap", "truth/events.csv"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs/ws3.ndjson")); err == nil {
		t.Error("--hosts 2 wrote ws3")
	}
	if !strings.Contains(out.String(), "florama: ") || !strings.Contains(out.String(), "pcaps/dmz.pcap") {
		t.Errorf("summary:\n%s", out)
	}
	// A second run into the same directory needs --force.
	if err := run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second run into %s: %v", dir, err)
	}
	o.Force, o.Hosts = true, 1
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs/ws2.ndjson")); err == nil {
		t.Error("--force left the earlier run's ws2 log")
	}
	ios, _, out, _ = iostreams.Test()
	if err := run(context.Background(), &Options{IO: ios, List: true}); err != nil || !strings.HasPrefix(out.String(), "florama\t") {
		t.Errorf("--list: %v %q", err, out)
	}
	ios, _, _, _ = iostreams.Test()
	err := run(context.Background(), &Options{IO: ios, Scenario: "nope", Duration: time.Hour, Hosts: 1, Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("unknown scenario: %v", err)
	}
}
