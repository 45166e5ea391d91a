package sigma

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// rule wraps detection lines (indented by 4) into a complete rule; the
// detection's first line is line 8 of the file.
func rule(detection string) string {
	return "title: Test rule\n" +
		"id: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\n" +
		"status: test\n" +
		"level: high\n" +
		"logsource:\n" +
		"    category: process_creation\n" +
		"detection:\n" +
		detection
}

func parseOne(t *testing.T, src string) *Rule {
	t.Helper()
	f, errs := Parse("t.yml", []byte(src))
	if errs.Err() != nil {
		t.Fatalf("Parse: %v", errs)
	}
	if len(f.Rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(f.Rules))
	}
	return f.Rules[0]
}

// values renders the values of the first item of the named search.
func values(r *Rule, search string) string {
	s := r.Detection.Search(search)
	var parts []string
	for _, g := range s.Groups {
		for _, it := range g.Items {
			var vs []string
			for _, v := range it.Values {
				vs = append(vs, fmt.Sprintf("%T:%s", v, v))
			}
			parts = append(parts, it.Field+"="+strings.Join(vs, ","))
		}
	}
	return strings.Join(parts, " ")
}

var parseValueTests = []struct {
	name, det, want string
}{
	{"plain", "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n", `Image=sigma.String:C:\\Windows\\cmd.exe`},
	{"wildcards", "    sel:\n        Image: '*\\cmd.exe'\n", `Image=sigma.String:*\\cmd.exe`},
	{"escaped star", "    sel:\n        F: 'a\\*b\\?c'\n", `F=sigma.String:a\*b\?c`},
	{"backslash then wildcard", "    sel:\n        F: 'a\\\\*'\n", `F=sigma.String:a\\*`},
	{"backslash escaped star", "    sel:\n        F: 'a\\\\\\*'\n", `F=sigma.String:a\\\*`},
	{"contains", "    sel:\n        F|contains: 'x'\n", `F=sigma.String:*x*`},
	{"contains keeps star", "    sel:\n        F|contains: '*x'\n", `F=sigma.String:*x*`},
	{"startswith endswith", "    sel:\n        F|startswith: 'a'\n        G|endswith: 'b'\n", `F=sigma.String:a* G=sigma.String:*b`},
	{"list", "    sel:\n        F:\n            - a\n            - b\n", `F=sigma.String:a,sigma.String:b`},
	{"number", "    sel:\n        EventID: 4624\n", `EventID=sigma.Number:4624`},
	{"quoted number is string", "    sel:\n        EventID: '4624'\n", `EventID=sigma.String:4624`},
	{"bool", "    sel:\n        F: true\n", `F=sigma.Bool:true`},
	{"null", "    sel:\n        F: null\n", `F=sigma.Null:null`},
	{"empty", "    sel:\n        F: ''\n", `F=sigma.String:`},
	{"re", "    sel:\n        F|re: '^a.*b$'\n", `F=sigma.Regex:/^a.*b$/`},
	{"re flags", "    sel:\n        F|re|i|m|s: 'a'\n", `F=sigma.Regex:/a/ims`},
	{"cidr v4", "    sel:\n        F|cidr: '10.1.2.3/8'\n", `F=sigma.CIDR:10.0.0.0/8`},
	{"cidr v6", "    sel:\n        F|cidr: 'fe80::/10'\n", `F=sigma.CIDR:fe80::/10`},
	{"exists", "    sel:\n        F|exists: false\n", `F=sigma.Exists:exists:false`},
	{"gte", "    sel:\n        F|gte: 10\n", `F=sigma.Compare:gte:10`},
	{"lt float", "    sel:\n        F|lt: 1.5\n", `F=sigma.Compare:lt:1.5`},
	{"hour", "    sel:\n        F|hour: 3\n", `F=sigma.TimePart:hour:3`},
	{"fieldref", "    sel:\n        F|fieldref: G\n", `F=sigma.FieldRef:fieldref:G`},
	{"expand", "    sel:\n        F|expand: '%Servers%'\n", `F=sigma.Placeholder:%Servers%`},
	{"contains expand", "    sel:\n        F|contains|expand: '%Servers%'\n", `F=sigma.Placeholder:*%Servers%*`},
	{"base64", "    sel:\n        F|base64: 'abc'\n", `F=sigma.String:YWJj`},
	{"base64offset contains", "    sel:\n        F|base64offset|contains: 'Add-MpPreference '\n",
		`F=sigma.Expansion:{*QWRkLU1wUHJlZmVyZW5jZS* | *FkZC1NcFByZWZlcmVuY2Ug* | *BZGQtTXBQcmVmZXJlbmNlI*}`},
	{"wide base64offset", "    sel:\n        F|wide|base64offset|contains: 'Add-MpPreference '\n",
		`F=sigma.Expansion:{*QQBkAGQALQBNAHAAUAByAGUAZgBlAHIAZQBuAGMAZQAgA* | *EAZABkAC0ATQBwAFAAcgBlAGYAZQByAGUAbgBjAGUAIA* | *BAGQAZAAtAE0AcABQAHIAZQBmAGUAcgBlAG4AYwBlACAA*}`},
	{"utf16le", "    sel:\n        F|utf16le|base64: 'cmd'\n", `F=sigma.String:YwBtAGQA`},
	{"utf16be", "    sel:\n        F|utf16be|base64: 'cmd'\n", `F=sigma.String:AGMAbQBk`},
	{"utf16 bom", "    sel:\n        F|utf16|base64: 'cmd'\n", `F=sigma.String://5jAG0AZAA=`},
	{"windash", "    sel:\n        F|windash|contains: ' -f '\n", "F=sigma.Expansion:{* -f * | * /f * | * \u2013f * | * \u2014f * | * \u2015f *}"},
	{"windash no dash", "    sel:\n        F|windash: 'abc'\n", `F=sigma.String:abc`},
	{"cased", "    sel:\n        F|cased: 'AbC'\n", `F=sigma.String:AbC`},
	{"keywords", "    keywords:\n        - 'evil'\n        - 'bad*'\n", `=sigma.String:evil,sigma.String:bad*`},
	{"keywords all", "    keywords:\n        '|all':\n            - 'a'\n            - 'b'\n", `=sigma.String:a,sigma.String:b`},
	{"list of maps", "    sel:\n        - F: a\n        - G: b\n", `F=sigma.String:a G=sigma.String:b`},
}

