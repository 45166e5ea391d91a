package rulegen

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rangehunt/rangehunt/internal/lucene"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/scenario/importer"
	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// render gives a result as one text: every rule's YAML, its Lucene form,
// then the skips and warnings.
func render(t *testing.T, res *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range res.Rules {
		fmt.Fprintf(&b, "# %s\n", r.Path)
		b.Write(r.YAML)
		qs, err := lucene.Convert(r.Sigma, lucene.Options{})
		if err != nil {
			t.Errorf("%s: does not convert to Lucene: %v", r.Path, err)
		}
		for _, q := range qs {
			fmt.Fprintf(&b, "# lucene: %s\n", q)
		}
		b.WriteString("---\n")
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(&b, "# skipped: %s\n", s)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "# warning: %s\n", w)
	}
	return b.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if intended); got:\n%s", path, got)
	}
}

// lintClean writes the rules and runs the Sigma linter over them: no
// error, no warning.
func lintClean(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Rules) == 0 {
		return // nothing to lint (every command was skipped, with a reason)
	}
	dir := t.TempDir()
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	rep, err := sigma.Lint(context.Background(), []string{dir}, sigma.LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rules != len(res.Rules) {
		t.Errorf("lint saw %d rules, generated %d", rep.Rules, len(res.Rules))
	}
	for _, r := range rep.Results {
		for _, e := range append(r.Errors, r.Warnings...) {
			t.Errorf("lint: %v", e)
		}
	}
}

