package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadCorrelationChain(t *testing.T) {
	c, errs := Load("testdata/correlation_chain.yml")
	if errs.Err() != nil {
		t.Fatalf("Load: %v", errs)
	}
	if len(c.Rules) != 2 || len(c.Correlations) != 2 {
		t.Fatalf("got %d rules, %d correlations; want 2, 2", len(c.Rules), len(c.Correlations))
	}
	top := c.Correlations[0]
	if top.Type != TemporalOrdered || top.Timespan != 10*time.Minute ||
		!reflect.DeepEqual(top.Rules, []string{"multiple_failed_login", "successful_login"}) ||
		!reflect.DeepEqual(top.GroupBy, []string{"User"}) || top.Level != "high" || top.Doc != 0 {
		t.Errorf("top correlation = %+v", top)
	}
	inner := c.Correlations[1]
	if inner.Type != EventCount || inner.Name != "multiple_failed_login" || inner.Doc != 1 || inner.Pos.Line != 21 ||
		!reflect.DeepEqual(inner.Condition.Ops, []CorrelationOp{{Op: "gte", Value: 10}}) {
		t.Errorf("inner correlation = %+v", inner)
	}
	if r := c.Rule("failed_login"); r == nil || r.Doc != 2 || r.Pos.Line != 35 {
		t.Errorf("rule failed_login = %+v", r)
	}
}

func TestLoadCorrelationTypes(t *testing.T) {
	c, errs := Load("testdata/correlation_types.yml")
	if errs.Err() != nil {
		t.Fatalf("Load: %v", errs)
	}
	got := map[CorrelationType]*Correlation{}
	for _, co := range c.Correlations {
		got[co.Type] = co
	}
	for typ := range correlationTypes {
		if got[typ] == nil {
			t.Errorf("no %s correlation parsed", typ)
		}
	}
	if ec := got[EventCount]; !reflect.DeepEqual(ec.Condition.Ops, []CorrelationOp{{"gt", 100}, {"lte", 200}}) || !reflect.DeepEqual(ec.Rules, []string{"website_access"}) {
		t.Errorf("event_count range = %+v", ec)
	}
	if vc := got[ValueCount]; vc.Condition.Field != "cs-username" || vc.Timespan != 24*time.Hour {
		t.Errorf("value_count = %+v", vc)
	}
	tmp := got[Temporal]
	wantAliases := []Alias{
		{Name: "internal_ip", Fields: map[string]string{"internal_error": "destination.ip", "new_network_connection": "source.ip"}},
		{Name: "remote_ip", Fields: map[string]string{"internal_error": "source.ip", "new_network_connection": "destination.ip"}},
	}
	if !reflect.DeepEqual(tmp.Aliases, wantAliases) || tmp.Timespan != 10*time.Second || len(tmp.Condition.Ops) != 0 {
		t.Errorf("temporal = %+v", tmp)
	}
	if to := got[TemporalOrdered]; !to.Generate || to.Rules[1] != "many_requests" {
		t.Errorf("temporal_ordered (chained onto a correlation, generate) = %+v", to)
	}
	if va := got[ValueAvg]; va.Condition.Ops[0].Value != 500.5 || va.Condition.Field != "bytes_out" {
		t.Errorf("value_avg = %+v", va)
	}
	// Clone is deep.
	cl := tmp.Clone()
	cl.Aliases[0].Fields["internal_error"] = "x"
	cl.Rules[0] = "y"
	if tmp.Aliases[0].Fields["internal_error"] != "destination.ip" || tmp.Rules[0] != "internal_error" {
		t.Errorf("Correlation.Clone shares memory")
	}
}

func TestParseTimespan(t *testing.T) {
	good := map[string]time.Duration{"1s": time.Second, "90m": 90 * time.Minute, "2h": 2 * time.Hour, "7d": 7 * 24 * time.Hour}
	for in, want := range good {
		if d, ok := ParseTimespan(in); !ok || d != want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", in, d, ok, want)
		}
	}
	for _, in := range []string{"", "m", "5", "5M", "1w", "-5m", "0s", "1.5h", "5 m", "+5m", "99999999999999999d"} {
		if d, ok := ParseTimespan(in); ok {
			t.Errorf("ParseTimespan(%q) = %v, want rejected", in, d)
		}
	}
}

