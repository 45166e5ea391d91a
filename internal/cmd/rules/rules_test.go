package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return testutil.RunCommand(t, NewCmd, args...)
}

func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "--out", "x"}, "--scenario and --out are required"},
		{[]string{"check", "--scenario", "s", "--rules", "r"}, "--scenario, --rules and --logs are required"},
		{[]string{"check", "--scenario", "s", "--rules", "r", "--logs", "l", "--slack", "-1s"}, "--slack must not be negative"},
	} {
		_, _, err := run(t, tt.args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v, want usage error %q", tt.args, err, tt.want)
		}
	}
}

func TestGenerateThenCheck(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := run(t, "generate", "--scenario", "../../../examples/scenario.yaml", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "46_port_scan/46_port_scan_1.yml        high    chmod +x /tmp/nmap") ||
		!strings.Contains(stderr, "7 rules written") || !strings.Contains(stderr, "skipped: 01_start_ldap: setup procedure") {
		t.Errorf("generate output:\n%s\n%s", stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.yml"))
	if len(files) != 7 {
		t.Errorf("%d files", len(files))
	}
	stdout, stderr, err = run(t, "check", "--scenario", "../../../examples/scenario.yaml", "--rules", dir,
		"--logs", "../../rulegen/testdata/check/events.ndjson", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(stdout, `"verdict": "ok"`) != 6 || !strings.Contains(stderr, "7 rules (6 ok, 1 too broad)") {
		t.Errorf("check:\n%s\n%s", stdout, stderr)
	}
	// Several values after --rules and --logs, as a shell glob gives
	// them: the same folder twice runs each rule twice.
	_, stderr, err = run(t, "check", "--scenario", "../../../examples/scenario.yaml", "--rules", dir, dir,
		"--logs", "../../rulegen/testdata/check/events.ndjson", "--json")
	if err != nil || !strings.Contains(stderr, "14 rules (12 ok, 2 too broad)") {
		t.Errorf("check with two --rules values: %v\n%s", err, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("name: x\nprocedures: [{id: 'a b'}]\n"), 0o644)
	_, stderr, err = run(t, "generate", "--scenario", bad, "--out", dir)
	if !errors.Is(err, cmdutil.ErrSilent) || !strings.Contains(stderr, `bad.yaml:2:19: procedures[0].id: bad procedure id "a b"`) {
		t.Errorf("bad scenario: %v\n%s", err, stderr)
	}
}
