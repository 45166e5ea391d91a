package sigma

import (
	"bytes"
	"strings"
	"testing"
)

func TestLintGroupsByDocument(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yml", baseRule)
	b := writeFile(t, dir, "b.yml", strings.Replace(baseRule, "name: base", "name: other", 1)+"---\n"+
		"title: Count\nid: 44444444-4444-4444-8444-444444444444\ncorrelation:\n    type: event_count\n    rules: [base, missing]\n    group-by: [F]\n    timespan: 5m\n    condition: {gte: 3}\n"+
		"---\n: [\n")
	rep, err := Lint(t.Context(), []string{dir}, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 2 || rep.Rules != 3 || rep.Errors != 3 {
		t.Errorf("report: %d files, %d rules, %d errors; want 2, 3, 3", rep.Files, rep.Rules, rep.Errors)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text, true); err != nil {
		t.Fatal(err)
	}
	want := b + ":1:1: error: duplicate id 11111111-1111-4111-8111-111111111111 (also the rule at " + a + ":1)\n" +
		b + ":11:1: error: correlation \"Count\" references unknown rule \"missing\"\n" +
		b + ":20: error: malformed YAML: did not find expected key\n"
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	// The duplicate id belongs to b.yml's first document.
	for _, r := range rep.Results {
		if r.Path == b && r.Doc == 0 && (len(r.Errors) != 1 || r.Title != "Base") {
			t.Errorf("b.yml doc 0: %+v", r)
		}
	}
}