// corrDoc builds a correlation document.
func corrDoc(id, name, body string) string {
	return "title: C " + name + "\nid: " + id + "\nname: " + name + "\ncorrelation:\n" + body
}

const baseRule = `title: Base
id: 11111111-1111-4111-8111-111111111111
name: base
logsource:
    product: linux
detection:
    sel:
        F: x
    condition: sel
`

func TestCorrelationErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
		cause           error
	}{
		{"unknown type", corrDoc("c1", "c1", "    type: event_counts\n    rules: [base]\n    group-by: [a]\n    timespan: 1h\n    condition: {gte: 1}\n"),
			`t.yml:5:11: unknown correlation type "event_counts"`, ErrParse},
		{"bad timespan", corrDoc("c1", "c1", "    type: event_count\n    rules: [base]\n    group-by: [a]\n    timespan: 1 hour\n    condition: {gte: 1}\n"),
			`t.yml:8:15: invalid timespan "1 hour"`, ErrParse},
		{"no condition", corrDoc("c1", "c1", "    type: value_sum\n    rules: [base]\n    group-by: [a]\n    timespan: 1h\n"),
			`t.yml:5:5: value_sum correlation has no condition`, ErrParse},
		{"value_count needs field", corrDoc("c1", "c1", "    type: value_count\n    rules: [base]\n    group-by: [a]\n    timespan: 1h\n    condition:\n        gte: 3\n"),
			`t.yml:10:9: value_count correlation condition needs a field`, ErrParse},
		{"bad op", corrDoc("c1", "c1", "    type: event_count\n    rules: [base]\n    group-by: [a]\n    timespan: 1h\n    condition:\n        ge: 3\n"),
			`t.yml:10:9: unknown correlation condition "ge"`, ErrParse},
		{"op not a number", corrDoc("c1", "c1", "    type: event_count\n    rules: [base]\n    group-by: [a]\n    timespan: 1h\n    condition:\n        gte: many\n"),
			`t.yml:10:14: correlation condition gte needs a number, not "many"`, ErrParse},
		{"no rules", corrDoc("c1", "c1", "    type: event_count\n    group-by: [a]\n    timespan: 1h\n    condition: {gte: 1}\n"),
			`t.yml:5:5: correlation has no rules`, ErrParse},
		{"v1 timeframe", corrDoc("c1", "c1", "    type: event_count\n    rules: [base]\n    timeframe: 1h\n    condition: {gte: 1}\n"),
			`t.yml:7:5: unknown correlation attribute 'timeframe' (did you mean 'timespan'?)`, ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("t.yml", []byte(tt.src))
			es := errs.Errors()
			if len(es) == 0 || !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Fatalf("errors %v, want %q", errs, tt.want)
			}
			if !errors.Is(es[0], tt.cause) {
				t.Errorf("cause %v, want %v", es[0].Err, tt.cause)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCrossChecks(t *testing.T) {
	ec := "    type: event_count\n    group-by: [a]\n    timespan: 1h\n    condition: {gte: 1}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown reference", map[string]string{"a.yml": baseRule + "---\n" + corrDoc("22222222-2222-4222-8222-222222222222", "c", ec+"    rules: [base, nosuch]\n")},
			[]string{`a.yml:11:1: correlation "C c" references unknown rule "nosuch"`}},
		{"cycle", map[string]string{"a.yml": baseRule + "---\n" +
			corrDoc("c-1", "one", ec+"    rules: [base, two]\n") + "---\n" +
			corrDoc("c-2", "two", ec+"    rules: [three]\n") + "---\n" +
			corrDoc("c-3", "three", ec+"    rules: [one]\n")},
			[]string{`a.yml:11:1: correlation reference cycle: one -> two -> three -> one`}},
		{"self cycle", map[string]string{"a.yml": corrDoc("c-1", "one", ec+"    rules: [one]\n")},
			[]string{`a.yml:1:1: correlation reference cycle: one -> one`}},
		{"duplicate id across files", map[string]string{"a.yml": baseRule, "sub/b.yml": strings.Replace(baseRule, "name: base", "name: base2", 1)},
			[]string{`sub/b.yml:1:1: duplicate id 11111111-1111-4111-8111-111111111111 (also the rule at a.yml:1)`}},
		{"duplicate name", map[string]string{"a.yml": baseRule + "---\n" + strings.Replace(baseRule, "11111111-1111-4111-8111-111111111111", "33333333-3333-4333-8333-333333333333", 1)},
			[]string{`a.yml:11:1: duplicate name "base" (also the rule at a.yml:1)`}},
		{"alias for unknown rule", map[string]string{"a.yml": baseRule + "---\n" + strings.Replace(strings.Replace(baseRule, "name: base", "name: other", 1), "11111111-1111-4111-8111-111111111111", "55555555-5555-4555-8555-555555555555", 1) + "---\n" +
			corrDoc("c-1", "c", "    type: temporal\n    rules: [base, other]\n    group-by: [ip]\n    timespan: 1h\n    aliases:\n        ip:\n            base: a\n            third: b\n            other: c\n")},
			[]string{`a.yml:21:1: alias "ip" maps unknown rule "third"`}},
		{"alias for unreferenced rule", map[string]string{"a.yml": baseRule + "---\n" + strings.Replace(strings.Replace(baseRule, "name: base", "name: other", 1), "11111111-1111-4111-8111-111111111111", "55555555-5555-4555-8555-555555555555", 1) + "---\n" +
			corrDoc("c-1", "c", "    type: temporal\n    rules: [base]\n    group-by: [ip]\n    timespan: 1h\n    aliases:\n        ip:\n            base: a\n            other: c\n")},
			[]string{`a.yml:21:1: alias "ip" maps rule "other", which the correlation does not reference`}},
		{"alias by name for rules referenced by id", map[string]string{"a.yml": baseRule + "---\n" + strings.Replace(strings.Replace(baseRule, "name: base", "name: other", 1), "11111111-1111-4111-8111-111111111111", "55555555-5555-4555-8555-555555555555", 1) + "---\n" +
			corrDoc("c-1", "c", "    type: temporal\n    rules: [11111111-1111-4111-8111-111111111111, 55555555-5555-4555-8555-555555555555]\n    group-by: [ip]\n    timespan: 1h\n    aliases:\n        ip:\n            base: a\n            other: c\n")},
			nil},
		{"reference to a filter", map[string]string{"a.yml": baseRule + "---\ntitle: F\nid: f-1\nname: filt\nlogsource:\n    product: linux\nfilter:\n    rules: [base]\n    sel:\n        U: x\n    condition: not sel\n---\n" +
			corrDoc("c-1", "c", ec+"    rules: [filt]\n")},
			[]string{`a.yml:22:1: correlation "C c" references "filt", which is a filter`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			wd, _ := os.Getwd()
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			defer os.Chdir(wd)
			_, errs := Load(".")
			var got []string
			for _, e := range errs.Errors() {
				got = append(got, e.Error())
				if !errors.Is(e, ErrReference) {
					t.Errorf("%v: cause %v, want ErrReference", e, e.Err)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoadMissingPath(t *testing.T) {
	_, errs := Load("testdata/does-not-exist")
	if errs.Err() == nil || !strings.Contains(errs.Error(), "testdata/does-not-exist: stat: no such file or directory") {
		t.Errorf("errs = %v", errs)
	}
}

func TestLoadEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a rule"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs := Load(dir)
	if len(errs) != 1 || !errors.Is(errs[0], ErrNoRules) || errs[0].File != dir {
		t.Fatalf("Load(empty folder) = %v, want one ErrNoRules error naming %s", errs, dir)
	}
}

func TestApplyFilters(t *testing.T) {
	c, errs := Load("testdata/filter.yml")
	if errs.Err() != nil {
		t.Fatalf("Load: %v", errs)
	}
	if len(c.Filters) != 2 || len(c.Rules) != 2 {
		t.Fatalf("got %d filters and %d rules", len(c.Filters), len(c.Rules))
	}
	orig := c.Rules[0]
	origCond := orig.Detection.Conditions[0].Source
	if n := c.ApplyFilters(); n != 2 {
		t.Errorf("ApplyFilters applied %d (filter, rule) pairs, want 2 (the windows filter does not match linux rules)", n)
	}
	curl, wget := c.Rules[0], c.Rules[1]
	if got, want := curl.Detection.Conditions[0].Source, "selection and not 1 of filter_* and not (_filter0_sel_adm or _filter0_sel_svc)"; got != want {
		t.Errorf("curl condition = %q, want %q", got, want)
	}
	if got, want := wget.Detection.Conditions[0].Source, "selection and not (_filter0_sel_adm or _filter0_sel_svc)"; got != want {
		t.Errorf("wget condition = %q, want %q", got, want)
	}
	if curl.Detection.Search("_filter0_sel_adm") == nil {
		t.Errorf("filter search not copied into the rule")
	}
	// The source re-parses and resolves against the filtered rule.
	e, err := ParseCondition(curl.Detection.Conditions[0].Source)
	if err != nil || !EqualExpr(e, curl.Detection.Conditions[0].Expr) {
		t.Errorf("filtered condition does not re-parse to its tree: %v", err)
	}
	if orig.Detection.Conditions[0].Source != origCond || orig.Detection.Search("_filter0_sel_adm") != nil {
		t.Errorf("ApplyFilters changed the parsed rule")
	}
}

func TestRuleClone(t *testing.T) {
	c, errs := Load("testdata/filter.yml")
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	r := c.Rules[0]
	cl := r.Clone()
	if !reflect.DeepEqual(r, cl) {
		t.Fatalf("clone differs from the rule")
	}
	cl.Detection.Searches[0].Groups[0].Items[0].Values[0].(String).Tokens[1] = Token{Kind: Literal, Text: "changed"}
	cl.Detection.Searches[0].Groups[0].Items[0].Field = "X"
	cl.Detection.Conditions[0].Expr.(*AndExpr).L.(*IdentExpr).Name = "zzz"
	cl.Detection.Searches[1].Name = "renamed"
	cl.Tags = append(cl.Tags, "x")
	cl.Detection.Conditions[0].Expr.(*AndExpr).R.(*NotExpr).X.(*OfExpr).Names[0] = "q"
	if r.Detection.Searches[0].Groups[0].Items[0].Values[0].String() != "*/curl" ||
		r.Detection.Searches[0].Groups[0].Items[0].Field != "Image" ||
		r.Detection.Conditions[0].Expr.String() != "selection and not 1 of filter_*" ||
		r.Detection.Searches[1].Name != "filter_main" || len(r.Tags) != 0 ||
		r.Detection.Conditions[0].Expr.(*AndExpr).R.(*NotExpr).X.(*OfExpr).Names[0] != "filter_main" {
		t.Errorf("changing the clone changed the rule")
	}
}

func TestApplyFiltersAny(t *testing.T) {
	for _, rules := range []string{"any", "ALL", "[]"} {
		src := baseRule + "---\ntitle: F\nlogsource:\n    product: linux\nfilter:\n    rules: " + rules + "\n    fsel:\n        U: x\n    condition: not fsel\n"
		f, errs := Parse("t.yml", []byte(src))
		if errs.Err() != nil {
			t.Fatalf("rules: %s: %v", rules, errs)
		}
		c, errs := LoadFiles(f)
		if len(errs) != 0 {
			t.Errorf("rules: %s: %v", rules, errs)
		}
		if n := c.ApplyFilters(); n != 1 || c.Rules[0].Detection.Conditions[0].Source != "sel and not _filter0_fsel" {
			t.Errorf("rules: %s: applied %d, condition %q", rules, n, c.Rules[0].Detection.Conditions[0].Source)
		}
	}
}
