package match

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

// TestSigmaHQLinuxSynthesized compiles the 248 SigmaHQ Linux rules with
// ecs_linux and checks, for each, that the events synthesized from its own
// values match it (alone and inside the whole rule set) and that the near
// misses do not.
func TestSigmaHQLinuxSynthesized(t *testing.T) {
	orig, rules := sigmahq.LinuxRules(t)
	if len(rules) != 248 {
		t.Errorf("found %d SigmaHQ Linux rules, want 248", len(rules))
	}
	set, errs := Compile(rules)
	for _, err := range errs {
		t.Errorf("compile: %v", err)
	}
	if set == nil {
		t.Fatal("no set")
	}
	byRule := map[*sigma.Rule]int{}
	for _, r := range set.Rules {
		byRule[r.Rule] = r.Index
	}
	m := set.NewMatcher()
	modsTested := map[string]int{}
	modsUsed := map[string]int{}
	ok := 0
	for i, r := range rules {
		for _, s := range orig[i].Detection.Searches {
			for _, g := range s.Groups {
				for _, it := range g.Items {
					for _, mod := range it.Modifiers {
						modsUsed[mod]++
					}
				}
			}
		}
		idx, compiled := byRule[r]
		if !compiled {
			continue
		}
		pos, neg, err := SynthesizeEvents(r)
		if err != nil {
			t.Errorf("%s: synthesize: %v", r.Path, err)
			continue
		}
		good := true
		for _, ev := range pos {
			hits, err := m.Match(ev, nil)
			if err != nil {
				t.Fatalf("%s: extract %s: %v", r.Path, ev, err)
			}
			if !m.MatchRule(idx) {
				t.Errorf("%s: positive event does not match:\n%s", r.Path, ev)
				good = false
			}
			if !containsInt(hits, idx) {
				t.Errorf("%s: positive event not reported by the whole set", r.Path)
				good = false
			}
		}
		for _, ev := range neg {
			if _, err := m.Match(ev, nil); err != nil {
				t.Fatalf("%s: extract %s: %v", r.Path, ev, err)
			}
			if m.MatchRule(idx) {
				t.Errorf("%s: negative event matches:\n%s", r.Path, ev)
				good = false
			}
		}
		if good {
			ok++
			for _, s := range orig[i].Detection.Searches {
				for _, g := range s.Groups {
					for _, it := range g.Items {
						for _, mod := range it.Modifiers {
							modsTested[mod]++
						}
					}
				}
			}
		}
	}
	var mods []string
	for mod := range modsUsed {
		mods = append(mods, mod)
		if modsTested[mod] == 0 {
			t.Errorf("modifier %s is used by %d Linux rules but no rule using it passed", mod, modsUsed[mod])
		}
	}
	sort.Strings(mods)
	t.Logf("%d/%d rules: positives match, negatives do not; modifiers exercised: %v", ok, len(rules), mods)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestPrefilterAgrees compares, on variants of every synthesized event
// (upper-cased, with non-ASCII text before values), the whole
// set's prefiltered answer with each rule's plain evaluation.
func TestPrefilterAgrees(t *testing.T) {
	_, rules := sigmahq.LinuxRules(t)
	set, _ := Compile(rules)
	m := set.NewMatcher()
	checked := 0
	for _, r := range set.Rules {
		pos, neg, err := SynthesizeEvents(r.Rule)
		if err != nil {
			continue
		}
		for _, ev := range append(pos, neg...) {
			for _, v := range []string{
				string(ev),
				mapStrings(t, ev, strings.ToUpper),
				mapStrings(t, ev, func(s string) string { return "Ünïcödé \u212a " + s }),
			} {
				hits, err := m.Match([]byte(v), nil)
				if err != nil {
					t.Fatalf("%s: %v", v, err)
				}
				for i := range set.Rules {
					if m.MatchRule(i) != containsInt(hits, i) {
						t.Errorf("%s on %s: prefiltered %v, evaluated %v", set.Rules[i].Path, v, containsInt(hits, i), !containsInt(hits, i))
					}
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d events checked", checked)
	}
}

// mapStrings rewrites every string leaf of a JSON event.
func mapStrings(t *testing.T, ev []byte, f func(string) string) string {
	var v any
	if err := json.Unmarshal(ev, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case string:
			return f(x)
		case map[string]any:
			for k, c := range x {
				x[k] = walk(c)
			}
		case []any:
			for i, c := range x {
				x[i] = walk(c)
			}
		}
		return x
	}
	b, err := json.Marshal(walk(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompileAllSigmaHQ compiles every SigmaHQ rule (pipeline none): the
// only rules the evaluator may refuse are those still holding expand
// placeholders, which need values from a pipeline.
func TestCompileAllSigmaHQ(t *testing.T) {
	roots := sigmahq.Roots(t)
	var rules []*sigma.Rule
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			if f, errs := sigma.ParseFile(path); errs.Err() == nil {
				rules = append(rules, f.Rules...)
			}
			return nil
		})
	}
	set, errs := Compile(rules)
	placeholders := 0
	for _, err := range errs {
		if strings.Contains(err.Error(), "unresolved placeholder") {
			placeholders++
			continue
		}
		t.Errorf("%v", err)
	}
	if len(rules) < 3700 || set == nil || len(set.Rules)+len(errs) != len(rules) {
		t.Fatalf("%d rules parsed, %d compiled, %d errors", len(rules), len(set.Rules), len(errs))
	}
	t.Logf("%d SigmaHQ rules: %d compiled, %d need placeholder values", len(rules), len(set.Rules), placeholders)
	// One event through all of them.
	m := set.NewMatcher()
	if _, err := m.Match([]byte(`{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","EventID":4688}`), nil); err != nil {
		t.Fatal(err)
	}
}
