package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

func newTestFactory() (*cmdutil.Factory, *strings.Builder, *strings.Builder) {
	ios, _, _, _ := iostreams.Test()
	o, e := &strings.Builder{}, &strings.Builder{}
	ios.Out, ios.ErrOut = o, e
	return &cmdutil.Factory{IOStreams: ios}, o, e
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		want    ExitCode
		wantErr string
	}{
		{[]string{"--help"}, ExitOK, ""},
		{[]string{"no-such-command"}, ExitUsage, "unknown command"},
		{[]string{"--no-such-flag"}, ExitUsage, "unknown flag"},
		{[]string{"sigma"}, ExitOK, ""},
		{[]string{"sigma", "no-such-verb"}, ExitUsage, `unknown command "no-such-verb" for "rangehunt sigma"`},
	}
	for _, tt := range tests {
		f, _, errOut := newTestFactory()
		if got := run(f, tt.args); got != tt.want {
			t.Errorf("rangehunt %v: exit %d, want %d (stderr %q)", tt.args, got, tt.want, errOut.String())
		}
		if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
			t.Errorf("rangehunt %v: stderr %q does not mention %q", tt.args, errOut.String(), tt.wantErr)
		}
	}
}

// TestEveryCommandHasHelp walks the whole command tree: every command has a
// short description (a verb an example too) and answers --help with exit 0
// and its usage.
func TestEveryCommandHasHelp(t *testing.T) {
	f, _, _ := newTestFactory()
	root := NewRootCmd(f)
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			paths = append(paths, p)
			if sub.Short == "" {
				t.Errorf("rangehunt %s has no short description", strings.Join(p, " "))
			}
			if !sub.HasSubCommands() && sub.Example == "" {
				t.Errorf("rangehunt %s has no example", strings.Join(p, " "))
			}
			walk(sub, p)
		}
	}
	walk(root, nil)
	if len(paths) < 5 {
		t.Fatalf("only %d commands registered: %v", len(paths), paths)
	}
	for _, p := range paths {
		f, out, errOut := newTestFactory()
		if code := run(f, append(p, "--help")); code != ExitOK {
			t.Errorf("rangehunt %s --help: exit %d, stderr %q", strings.Join(p, " "), code, errOut.String())
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("rangehunt %s --help printed no usage: %q", strings.Join(p, " "), out.String())
		}
	}
}