func TestParseValues(t *testing.T) {
	for _, tt := range parseValueTests {
		t.Run(tt.name, func(t *testing.T) {
			search := "sel"
			if strings.HasPrefix(tt.det, "    keywords") {
				search = "keywords"
			}
			r := parseOne(t, rule(tt.det+"    condition: "+search+"\n"))
			if got := values(r, search); got != tt.want {
				t.Errorf("values\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseItemFlags(t *testing.T) {
	r := parseOne(t, rule("    sel:\n        F|contains|all:\n            - a\n            - b\n        G|neq: x\n        H|cased: X\n    condition: sel\n"))
	items := r.Detection.Search("sel").Groups[0].Items
	if !items[0].All || items[0].Negate || !reflect.DeepEqual(items[0].Modifiers, []string{"contains", "all"}) {
		t.Errorf("F item = %+v", items[0])
	}
	if !items[1].Negate {
		t.Errorf("G|neq: Negate not set")
	}
	if s := items[2].Values[0].(String); !s.Cased {
		t.Errorf("H|cased: Cased not set")
	}
	if items[0].Pos != (Pos{Line: 9, Col: 9}) {
		t.Errorf("F item pos = %v, want 9:9", items[0].Pos)
	}
	c := CIDR{Prefix: netip.MustParsePrefix("10.0.0.0/8")}
	if c.String() != "10.0.0.0/8" {
		t.Errorf("CIDR string %s", c)
	}
}

func TestParseKeywordsShape(t *testing.T) {
	r := parseOne(t, rule("    keywords:\n        - a\n    sel:\n        F: x\n    condition: keywords and sel\n"))
	kw := r.Detection.Search("keywords")
	if !kw.Keywords || len(kw.Groups) != 1 || len(kw.Groups[0].Items) != 1 || kw.Groups[0].Items[0].Field != "" {
		t.Errorf("keywords search = %+v", kw)
	}
	if r.Detection.Search("sel").Keywords {
		t.Errorf("sel marked as keywords")
	}
}

func TestOfNames(t *testing.T) {
	r := parseOne(t, rule("    sel_a:\n        F: a\n    sel_b:\n        F: b\n    _helper:\n        F: c\n    filter:\n        F: d\n"+
		"    condition:\n        - 1 of them\n        - all of sel_*\n        - 1 of _*\n"))
	want := [][]string{{"sel_a", "sel_b", "filter"}, {"sel_a", "sel_b"}, {"_helper"}}
	if len(r.Detection.Conditions) != 3 {
		t.Fatalf("got %d conditions", len(r.Detection.Conditions))
	}
	for i, c := range r.Detection.Conditions {
		of := c.Expr.(*OfExpr)
		if !reflect.DeepEqual(of.Names, want[i]) {
			t.Errorf("condition %d %q: names %v, want %v", i, c.Source, of.Names, want[i])
		}
	}
	if p := r.Detection.Conditions[1].Pos; p != (Pos{Line: 18, Col: 11}) {
		t.Errorf("condition pos = %v, want 18:11", p)
	}
}

func TestParseMeta(t *testing.T) {
	src := `title: Meta test
id: 0e95725d-7320-415d-80f7-004da920fc11
name: meta_test
status: experimental
description: A description
references:
    - https://example.com
author: Someone
date: 2024-01-02
modified: 2024/02/03
tags:
    - attack.execution
    - attack.t1059
related:
    - id: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e
      type: derived
logsource:
    product: linux
    service: auditd
    definition: needs rules
detection:
    sel:
        type: EXECVE
    condition: sel
falsepositives: Unknown
fields:
    - a
level: low
`
	r := parseOne(t, src)
	want := Meta{Path: "t.yml", Pos: Pos{1, 1}, Title: "Meta test", ID: "0e95725d-7320-415d-80f7-004da920fc11", Name: "meta_test",
		Status: "experimental", Description: "A description", Author: "Someone", Date: "2024-01-02", Modified: "2024/02/03",
		Level: "low", References: []string{"https://example.com"}, Tags: []string{"attack.execution", "attack.t1059"},
		FalsePositives: []string{"Unknown"}, Fields: []string{"a"},
		Related: []Related{{ID: "5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e", Type: "derived"}}}
	if !reflect.DeepEqual(r.Meta, want) {
		t.Errorf("meta\n got %+v\nwant %+v", r.Meta, want)
	}
	if r.Logsource != (Logsource{Product: "linux", Service: "auditd", Definition: "needs rules"}) {
		t.Errorf("logsource %+v", r.Logsource)
	}
}

// TestParseErrors checks messages and exact positions of bad rules.
var parseErrorTests = []struct {
	name  string
	src   string
	want  string // first error, "line:col: msg" prefix
	cause error
}{
	{"unknown modifier", rule("    sel:\n        Image|contain: x\n    condition: sel\n"),
		"t.yml:9:15: unknown modifier 'contain' (did you mean 'contains'?)", ErrModifier},
	{"unknown modifier quoted", rule("    sel:\n        'Image|endswith|bas64': x\n    condition: sel\n"),
		"t.yml:9:25: unknown modifier 'bas64' (did you mean 'base64'?)", ErrModifier},
	{"unknown modifier no hint", rule("    sel:\n        F|zzzzzzzz: x\n    condition: sel\n"),
		"t.yml:9:11: unknown modifier 'zzzzzzzz'", ErrModifier},
	{"undefined ident", rule("    sel:\n        F: x\n    condition: sel and not filter\n"),
		`t.yml:10:28: condition references undefined search "filter"`, ErrCondition},
	{"undefined ident quoted", rule("    sel:\n        F: x\n    condition: 'sel or sle2'\n"),
		`t.yml:10:24: condition references undefined search "sle2" (did you mean "sel"?)`, ErrCondition},
	{"undefined in literal block", rule("    sel:\n        F: x\n    condition: |\n        sel and\n          not nope\n"),
		`t.yml:12:15: condition references undefined search "nope"`, ErrCondition},
	{"pattern matches nothing", rule("    sel:\n        F: x\n    condition: sel and not 1 of filter_*\n"),
		`t.yml:10:33: pattern "filter_*" matches no search`, ErrCondition},
	{"syntax", rule("    sel:\n        F: x\n    condition: sel and (sel or\n"),
		"t.yml:10:31: unexpected end of condition in condition", ErrCondition},
	{"v1 count", rule("    sel:\n        F: x\n    condition: sel | count() by host > 5\n"),
		"t.yml:10:20: v1 aggregation '| count()' is unsupported since Sigma 2 (use a correlation rule)", ErrUnsupportedV1},
	{"v1 timeframe", rule("    sel:\n        F: x\n    timeframe: 5m\n    condition: sel\n"),
		"t.yml:10:5: v1 aggregation 'timeframe' is unsupported since Sigma 2", ErrUnsupportedV1},
	{"no condition", rule("    sel:\n        F: x\n"), "t.yml:7:1: detection has no condition", ErrParse},
	{"invalid regex", rule("    sel:\n        F|re: 'a(b'\n    condition: sel\n"),
		"t.yml:9:15: invalid regular expression \"a(b\": missing closing ): `a(b`", ErrModifier},
	{"lookahead is not RE2", rule("    sel:\n        F|re: '(?=x)'\n    condition: sel\n"),
		"t.yml:9:15: invalid regular expression", ErrModifier},
	{"bad cidr", rule("    sel:\n        F|cidr: 10.0.0.0/33\n    condition: sel\n"),
		"t.yml:9:17: invalid CIDR \"10.0.0.0/33\"", ErrModifier},
	{"exists needs bool", rule("    sel:\n        F|exists: yes please\n    condition: sel\n"),
		"t.yml:9:19: modifier 'exists' needs true or false", ErrModifier},
	{"gt needs number", rule("    sel:\n        F|gt: abc\n    condition: sel\n"),
		"t.yml:9:15: modifier 'gt' needs a number, not \"abc\"", ErrModifier},
	{"re flag without re", rule("    sel:\n        F|i: abc\n    condition: sel\n"),
		"t.yml:9:11: modifier 'i' needs a preceding 're'", ErrModifier},
	{"base64 wildcard", rule("    sel:\n        F|base64: 'a*'\n    condition: sel\n"),
		"t.yml:9:11: modifier 'base64' cannot encode a value with wildcards", ErrModifier},
	{"re after contains", rule("    sel:\n        F|contains|re: 'a'\n    condition: sel\n"),
		"t.yml:9:20: modifier 're' cannot follow 'contains'", ErrModifier},
	{"cidr and re", rule("    sel:\n        F|cidr|re: '1.2.3.4'\n    condition: sel\n"),
		"t.yml:9:16: modifier 're' cannot be combined with 'cidr'", ErrModifier},
	{"null mixed", rule("    sel:\n        F:\n            - a\n            - null\n    condition: sel\n"),
		`t.yml:10:13: field "F" mixes null into a list of values`, ErrParse},
	{"empty list", rule("    sel:\n        F: []\n    condition: sel\n"),
		`t.yml:9:12: field "F" has an empty list of values`, ErrParse},
	{"nested map value", rule("    sel:\n        F:\n            G: x\n    condition: sel\n"),
		`t.yml:10:13: field "F": a value cannot be a map`, ErrParse},
	{"mixed list", rule("    sel:\n        - F: x\n        - plain\n    condition: sel\n"),
		`t.yml:8:5: search "sel" mixes maps and plain values in one list`, ErrParse},
	{"duplicate key", rule("    sel:\n        F: x\n        F: y\n    condition: sel\n"),
		`t.yml:10:9: search "sel": duplicate key "F"`, ErrParse},
	{"detection not a map", rule("    - sel\n"), "t.yml:8:5: detection must be a map, not a list", ErrParse},
	{"malformed yaml", "title: x\ndetection:\n  sel: [a\n", "t.yml:3: malformed YAML: did not find expected ',' or ']'", ErrYAML},
	{"bad indentation", "title: x\n  id: y\n", "t.yml:2: malformed YAML: mapping values are not allowed in this context", ErrYAML},
	{"not a map", "- a\n- b\n", "t.yml:1:1: a Sigma document must be a map, not a list", ErrParse},
	{"v1 collection", "action: global\ntitle: x\n---\nlogsource:\n    product: a\n", "t.yml:1:1: v1 rule collection (action: global) is unsupported since Sigma 2", ErrUnsupportedV1},
	{"invalid utf8", "title: a\xffb\n", "t.yml:1:9: invalid UTF-8 at byte 8", ErrYAML},
	{"no detection", "title: x\nlogsource:\n    product: a\n", "t.yml:1:1: rule has no detection", ErrParse},
	{"windash explosion", rule("    sel:\n        F|windash: '-a -b -c -d -e -f -g'\n    condition: sel\n"),
		"t.yml:9:11: windash: 7 dash positions would give 78125 alternatives", ErrModifier},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("t.yml", []byte(tt.src))
			errs = errs.Errors()
			if len(errs) == 0 {
				t.Fatalf("no error, want %q", tt.want)
			}
			if got := errs[0].Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error\n got %s\nwant %s...", got, tt.want)
			}
			if !errors.Is(errs[0], tt.cause) {
				t.Errorf("cause of %q is %v, want %v", errs[0], errs[0].Err, tt.cause)
			}
			if !errors.Is(errs[0], ErrParse) {
				t.Errorf("error %q is not ErrParse", errs[0])
			}
			if errs.Err() == nil {
				t.Errorf("ErrorList.Err() = nil with errors")
			}
			checkPosInside(t, tt.src, errs)
		})
	}
}

// checkPosInside asserts that every reported position lies in the input.
func checkPosInside(t *testing.T, src string, errs ErrorList) {
	t.Helper()
	lines := strings.Split(src, "\n")
	for _, e := range errs {
		if e.Pos.Line == 0 {
			continue
		}
		if e.Pos.Line > len(lines)+1 {
			t.Errorf("%v: line outside the input (%d lines)", e, len(lines))
			continue
		}
		if e.Pos.Line <= len(lines) && e.Pos.Col > len([]rune(lines[e.Pos.Line-1]))+1 {
			t.Errorf("%v: column outside line %q", e, lines[e.Pos.Line-1])
		}
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name, det, want string
	}{
		{"all on single", "    sel:\n        F|contains|all: x\n    condition: sel\n", "t.yml:9:20: modifier 'all' on a single value has no effect"},
		{"placeholder without expand", "    sel:\n        F: '%Servers%'\n    condition: sel\n", `t.yml:9:12: value "%Servers%" looks like a placeholder but has no 'expand' modifier`},
		{"regex outside subset", "    sel:\n        F|re: '\\d+'\n    condition: sel\n", `t.yml:9:15: regular expression uses \d, outside the spec's PCRE subset`},
		{"lazy quantifier", "    sel:\n        F|re: 'a.*?b'\n    condition: sel\n", `t.yml:9:15: regular expression uses lazy or possessive quantifier *?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("t.yml", []byte(rule(tt.det)))
			if errs.Err() != nil {
				t.Fatalf("unexpected errors: %v", errs)
			}
			w := errs.Warnings()
			if len(w) == 0 || !strings.HasPrefix(w[0].Error(), tt.want) {
				t.Fatalf("warnings %v, want %q", w, tt.want)
			}
		})
	}
}

func TestConditionPositionStyles(t *testing.T) {
	det := "    sel:\n        F: x\n    a'b:\n        G: y\n"
	tests := []struct{ name, cond, want string }{
		{"plain", "    condition: sel and nope\n", "t.yml:12:24"},
		{"single quoted", "    condition: 'sel and nope'\n", "t.yml:12:25"},
		{"single quoted with quote", "    condition: 'sel and a''b and nope'\n", "t.yml:12:34"},
		{"double quoted with escape", "    condition: \"sel\\tand nope\"\n", "t.yml:12:26"},
		{"plain multi-line", "    condition: sel\n        and not\n            nope\n", "t.yml:14:13"},
		{"folded", "    condition: >\n        sel and\n        nope\n", "t.yml:14:9"},
		{"literal", "    condition: |\n        sel and\n          nope\n", "t.yml:14:11"},
		{"list entry", "    condition:\n        - sel\n        - sel or nope\n", "t.yml:14:18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("t.yml", []byte(rule(det+tt.cond)))
			es := errs.Errors()
			if len(es) == 0 {
				t.Fatalf("no error")
			}
			if !strings.HasPrefix(es[0].Error(), tt.want+": ") || !strings.Contains(es[0].Msg, `"nope"`) {
				t.Errorf("error %q, want it at %s", es[0], tt.want)
			}
		})
	}
}
