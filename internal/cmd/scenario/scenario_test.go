package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return testutil.RunCommand(t, NewCmd, args...)
}

func TestImportFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "x.json"}, "--from is required"},
		{[]string{"import", "--from", "splunk", "x.json"}, `--from "splunk"`},
		{[]string{"import", "--from", "atomic", "--report", "r.json", "x.csv"}, "--report is for --from caldera"},
		{[]string{"import", "--from", "caldera", "--atomics", "d", "x.json"}, "--atomics is for --from atomic"},
		{[]string{"import", "--from", "caldera"}, "at least one input file"},
		{[]string{"lint"}, "at least one scenario file"},
	} {
		_, _, err := run(t, tt.args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v, want usage error %q", tt.args, err, tt.want)
		}
	}
}

func TestImportThenLint(t *testing.T) {
	td := "../../scenario/importer/testdata/"
	out := filepath.Join(t.TempDir(), "s.yaml")
	_, stderr, err := run(t, "import", "--from", "caldera", "--report", td+"caldera-report.json", "-o", out, td+"caldera-event-logs.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "4 procedures on 2 hosts, 1 warnings, 1 skipped") {
		t.Errorf("stderr: %s", stderr)
	}
	s, ds := scenario.Load(out)
	if ds.Err() != nil || len(s.Procedures) != 4 {
		t.Fatalf("written scenario: %v", ds)
	}
	stdout, stderr, err := run(t, "lint", out)
	if err != nil || stdout != "" || !strings.Contains(stderr, "1 files, 0 errors, 0 warnings") {
		t.Errorf("lint of import: %v %q %q", err, stdout, stderr)
	}
}

func TestLintErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "name: x\nhosts: []\nprocedures:\n  - id: p\n    name: p\n    tactics: [TA0007]\n    techniques: [T46]\n    setup: false\n    host: web\n    start: 2024-01-01T00:00:00Z\n    end: 2024-01-01T00:00:01Z\n    commands: [{payload: id}]\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, "lint", p)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{p + ":1:1: warning: time_zone:", p + `:7:18: procedures[0].techniques[0]: bad technique id "T46"`, p + `:9:11: procedures[0].host: unknown host "web"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "2 errors, 1 warnings") {
		t.Errorf("stderr %q", stderr)
	}
	stdout, _, _ = run(t, "lint", "--json", p)
	if !strings.Contains(stdout, `"line":7`) {
		t.Errorf("json: %s", stdout)
	}
}
