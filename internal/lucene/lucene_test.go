package lucene

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// convertYAML parses a rule's detection section (YAML, indented by 4) and
// converts it.
func convertYAML(t *testing.T, detection string, opt Options) ([]string, error) {
	t.Helper()
	src := "title: t\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n" + detection
	f, errs := sigma.Parse("t.yml", []byte(src))
	if err := errs.Err(); err != nil {
		t.Fatalf("parse %q: %v", detection, err)
	}
	return Convert(f.Rules[0], opt)
}

func TestConvertCorrect(t *testing.T) {
	tests := []struct {
		name, det string
		want      string // queries joined by " || "
		compat    string // pySigma rendering ("" = same as want)
	}{
		{"lowercase", "    sel:\n        Image: '/usr/bin/Curl'\n    condition: sel\n",
			`Image:\/usr\/bin\/curl`, `Image:\/usr\/bin\/Curl`},
		{"cased", "    sel:\n        Image|cased: '/usr/bin/Curl'\n    condition: sel\n",
			`Image.cased:\/usr\/bin\/Curl`, "ERROR"},
		{"contains list", "    sel:\n        CommandLine|contains:\n            - 'a b'\n            - 'C:\\x'\n    condition: sel\n",
			`CommandLine:(*a\ b* OR *c\:\\x*)`, `CommandLine:(*a\ b* OR *C\:\\x*)`},
		{"negative number", "    sel:\n        pid: -5\n    condition: sel\n",
			`pid:\-5`, `pid:-5`},
		{"tab and newline", "    sel:\n        f: \"a\\tb\\nc\"\n    condition: sel\n",
			"f:a\\\tb\\\nc", "f:a\tb\nc"},
		{"operator word", "    sel:\n        f|cased: AND\n    condition: sel\n",
			`f.cased:\AND`, "ERROR"},
		{"leading <", "    sel:\n        f: '<script>'\n    condition: sel\n",
			`f:"<script>"`, `f:\<script\>`},
		{"leading > with wildcard", "    sel:\n        f|startswith: '>x'\n    condition: sel\n",
			`f:\>x*`, `f:\>x*`},
		{"null and not null", "    sel:\n        a: x\n    f1:\n        b: null\n    condition: sel and not f1\n",
			`a:x AND _exists_:b`, ""},
		{"null", "    sel:\n        a: x\n        b: null\n    condition: sel\n",
			`a:x AND (NOT _exists_:b)`, ""},
		{"exists", "    sel:\n        a|exists: true\n        b|exists: false\n    condition: sel\n",
			`_exists_:a AND NOT _exists_:b`, ""},
		{"neq", "    sel:\n        a|neq: x\n    condition: sel\n",
			`NOT a:x`, ""},
		{"cidr v4", "    sel:\n        ip|cidr: 10.1.0.0/16\n    condition: sel\n",
			`ip:10.1.0.0\/16`, ""},
		{"cidr v6", "    sel:\n        ip|cidr: 'fc00::/7'\n    condition: sel\n",
			`ip:fc00\:\:\/7`, ""},
		{"compare", "    sel:\n        n|gte: 5\n        m|lt: -1\n    condition: sel\n",
			`n:>=5 AND m:<\-1`, `n:>=5 AND m:<-1`},
		{"keywords", "    keywords:\n        - 'Failed password'\n        - 42\n    condition: keywords\n",
			`message:*failed\ password* OR message:*42*`, `*Failed\ password* OR 42`},
		{"keywords all", "    keywords:\n        '|all':\n            - a\n            - b\n    condition: keywords\n",
			`message:*a* AND message:*b*`, `*a* AND *b*`},
		{"regex", "    sel:\n        CommandLine|re: '-D\\d+'\n    condition: sel\n",
			`CommandLine.cased:/.*\-D[0-9]+.*/`, `CommandLine:/-D\d+/`},
		{"regex i", "    sel:\n        CommandLine|re|i: '^ab'\n    condition: sel\n",
			`CommandLine.cased:/[Aa][Bb].*/`, `CommandLine:/(?i)^ab/`},
		{"precedence", "    a:\n        f: 1\n    b:\n        g: 2\n    c:\n        h: 3\n    condition: a and not (b or c)\n",
			`f:1 AND (NOT (g:2 OR h:3))`, ""},
		{"nested same op", "    a:\n        f: 1\n    b:\n        g: 2\n    c:\n        h: 3\n    condition: (a or b) or c\n",
			`(f:1 OR g:2) OR h:3`, ""},
		{"condition list", "    a:\n        f: 1\n    b:\n        g: 2\n    condition:\n        - a\n        - b\n",
			`f:1 || g:2`, ""},
		{"1 of them skips _", "    sel1:\n        f: 1\n    sel2:\n        g: 2\n    _x:\n        h: 3\n    condition: 1 of them\n",
			`f:1 OR g:2`, ""},
		{"empty value", "    sel:\n        f: ''\n    condition: sel\n",
			`f:""`, ""},
		{"fieldref", "    sel:\n        f|fieldref: g\n    condition: sel\n", "ERROR", "ERROR"},
		{"time part", "    sel:\n        '@timestamp|hour': 3\n    condition: sel\n", "ERROR", "ERROR"},
		{"placeholder", "    sel:\n        f|expand: '%Admins%'\n    condition: sel\n", "ERROR", "ERROR"},
	}
	for _, tt := range tests {
		for _, compat := range []bool{false, true} {
			want := tt.want
			if compat && tt.compat != "" {
				want = tt.compat
			}
			got, err := convertYAML(t, tt.det, Options{PySigmaCompat: compat})
			g := strings.Join(got, " || ")
			if err != nil {
				g = "ERROR"
				if want != "ERROR" {
					t.Errorf("%s (compat=%v): %v", tt.name, compat, err)
					continue
				}
			}
			if g != want {
				t.Errorf("%s (compat=%v):\n got  %s\n want %s", tt.name, compat, g, want)
			}
		}
	}
}

