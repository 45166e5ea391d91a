package sigma

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestNewCmdConvert(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*ConvertOptions) bool
		wantErr string
	}{
		{"defaults", []string{"r.yml"}, func(o *ConvertOptions) bool {
			return o.Pipeline == "none" && o.Format == "lucene" && !o.JSON && len(o.Paths) == 1
		}, ""},
		{"all flags", []string{"--pipeline", "ecs_linux,ecs_event_kind", "--format", "dsl", "--json", "--since", "2026-01-01", "--until", "now",
			"--placeholder", "Admins=root,admin", "--pysigma-compat", "--keyword-fields", "message,process.command_line", "a", "b"},
			func(o *ConvertOptions) bool {
				return o.Pipeline == "ecs_linux,ecs_event_kind" && o.Format == "dsl" && o.JSON && o.Since == "2026-01-01" &&
					o.Until == "now" && len(o.Placeholders) == 1 && o.PySigmaCompat && len(o.KeywordFields) == 2 && len(o.Paths) == 2
			}, ""},
		{"no path", []string{}, nil, "at least one file or folder is required"},
		{"bad format", []string{"--format", "kql", "r.yml"}, nil, `--format "kql"`},
		{"bad time", []string{"--format", "dsl", "--since", "yesterday", "r.yml"}, nil, `time "yesterday"`},
		{"since without dsl", []string{"--since", "now-1d", "r.yml"}, nil, "use them with --format dsl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ConvertOptions
			cmd := NewCmdConvert(&cmdutil.Factory{IOStreams: ios}, func(o *ConvertOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("options = %+v", got)
			}
		})
	}
}

// TestConvertGolden runs "sigma convert" over testdata/convert with
// several flag sets and compares standard output and error with the
// golden files (rerun with -update to rewrite them).
func TestConvertGolden(t *testing.T) {
	dir := filepath.Join("testdata", "convert")
	tests := []struct {
		name    string
		opts    ConvertOptions
		wantErr bool
	}{
		{"lucene", ConvertOptions{Pipeline: "none", Format: "lucene"}, true},
		{"compat", ConvertOptions{Pipeline: "none", Format: "lucene", PySigmaCompat: true}, true},
		{"ecs_linux_json", ConvertOptions{Pipeline: "ecs_linux,ecs_event_kind", Format: "lucene", JSON: true, Placeholders: []string{"Admins=root,admin"}}, true},
		{"ecs_windows_dsl", ConvertOptions{Pipeline: "ecs_windows", Format: "dsl", JSON: true, Since: "2026-01-01T00:00:00Z", Until: "now"}, true},
		{"keyword_fields", ConvertOptions{Pipeline: "none", Format: "lucene", KeywordFields: []string{"message", "process.command_line"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			opts := tt.opts
			opts.IO = ios
			opts.Paths = []string{dir}
			err := convertRun(t.Context(), &opts)
			if tt.wantErr != errors.Is(err, cmdutil.ErrSilent) {
				t.Fatalf("err = %v, want ErrSilent: %v", err, tt.wantErr)
			}
			got := out.String() + "--- stderr\n" + errOut.String()
			golden := filepath.Join("testdata", "convert-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (rerun with -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