// assertSpecific fails for a rule that could match everything: every rule
// needs a selection item with a non-empty value that is not only wildcards.
func assertSpecific(t *testing.T, r *Rule) {
	t.Helper()
	n := 0
	for _, s := range r.Sigma.Detection.Searches {
		for _, g := range s.Groups {
			for _, it := range g.Items {
				if it.Field == "" {
					t.Errorf("%s: keyword search", r.Path)
				}
				for _, v := range it.Values {
					str, ok := v.(sigma.String)
					if !ok {
						t.Errorf("%s: non-string value %v", r.Path, v)
						continue
					}
					// Exact values are specific when not empty; values
					// with wildcards (endswith, contains) need more than
					// path separators.
					lit, wild := 0, false
					for _, tok := range str.Tokens {
						if tok.Kind != sigma.Literal {
							wild = true
						}
					}
					for _, tok := range str.Tokens {
						if tok.Kind == sigma.Literal {
							if wild {
								lit += len(strings.Trim(tok.Text, "/\\"))
							} else {
								lit += len(tok.Text)
							}
						}
					}
					if lit > 0 {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no specific value: the rule would match everything", r.Path)
	}
	if c := r.Sigma.Detection.Conditions; len(c) != 1 || c[0].Source != "all of selection_*" {
		t.Errorf("%s: condition %v", r.Path, c)
	}
}

func generate(t *testing.T, s *scenario.Scenario, opts Options) *Result {
	t.Helper()
	res, err := Generate(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Rules {
		assertSpecific(t, &res.Rules[i])
	}
	return res
}

func TestGenerateExample(t *testing.T) {
	s, ds := scenario.Load("../../examples/scenario.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	res := generate(t, s, Options{})
	lintClean(t, res)
	checkGolden(t, "example.yml", render(t, res))

	// The seed's example: the chmod rule is on chmod AND +x AND /tmp/nmap.
	var chmod *Rule
	for i := range res.Rules {
		if res.Rules[i].Exec.Name() == "chmod" {
			chmod = &res.Rules[i]
		}
	}
	if chmod == nil || chmod.Path != "46_port_scan/46_port_scan_1.yml" {
		t.Fatalf("no chmod rule: %+v", res.Rules)
	}
	qs, err := lucene.Convert(chmod.Sigma, lucene.Options{})
	if err != nil || len(qs) != 1 || !strings.Contains(qs[0], `process.args:chmod AND process.args:\+x AND process.args:\/tmp\/nmap`) {
		t.Errorf("chmod lucene: %v %v", qs, err)
	}
	// Setup procedures are skipped unless asked for.
	if len(res.Skipped) == 0 || !strings.Contains(res.Skipped[0].String(), "01_start_ldap: setup procedure") {
		t.Errorf("setup not skipped: %v", res.Skipped)
	}
	with := generate(t, s, Options{IncludeSetup: true})
	if len(with.Rules) <= len(res.Rules) || with.Rules[0].Procedure != "01_start_ldap" {
		t.Errorf("--include-setup: %d rules vs %d", len(with.Rules), len(res.Rules))
	}
	// Deterministic: same bytes, same ids.
	again := generate(t, s, Options{})
	if !bytes.Equal(render(t, res), render(t, again)) {
		t.Error("generation is not deterministic")
	}
}

func TestWriteDirRemovesStale(t *testing.T) {
	s, _ := scenario.Load("../../examples/scenario.yaml")
	res := generate(t, s, Options{})
	dir := t.TempDir()
	stale := filepath.Join(dir, "46_port_scan", "46_port_scan_9.yml")
	other := filepath.Join(dir, "46_port_scan", "mine.yml")
	_ = os.MkdirAll(filepath.Dir(stale), 0o755)
	_ = os.WriteFile(stale, []byte("x"), 0o644)
	_ = os.WriteFile(other, []byte("x"), 0o644)
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale generated rule kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("a file not named like a generated rule was removed")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*_*.yml"))
	if len(files) != len(res.Rules) {
		t.Errorf("%d files for %d rules", len(files), len(res.Rules))
	}
}

func procedure(id string, cmds ...scenario.Command) scenario.Procedure {
	return scenario.Procedure{ID: id, Name: id, Tactics: []string{"TA0002"}, Techniques: []string{"T1059.004"},
		Host: "h", Commands: cmds}
}

func TestGenerateBadInput(t *testing.T) {
	s := &scenario.Scenario{Name: "bad", Hosts: []scenario.Host{{Name: "h"}}, Procedures: []scenario.Procedure{
		procedure("unparseable", scenario.Command{Payload: "echo 'a' | ("}),
		procedure("empty", scenario.Command{Payload: "   "}),
		procedure("nocommands"),
		procedure("builtins", scenario.Command{Payload: "cd /tmp; export A=1; echo x | bash"}),
		procedure("dynamic", scenario.Command{Payload: "$X; $(printf id)"}),
		procedure("good", scenario.Command{Payload: "id -u && true"}),
	}}
	res := generate(t, s, Options{})
	var skips []string
	for _, sk := range res.Skipped {
		skips = append(skips, sk.String())
	}
	want := []string{
		"unparseable: commands[0]: unparseable: 1:12: `(` must be followed by a statement list",
		"empty: commands[0]: empty command",
		"nocommands: no commands",
		"builtins: commands[0]: too broad: bash: bare shell reading its script from stdin",
		"dynamic: commands[0]: too broad: $X: program and arguments are only known at run time",
		"dynamic: commands[0]: too broad: $(printf id): program and arguments are only known at run time",
	}
	if len(skips) != len(want) {
		t.Fatalf("skips:\n%s", strings.Join(skips, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(skips[i], want[i]) {
			t.Errorf("skip %d:\n got %s\nwant %s", i, skips[i], want[i])
		}
	}
	var paths []string
	for _, r := range res.Rules {
		paths = append(paths, r.Path+"="+r.Exec.String())
	}
	if got := strings.Join(paths, " "); got != "builtins/builtins_1.yml=x good/good_1.yml=id -u" {
		t.Errorf("rules: %s", got)
	}
}

func TestGenerateWindows(t *testing.T) {
	s := &scenario.Scenario{Name: "win", Hosts: []scenario.Host{{Name: "h", Platform: "windows"}}, Procedures: []scenario.Procedure{
		procedure("psh", scenario.Command{Payload: `Get-ChildItem -Path c:\ -Recurse -Include *.key | Select-Object FullName; whoami /all`, Executor: "psh"}),
		procedure("cmd", scenario.Command{Payload: `net user /domain & dir c:\ /b`, Executor: "cmd"}),
	}}
	res := generate(t, s, Options{})
	lintClean(t, res)
	checkGolden(t, "windows.yml", render(t, res))
	for _, r := range res.Rules {
		if r.Sigma.Logsource.Product != "windows" {
			t.Errorf("%s: product %q", r.Path, r.Sigma.Logsource.Product)
		}
	}
	if len(res.Rules) != 3 {
		t.Errorf("want powershell host, whoami, net: %d rules", len(res.Rules))
	}
}

// TestRealDefinitions runs every Linux Atomic Red Team test and every
// Caldera ability (all platforms, fact placeholders filled with example
// values) through mining and generation: everything parses, every rule
// lints clean and converts to Lucene; the rules are kept as goldens.
func TestRealDefinitions(t *testing.T) {
	artDir := testutil.SharedDir(t, "formats/atomic-red-team")
	files, _ := filepath.Glob(filepath.Join(artDir, "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("only %d atomics", len(files))
	}
	tests := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		techs, err := importer.ParseAtomics([]importer.Input{{Name: f, Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		tech := techs[0]
		s := &scenario.Scenario{Name: "atomic-red-team", TimeZone: "UTC", Hosts: []scenario.Host{{Name: "target", Platform: "linux"}}}
		for _, at := range tech.Tests {
			if !containsStr(at.Platforms, "linux") || at.Executor.Name == "manual" {
				continue
			}
			cmd, missing := at.Command()
			if len(missing) > 0 {
				t.Errorf("%s #%d: no default for %v", tech.Technique, at.Number, missing)
			}
			exe := at.Executor.Name
			tactics := []string{}
			for _, tc := range importer.TacticsOfTechnique(tech.Technique) {
				tt, _ := scenario.TacticByName(tc)
				tactics = append(tactics, tt.ID)
			}
			p := scenario.Procedure{ID: fmt.Sprintf("%s_%d", tech.Technique, at.Number), Name: at.Name, Tactics: tactics,
				Techniques: []string{tech.Technique}, Host: "target",
				Commands: []scenario.Command{{Payload: cmd, Executor: exe}}}
			// Mining must parse every real command.
			if _, err := mineCheck(cmd, exe); err != nil {
				t.Errorf("%s #%d (%s): %v", tech.Technique, at.Number, at.Name, err)
			}
			s.Procedures = append(s.Procedures, p)
			tests++
		}
		res := generate(t, s, Options{})
		lintClean(t, res)
		checkGolden(t, filepath.Join("atomic", tech.Technique+".yml"), render(t, res))
	}
	if tests < 60 {
		t.Errorf("only %d Linux atomic tests", tests)
	}

	calDir := testutil.SharedDir(t, "formats/caldera-abilities")
	abs, _ := filepath.Glob(filepath.Join(calDir, "*.yml"))
	facts := map[string]string{
		"remote.host.ip": "172.16.1.4", "remote.host.port": "22", "host.user.name": "alice",
		"server": "http://192.0.2.1:8888", "remote.ssh.cmd": "alice@172.16.1.4",
	}
	n := 0
	for _, f := range abs {
		data, _ := os.ReadFile(f)
		var list []struct {
			ID        string `yaml:"id"`
			Name      string `yaml:"name"`
			Tactic    string `yaml:"tactic"`
			Technique struct {
				AttackID string `yaml:"attack_id"`
			} `yaml:"technique"`
			Platforms map[string]map[string]struct {
				Command string `yaml:"command"`
			} `yaml:"platforms"`
		}
		if err := yaml.Unmarshal(data, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, ab := range list {
			tc, ok := scenario.TacticByName(ab.Tactic)
			if !ok {
				t.Errorf("%s: tactic %q", f, ab.Tactic)
			}
			s := &scenario.Scenario{Name: "caldera", TimeZone: "UTC"}
			var plats []string
			for p := range ab.Platforms {
				plats = append(plats, p)
			}
			sort.Strings(plats)
			for _, plat := range plats {
				platform := map[string]string{"darwin": "macos", "linux": "linux", "windows": "windows"}[plat]
				s.Hosts = append(s.Hosts, scenario.Host{Name: plat, Platform: platform})
				var exes []string
				for e := range ab.Platforms[plat] {
					exes = append(exes, e)
				}
				sort.Strings(exes)
				for _, exe := range exes {
					cmd := ab.Platforms[plat][exe].Command
					for k, v := range facts {
						cmd = strings.ReplaceAll(cmd, "#{"+k+"}", v)
					}
					if strings.Contains(cmd, "#{") {
						t.Errorf("%s: fact left in %q", f, cmd)
					}
					if _, err := mineCheck(cmd, exe); err != nil {
						t.Errorf("%s %s/%s: %v", ab.Name, plat, exe, err)
					}
					s.Procedures = append(s.Procedures, scenario.Procedure{
						ID: plat + "_" + exe, Name: ab.Name, Tactics: []string{tc.ID}, Techniques: []string{ab.Technique.AttackID},
						Host: plat, Commands: []scenario.Command{{Payload: cmd, Executor: exe}}})
					n++
				}
			}
			res := generate(t, s, Options{})
			lintClean(t, res)
			checkGolden(t, filepath.Join("caldera", ab.Tactic+"__"+ab.ID+".yml"), render(t, res))
		}
	}
	if n < 15 {
		t.Errorf("only %d ability commands", n)
	}
}

func containsStr(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// TestDocsExample keeps docs/rulegen.md in step with the generator: it
// must show every rule of the port-scan procedure and its Lucene query.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rulegen.md")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := scenario.Load("../../examples/scenario.yaml")
	res := generate(t, s, Options{})
	n := 0
	for _, r := range res.Rules {
		if r.Procedure != "46_port_scan" {
			continue
		}
		n++
		if !bytes.Contains(doc, bytes.TrimSpace(r.YAML)) {
			t.Errorf("docs/rulegen.md lacks the current %s (copy it from testdata/golden/example.yml)", r.Path)
		}
		qs, _ := lucene.Convert(r.Sigma, lucene.Options{})
		if len(qs) != 1 || !bytes.Contains(doc, []byte(qs[0])) {
			t.Errorf("docs/rulegen.md lacks the Lucene query of %s", r.Path)
		}
	}
	if n != 5 {
		t.Errorf("%d port-scan rules, want 5", n)
	}
}