func TestKeywordFieldsOption(t *testing.T) {
	got, err := convertYAML(t, "    keywords:\n        - 'x y'\n    condition: keywords\n",
		Options{KeywordFields: []string{"message", "process.command_line"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `(message:*x\ y* OR process.command_line:*x\ y*)`; got[0] != want {
		t.Errorf("got %s, want %s", got[0], want)
	}
}

func TestTranslateRegex(t *testing.T) {
	tests := []struct {
		re   sigma.Regex
		want string
	}{
		{sigma.Regex{Pattern: `abc`}, `.*abc.*`},
		{sigma.Regex{Pattern: `^abc$`}, `abc`},
		{sigma.Regex{Pattern: `^a.c`}, `a.c.*`},
		{sigma.Regex{Pattern: `\d{2,}\s\w`}, ".*[0-9]{2,}[\t\n\f\r ][0-9A-Z_a-z].*"},
		{sigma.Regex{Pattern: `[^\d]x`}, `.*[^0-9]x.*`},
		{sigma.Regex{Pattern: `(?:ab|cd)+e`}, `.*(ab|cd)+e.*`},
		{sigma.Regex{Pattern: `a.*?b`}, `.*a.*b.*`},
		{sigma.Regex{Pattern: `(^|\/)\.[^.\/]`}, `((()|.*\/))\.[^\.\/].*`},
		{sigma.Regex{Pattern: `^a|b$`}, `(a.*|.*b)`},
		{sigma.Regex{Pattern: `x@y#z~<>&`}, `.*x\@y\#z\~\<\>\&.*`},
		{sigma.Regex{Pattern: `ab`, IgnoreCase: true}, `.*[Aa][Bb].*`},
		{sigma.Regex{Pattern: `^(?i)ab$`}, `[Aa][Bb]`},
		{sigma.Regex{Pattern: `a\.b\\c`}, `.*a\.b\\c.*`},
	}
	for _, tt := range tests {
		got, err := TranslateRegex(tt.re)
		if err != nil {
			t.Errorf("%q: %v", tt.re.Pattern, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.re.Pattern, got, tt.want)
		}
	}
	for _, bad := range []string{`\bword\b`, `a(?=b)`, `(a)\1`, `a^b`, `a$b`, `[`} {
		_, err := TranslateRegex(sigma.Regex{Pattern: bad})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: got %v, want an ErrUnsupported error", bad, err)
		}
	}
}

// TestConvertDoesNotMutate checks that a conversion leaves the rule as is
// and is deterministic.
func TestConvertDeterministic(t *testing.T) {
	det := "    sel:\n        a|contains|all: [x, y]\n    filter:\n        b: [1, 2]\n    condition: sel and not filter\n"
	first, err := convertYAML(t, det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		again, _ := convertYAML(t, det, Options{})
		if fmt.Sprint(again) != fmt.Sprint(first) {
			t.Fatalf("conversion not deterministic: %q vs %q", again, first)
		}
	}
	if want := `(a:*x* AND a:*y*) AND (NOT (b:(1 OR 2)))`; first[0] != want {
		t.Errorf("got %s, want %s", first[0], want)
	}
}

// TestConvertExprOnly converts hand-built conditions without source text:
// the binary Expr tree is flattened into pySigma's n-ary chains.
func TestConvertExprOnly(t *testing.T) {
	item := func(f, v string) *sigma.Search {
		return &sigma.Search{Name: f, Groups: []*sigma.Group{{Items: []*sigma.Item{{Field: f, Values: []sigma.Value{sigma.ParseString(v)}}}}}}
	}
	id := func(n string) sigma.Expr { return &sigma.IdentExpr{Name: n} }
	d := &sigma.Detection{Searches: []*sigma.Search{item("a", "1"), item("b", "2"), item("c", "3")}}
	tests := []struct {
		e    sigma.Expr
		want string
	}{
		{&sigma.AndExpr{L: &sigma.AndExpr{L: id("a"), R: id("b")}, R: id("c")}, "a:1 AND b:2 AND c:3"},
		{&sigma.OrExpr{L: id("a"), R: &sigma.AndExpr{L: id("b"), R: &sigma.NotExpr{X: id("c")}}}, "a:1 OR (b:2 AND (NOT c:3))"},
		{&sigma.OfExpr{All: true, Pattern: "them", Them: true, Names: []string{"a", "b", "c"}}, "a:1 AND b:2 AND c:3"},
	}
	for _, tt := range tests {
		d.Conditions = []*sigma.Condition{{Expr: tt.e}}
		got, err := Convert(&sigma.Rule{Detection: d}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != tt.want {
			t.Errorf("%s: got %s, want %s", tt.e, got[0], tt.want)
		}
	}
}
