package sigma

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

func TestNewCmdLint(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    LintOptions
		wantErr string
	}{
		{"paths", []string{"a.yml", "dir"}, LintOptions{Paths: []string{"a.yml", "dir"}}, ""},
		{"json", []string{"--json", "a.yml"}, LintOptions{Paths: []string{"a.yml"}, JSON: true}, ""},
		{"no warnings", []string{"--no-warnings", "a.yml"}, LintOptions{Paths: []string{"a.yml"}, NoWarnings: true}, ""},
		{"no path", []string{}, LintOptions{}, "at least one file or folder is required"},
		{"unknown flag", []string{"--jsn", "a.yml"}, LintOptions{}, "unknown flag: --jsn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *LintOptions
			cmd := NewCmdLint(&cmdutil.Factory{IOStreams: ios}, func(o *LintOptions) error { got = o; return nil })
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
			if strings.Join(got.Paths, ",") != strings.Join(tt.want.Paths, ",") || got.JSON != tt.want.JSON || got.NoWarnings != tt.want.NoWarnings {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func runLint(t *testing.T, opts LintOptions) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	err := lintRun(t.Context(), &opts)
	return out.String(), errOut.String(), err
}

func TestLintRunText(t *testing.T) {
	out, errOut, err := runLint(t, LintOptions{Paths: []string{"testdata/lint"}})
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v, want ErrSilent (errors found → exit 1)", err)
	}
	want := `testdata/lint/good.yml:10:25: warning: regular expression uses \s, outside the spec's PCRE subset (. ^ $ * + ? {n,m} [..] | ())
testdata/lint/sub/bad.yml:9:15: error: unknown modifier 'endwith' (did you mean 'endswith'?)
testdata/lint/sub/bad.yml:10:34: error: condition references undefined search "filter"
testdata/lint/sub/bad.yml:21:25: error: v1 aggregation '| count()' is unsupported since Sigma 2 (use a correlation rule)
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "2 files, 3 rules, 3 errors, 1 warnings\n" {
		t.Errorf("summary = %q", errOut)
	}
}

func TestLintRunJSON(t *testing.T) {
	out, _, err := runLint(t, LintOptions{Paths: []string{"testdata/lint/sub/bad.yml", "testdata/lint/good.yml"}, JSON: true})
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v, want ErrSilent", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d JSON lines, want one per document (3):\n%s", len(lines), out)
	}
	type problem struct {
		Line, Col int
		Message   string
	}
	var objs []struct {
		Path, ID, Title, Kind string
		Doc                   int
		Errors, Warnings      []problem
	}
	for _, l := range lines {
		var o struct {
			Path, ID, Title, Kind string
			Doc                   int
			Errors, Warnings      []problem
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		objs = append(objs, o)
	}
	if o := objs[0]; o.Path != "testdata/lint/sub/bad.yml" || o.Title != "Broken rule" || o.ID != "9b2a2e8e-8f4c-4a53-9b1f-5b3c1e2d4a02" ||
		len(o.Errors) != 2 || o.Errors[0] != (problem{9, 15, "unknown modifier 'endwith' (did you mean 'endswith'?)"}) ||
		o.Errors[1] != (problem{10, 34, `condition references undefined search "filter"`}) {
		t.Errorf("first object = %+v", o)
	}
	if o := objs[1]; o.Doc != 1 || o.Title != "Second document" || len(o.Errors) != 1 || o.Errors[0].Line != 21 {
		t.Errorf("second object = %+v", o)
	}
	if o := objs[2]; o.Path != "testdata/lint/good.yml" || len(o.Errors) != 0 || len(o.Warnings) != 1 || o.Errors == nil {
		t.Errorf("third object = %+v (errors must be [] not null)", o)
	}
}

func TestLintRunClean(t *testing.T) {
	out, errOut, err := runLint(t, LintOptions{Paths: []string{"testdata/lint/good.yml"}, NoWarnings: true})
	if err != nil {
		t.Fatalf("err = %v, want nil (warnings only)", err)
	}
	if out != "" || errOut != "1 files, 1 rules, 0 errors, 1 warnings\n" {
		t.Errorf("out %q, summary %q", out, errOut)
	}
}

// TestLintSigmaHQ is the acceptance check: the SigmaHQ rules
// folder lints with zero errors.
func TestLintSigmaHQ(t *testing.T) {
	dir := testutil.SharedDir(t, "sigma")
	out, errOut, err := runLint(t, LintOptions{Paths: []string{dir + "/rules"}, NoWarnings: true})
	if err != nil || out != "" {
		t.Fatalf("lint %s/rules: err %v, output:\n%s", dir, err, out)
	}
	if !strings.HasPrefix(errOut, "3141 files, 3141 rules, 0 errors, ") {
		t.Errorf("summary = %q", errOut)
	}
}
