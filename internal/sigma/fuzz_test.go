package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// conditionSeeds are conditions from the tests and the SigmaHQ shapes.
var conditionSeeds = []string{
	"sel", "a and b", "a or b and c", "not a and b", "not (a and b)", "1 of sel* and not 1 of filter_*",
	"all of them", "1 of them", "(((a)))", "A AND NOT b Or c", "all of sel* or 1 of *_x",
	"selection and not (filter1 or filter2)", "sel | count() by x > 5", "a near b", "2 of x", "(a or b",
	"all of selection_* and not 1 of filter_main_* and not 1 of filter_optional_*",
	"write TargetLogonId from selection1 (if not selection2) to list %x%; then if selection3 -> alert",
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range conditionSeeds {
		f.Add(s)
	}
	for _, tt := range conditionTreeTests {
		f.Add(tt.in)
	}
	for _, tt := range conditionErrorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 10000 {
			t.Skip()
		}
		e, err := ParseCondition(src)
		if err != nil {
			var ce *ConditionError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(src) {
				t.Fatalf("ParseCondition(%q): bad error %v", src, err)
			}
			return
		}
		out := e.String()
		e2, err := ParseCondition(out)
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", src, out, err)
		}
		if !EqualExpr(e, e2) {
			t.Fatalf("%q → %q parses to a different tree", src, out)
		}
		if out2 := e2.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
		Walk(e, func(x Expr) bool {
			if x.Offset() < 0 || x.Offset() > len(src) {
				t.Fatalf("offset %d outside %q", x.Offset(), src)
			}
			return true
		})
	})
}

func FuzzParseRule(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, tt := range parseValueTests {
		f.Add([]byte(rule(tt.det + "    condition: sel\n")))
	}
	for _, tt := range parseErrorTests {
		f.Add([]byte(tt.src))
	}
	f.Add([]byte(rule("    sel:\n        F|contains|all:\n            - a\n            - b\n        G|re|i: '^x'\n    keywords:\n        - evil\n    condition: sel or keywords\n")))
	f.Add([]byte(rule("    sel:\n        F|windash|contains: ' -f '\n        H|base64offset|contains: abc\n        I|cidr: 10.0.0.0/8\n    condition: sel\n")))
	f.Add([]byte(rule("    sel:\n        F|expand: '%Servers%'\n        G: null\n        H|exists: true\n        J|gte: 5\n    condition: all of them\n")))
	f.Add([]byte("title: x\ndetection:\n  sel: [a\n"))
	f.Add([]byte(billionLaughs("detection:\n    sel: *l8\n    condition: sel\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		file, errs := Parse("f.yml", data)
		lines := strings.Count(string(data), "\n") + 2
		for _, e := range errs {
			if errors.Is(e, ErrInternal) {
				t.Fatalf("internal error: %v", e)
			}
			if e.Pos.Line < 0 || e.Pos.Line > lines || e.Pos.Col < 0 {
				t.Fatalf("%v: position outside the input (%d lines)", e, lines)
			}
		}
		for _, r := range file.Rules {
			for _, c := range r.Detection.Conditions {
				e, err := ParseCondition(c.Expr.String())
				if err != nil || !EqualExpr(e, c.Expr) {
					t.Fatalf("condition %q does not round-trip: %v", c.Source, err)
				}
			}
			if cl := r.Clone(); !reflect.DeepEqual(cl, r) {
				t.Fatalf("Clone differs")
			}
		}
	})
}
