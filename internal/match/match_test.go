package match

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// lit builds a Sigma string from a pattern where '*' and '?' are wildcards.
func lit(p string) sigma.String {
	var s sigma.String
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			s.Tokens = append(s.Tokens, sigma.Token{Kind: sigma.Literal, Text: cur.String()})
			cur.Reset()
		}
	}
	for _, r := range p {
		switch r {
		case '*':
			flush()
			s.Tokens = append(s.Tokens, sigma.Token{Kind: sigma.AnyChars})
		case '?':
			flush()
			s.Tokens = append(s.Tokens, sigma.Token{Kind: sigma.AnyChar})
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return s
}

// oneSearch builds a rule with a single search "sel" of one group.
func oneSearch(items ...*sigma.Item) *sigma.Rule {
	return ruleOf(map[string][]*sigma.Item{"sel": items}, "sel")
}

func ruleOf(searches map[string][]*sigma.Item, cond string, order ...string) *sigma.Rule {
	d := &sigma.Detection{}
	if len(order) == 0 {
		for name := range searches {
			order = append(order, name)
		}
	}
	for _, name := range order {
		d.Searches = append(d.Searches, &sigma.Search{Name: name, Groups: []*sigma.Group{{Items: searches[name]}}})
	}
	d.Conditions = []*sigma.Condition{{Source: cond, Expr: parseCond(cond, order)}}
	return &sigma.Rule{Meta: sigma.Meta{ID: "test", Title: "test"}, Detection: d}
}

// parseCond parses a condition with the Sigma parser and resolves its
// "1 of x*" / "all of them" patterns against the search names, as
// sigma.Parse does for a rule file.
func parseCond(src string, names []string) sigma.Expr {
	e, err := sigma.ParseCondition(src)
	if err != nil {
		panic(fmt.Sprintf("condition %q: %v", src, err))
	}
	sigma.Walk(e, func(x sigma.Expr) bool {
		if of, ok := x.(*sigma.OfExpr); ok {
			for _, n := range names {
				if of.Them || strings.HasPrefix(n, strings.TrimSuffix(of.Pattern, "*")) {
					of.Names = append(of.Names, n)
				}
			}
		}
		return true
	})
	return e
}

func item(field string, vals ...sigma.Value) *sigma.Item {
	return &sigma.Item{Field: field, Values: vals}
}

func mustCompile(t *testing.T, rules ...*sigma.Rule) *Set {
	t.Helper()
	s, errs := Compile(rules)
	for _, err := range errs {
		t.Fatalf("compile: %v", err)
	}
	return s
}

func matches(t *testing.T, s *Set, event string) bool {
	t.Helper()
	m := s.NewMatcher()
	hits, err := m.Match([]byte(event), nil)
	if err != nil {
		t.Fatalf("match %s: %v", event, err)
	}
	return len(hits) > 0
}

type evCase struct {
	event string
	want  bool
}

func check(t *testing.T, r *sigma.Rule, cases ...evCase) {
	t.Helper()
	s := mustCompile(t, r)
	for _, c := range cases {
		if got := matches(t, s, c.event); got != c.want {
			t.Errorf("%s: got %v, want %v", c.event, got, c.want)
		}
	}
}

func TestStringShapes(t *testing.T) {
	cases := []struct {
		pat  string
		in   string
		want bool
	}{
		{"/usr/bin/curl", "/USR/bin/Curl", true},
		{"/usr/bin/curl", "/usr/bin/curl2", false},
		{"*/curl", "/usr/bin/curl", true},
		{"*/curl", "/usr/bin/curlx", false},
		{"/usr/*", "/usr/bin/x", true},
		{"/usr/*", "/us", false},
		{"*wget*", "sh -c WGET http://x", true},
		{"*wget*", "sh -c curl", false},
		{"a*b?d", "aXXbcd", true},
		{"a*b?d", "abd", false},
		{"a*b?d", "abéd", true}, // '?' is one character, not one byte
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
		{"*", "anything", true},
		{"straße", "STRASSE", false},
		{"ǅ", "ǆ", true},                          // Unicode title/lower case fold together
		{"*kelvin K*", "x kelvin \u212a y", true}, // Kelvin sign folds to k
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true},
	}
	for _, c := range cases {
		r := oneSearch(item("f", lit(c.pat)))
		ev := `{"f":` + quote(c.in) + `}`
		s := mustCompile(t, r)
		if got := matches(t, s, ev); got != c.want {
			t.Errorf("pattern %q on %q: got %v, want %v", c.pat, c.in, got, c.want)
		}
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestCasedAndEscapedWildcards(t *testing.T) {
	cased := lit("*Invoke-Mimikatz*")
	cased.Cased = true
	check(t, oneSearch(item("c", cased)),
		evCase{`{"c":"x Invoke-Mimikatz y"}`, true},
		evCase{`{"c":"x invoke-mimikatz y"}`, false})
	// A literal '*' (escaped in the rule) is one Literal token.
	star := sigma.String{Tokens: []sigma.Token{{Kind: sigma.Literal, Text: "a*b"}}}
	check(t, oneSearch(item("c", star)),
		evCase{`{"c":"A*B"}`, true},
		evCase{`{"c":"aXb"}`, false})
}

func TestNestedDottedArrays(t *testing.T) {
	r := oneSearch(item("process.args", lit("-enc")))
	check(t, r,
		evCase{`{"process":{"args":["powershell","-ENC","abc"]}}`, true},
		evCase{`{"process.args":["powershell","-enc"]}`, true},
		evCase{`{"process":{"args":["powershell","-encx"]}}`, false},
		evCase{`{"process":{"args":[]}}`, false},
		evCase{`{}`, false})
}

func TestAllModifierAndValueLists(t *testing.T) {
	it := item("cmd", lit("*curl*"), lit("*| sh*"))
	check(t, oneSearch(it),
		evCase{`{"cmd":"curl x"}`, true},
		evCase{`{"cmd":"wget x | sh"}`, true},
		evCase{`{"cmd":"wget x"}`, false})
	it = item("cmd", lit("*curl*"), lit("*| sh*"))
	it.All = true
	check(t, oneSearch(it),
		evCase{`{"cmd":"curl x | sh"}`, true},
		evCase{`{"cmd":"curl x"}`, false})
}

func TestNeq(t *testing.T) {
	it := item("user", lit("root"), lit("admin"))
	it.Negate = true
	check(t, oneSearch(item("event", lit("login")), it),
		evCase{`{"event":"login","user":"bob"}`, true},
		evCase{`{"event":"login","user":"ROOT"}`, false},
		evCase{`{"event":"login","user":"admin"}`, false},
		evCase{`{"event":"login"}`, true})
}

func TestNullExistsEmpty(t *testing.T) {
	check(t, oneSearch(item("f", sigma.Null{})),
		evCase{`{}`, true},
		evCase{`{"f":null}`, true},
		evCase{`{"f":""}`, false},
		evCase{`{"f":"x"}`, false})
	check(t, ruleOf(map[string][]*sigma.Item{"sel": {item("g", lit("1"))}, "n": {item("f", sigma.Null{})}}, "sel and not n", "sel", "n"),
		evCase{`{"g":"1","f":"x"}`, true},
		evCase{`{"g":"1"}`, false})
	check(t, oneSearch(item("f", sigma.Exists{Want: true})),
		evCase{`{"f":null}`, true},
		evCase{`{"f":""}`, true},
		evCase{`{"g":1}`, false})
	check(t, oneSearch(item("f", sigma.Exists{Want: false})),
		evCase{`{"f":"x"}`, false},
		evCase{`{"g":1}`, true})
	check(t, oneSearch(item("f", lit(""))),
		evCase{`{"f":""}`, true},
		evCase{`{"f":" "}`, false},
		evCase{`{}`, false})
}

func TestNumbersBools(t *testing.T) {
	n := sigma.Number{Raw: "4624", Float: 4624, Int: 4624, IsInt: true}
	check(t, oneSearch(item("id", n)),
		evCase{`{"id":4624}`, true},
		evCase{`{"id":"4624"}`, true},
		evCase{`{"id":4624.0}`, true},
		evCase{`{"id":4625}`, false},
		evCase{`{"id":"x4624"}`, false})
	check(t, oneSearch(item("b", sigma.Bool{V: true})),
		evCase{`{"b":true}`, true},
		evCase{`{"b":"True"}`, true},
		evCase{`{"b":false}`, false})
	gt := sigma.Compare{Op: sigma.GT, Num: sigma.Number{Raw: "1024", Float: 1024}}
	lte := sigma.Compare{Op: sigma.LTE, Num: sigma.Number{Raw: "-5", Float: -5}}
	check(t, oneSearch(item("p", gt)),
		evCase{`{"p":1025}`, true},
		evCase{`{"p":"2048"}`, true},
		evCase{`{"p":1024}`, false},
		evCase{`{"p":"abc"}`, false})
	check(t, oneSearch(item("p", lte)),
		evCase{`{"p":-5}`, true},
		evCase{`{"p":-4.5}`, false})
}

func TestRegex(t *testing.T) {
	check(t, oneSearch(item("a1", sigma.Regex{Pattern: `(^|\/)\.[^.\/]`})),
		evCase{`{"a1":"/tmp/.hidden"}`, true},
		evCase{`{"a1":".x"}`, true},
		evCase{`{"a1":"/tmp/../x"}`, false})
	check(t, oneSearch(item("c", sigma.Regex{Pattern: `Invoke-\w+`})),
		evCase{`{"c":"x Invoke-Foo"}`, true},
		evCase{`{"c":"x invoke-foo"}`, false})
	check(t, oneSearch(item("c", sigma.Regex{Pattern: `invoke-\w+`, IgnoreCase: true})),
		evCase{`{"c":"x INVOKE-Foo"}`, true})
	check(t, oneSearch(item("c", sigma.Regex{Pattern: `^b$`, Multiline: true})),
		evCase{`{"c":"a\nb\nc"}`, true})
	check(t, oneSearch(item("c", sigma.Regex{Pattern: `a.c`, DotAll: true})),
		evCase{`{"c":"a\nc"}`, true})
	check(t, oneSearch(item("c", sigma.Regex{Pattern: `a.c`})),
		evCase{`{"c":"a\nc"}`, false})
	for _, bad := range []string{`(?=x)`, `(a)\1`, `a++`, `(?>a)`, `(unclosed`} {
		_, errs := Compile([]*sigma.Rule{oneSearch(item("c", sigma.Regex{Pattern: bad}))})
		if len(errs) != 1 {
			t.Errorf("regex %q: want a compile error, got %v", bad, errs)
		} else if !strings.Contains(errs[0].Error(), "regex") {
			t.Errorf("regex %q: error %q does not name the regex", bad, errs[0])
		}
	}
}

func TestCIDR(t *testing.T) {
	v4 := sigma.CIDR{Prefix: netip.MustParsePrefix("10.0.0.0/8")}
	v6 := sigma.CIDR{Prefix: netip.MustParsePrefix("fc00::/7")}
	check(t, oneSearch(item("ip", v4, v6)),
		evCase{`{"ip":"10.1.2.3"}`, true},
		evCase{`{"ip":"::ffff:10.1.2.3"}`, true},
		evCase{`{"ip":"fd12::1"}`, true},
		evCase{`{"ip":"11.0.0.1"}`, false},
		evCase{`{"ip":"not an ip"}`, false},
		evCase{`{"ip":["8.8.8.8","10.0.0.1"]}`, true},
		evCase{`{"ip":"fd12::1%eth0"}`, true},
		evCase{`{"ip":" 10.0.0.1 "}`, true},
		evCase{`{"ip":""}`, false})

	// The address is parsed from the event's bytes without a copy.
	s := mustCompile(t, oneSearch(item("ip", v4, v6)))
	m := s.NewMatcher()
	ev := []byte(`{"ip":["8.8.8.8","fd12::1%eth0"]}`)
	var hits []int
	if n := testing.AllocsPerRun(100, func() { hits, _ = m.Match(ev, hits[:0]) }); n != 0 {
		t.Errorf("cidr match allocates %v times per event", n)
	}
}

func TestFieldRef(t *testing.T) {
	check(t, oneSearch(item("a", sigma.FieldRef{Field: "b"})),
		evCase{`{"a":"X","b":"x"}`, true},
		evCase{`{"a":"x","b":"y"}`, false},
		evCase{`{"a":5,"b":"5.0"}`, true},
		evCase{`{"a":"x"}`, false})
	it := item("a", sigma.FieldRef{Field: "b"})
	it.Negate = true
	check(t, oneSearch(it),
		evCase{`{"a":"x","b":"y"}`, true},
		evCase{`{"a":"x","b":"x"}`, false})
}

func TestTimeParts(t *testing.T) {
	check(t, oneSearch(item("@timestamp", sigma.TimePart{Unit: sigma.Hour, Num: sigma.Number{Raw: "3", Float: 3}})),
		evCase{`{"@timestamp":"2024-05-01T03:59:00Z"}`, true},
		evCase{`{"@timestamp":"2024-05-01T05:30:00+02:00"}`, true}, // 03:30 UTC
		evCase{`{"@timestamp":"2024-05-01T04:00:00Z"}`, false},
		evCase{`{"@timestamp":"garbage"}`, false})
	for _, c := range []struct {
		u    sigma.TimeUnit
		want float64
	}{{sigma.Minute, 7}, {sigma.Day, 31}, {sigma.Week, 1}, {sigma.Month, 12}, {sigma.Year, 2024}} {
		check(t, oneSearch(item("t", sigma.TimePart{Unit: c.u, Num: sigma.Number{Float: c.want}})),
			evCase{`{"t":"2024-12-31T10:07:00Z"}`, true})
	}
}

func TestExpansionAndPlaceholder(t *testing.T) {
	exp := sigma.Expansion{Alts: []sigma.Value{lit("* -s *"), lit("* /s *")}}
	check(t, oneSearch(item("c", exp)),
		evCase{`{"c":"x /s y"}`, true},
		evCase{`{"c":"x -s y"}`, true},
		evCase{`{"c":"x s y"}`, false})
	_, errs := Compile([]*sigma.Rule{oneSearch(item("c", sigma.Placeholder{Name: "Servers"}))})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "%Servers%") {
		t.Errorf("placeholder: got %v", errs)
	}
}

func TestKeywords(t *testing.T) {
	kw := &sigma.Item{Values: []sigma.Value{lit("mimikatz"), lit("rm -rf /*")}}
	r := oneSearch(kw)
	r.Detection.Searches[0].Keywords = true
	check(t, r,
		evCase{`{"message":"ran MimiKatz.exe"}`, true},
		evCase{`{"process":{"args":["sh","-c","rm -rf /tmp"]}}`, true},
		evCase{`{"message":"hello","n":1}`, false})
	all := &sigma.Item{Values: []sigma.Value{lit("dd"), lit("if=")}, All: true}
	r = oneSearch(all)
	r.Detection.Searches[0].Keywords = true
	check(t, r,
		evCase{`{"type":"EXECVE","a0":"dd","a1":"if=/dev/zero"}`, true},
		evCase{`{"type":"EXECVE","a0":"dd","a1":"of=/dev/zero"}`, false})
}

func TestConditions(t *testing.T) {
	s := map[string][]*sigma.Item{
		"sel1":    {item("a", lit("1"))},
		"sel2":    {item("b", lit("2"))},
		"_hidden": {item("c", lit("3"))},
	}
	order := []string{"sel1", "sel2", "_hidden"}
	check(t, ruleOf(s, "1 of sel*", order...),
		evCase{`{"a":"1"}`, true}, evCase{`{"b":"2"}`, true}, evCase{`{"c":"3"}`, false})
	check(t, ruleOf(s, "all of sel*", order...),
		evCase{`{"a":"1"}`, false}, evCase{`{"a":"1","b":"2"}`, true})
	check(t, ruleOf(s, "sel1 and not sel2 or _hidden", order...),
		evCase{`{"a":"1"}`, true}, evCase{`{"a":"1","b":"2"}`, false}, evCase{`{"c":"3"}`, true})
	_, errs := Compile([]*sigma.Rule{ruleOf(s, "sel1 and nope", order...)})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `"nope"`) {
		t.Errorf("undefined identifier: got %v", errs)
	}
}

// TestSharedFields checks that rules reading the same field share one
// extraction slot and that results come back in rule order.
func TestSharedFields(t *testing.T) {
	r1 := oneSearch(item("process.executable", lit("*/curl")))
	r2 := oneSearch(item("process.executable", lit("/usr/*")), item("process.command_line", lit("*http*")))
	r3 := oneSearch(item("process.command_line", lit("*wget*")))
	s := mustCompile(t, r1, r2, r3)
	if len(s.Fields()) != 2 {
		t.Fatalf("fields = %v, want 2 shared fields", s.Fields())
	}
	m := s.NewMatcher()
	hits, err := m.Match([]byte(`{"process":{"executable":"/usr/bin/curl","command_line":"curl http://x"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0] != 0 || hits[1] != 1 {
		t.Errorf("hits = %v, want [0 1]", hits)
	}
	hits, _ = m.Match([]byte(`{"process":{"executable":"/bin/wget","command_line":"wget x"}}`), hits[:0])
	if len(hits) != 1 || hits[0] != 2 {
		t.Errorf("hits = %v, want [2]", hits)
	}
}
