package sigma

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var conditionTreeTests = []struct {
	in   string
	want string // String() of the tree, fully parenthesised by tree()
}{
	{"sel", "sel"},
	{"a and b", "(a and b)"},
	{"a or b and c", "(a or (b and c))"},
	{"a and b or c", "((a and b) or c)"},
	{"not a and b", "((not a) and b)"},
	{"not (a and b)", "(not (a and b))"},
	{"a and not b or not c and d", "((a and (not b)) or ((not c) and d))"},
	{"a or b or c", "((a or b) or c)"},
	{"a or (b or c)", "(a or (b or c))"},
	{"1 of sel* and not 1 of filter_*", "(1 of sel* and (not 1 of filter_*))"},
	{"all of them", "all of them"},
	{"1 of them", "1 of them"},
	{"not all of sel_*", "(not all of sel_*)"},
	{"(((a)))", "a"},
	{"not not a", "(not (not a))"},
	{"A AND NOT b Or c", "((A and (not b)) or c)"},
	{"sel_1  and\tsel-2 and sel.3", "((sel_1 and sel-2) and sel.3)"},
	{"all of sel* or 1 of *_x", "(all of sel* or 1 of *_x)"},
}

func TestParseConditionTree(t *testing.T) {
	for _, tt := range conditionTreeTests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseCondition(tt.in)
			if err != nil {
				t.Fatalf("ParseCondition(%q): %v", tt.in, err)
			}
			if got := tree(e); got != tt.want {
				t.Errorf("tree = %s, want %s", got, tt.want)
			}
			// String re-parses to the same tree.
			e2, err := ParseCondition(e.String())
			if err != nil {
				t.Fatalf("re-parse %q: %v", e.String(), err)
			}
			if !EqualExpr(e, e2) {
				t.Errorf("String %q re-parses to %s, want %s", e.String(), tree(e2), tree(e))
			}
		})
	}
}

// tree prints an expression with every binary and not node parenthesised.
func tree(e Expr) string {
	switch e := e.(type) {
	case *AndExpr:
		return "(" + tree(e.L) + " and " + tree(e.R) + ")"
	case *OrExpr:
		return "(" + tree(e.L) + " or " + tree(e.R) + ")"
	case *NotExpr:
		return "(not " + tree(e.X) + ")"
	}
	return e.String()
}

func TestConditionOffsets(t *testing.T) {
	e, err := ParseCondition("sel and not (f1 or 1 of g*)")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(e, func(x Expr) bool {
		got = append(got, x.String()+"@"+strconv.Itoa(x.Offset()))
		return true
	})
	want := "sel and not (f1 or 1 of g*)@0|sel@0|not (f1 or 1 of g*)@8|f1 or 1 of g*@13|f1@13|1 of g*@19"
	if strings.Join(got, "|") != want {
		t.Errorf("offsets\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

var conditionErrorTests = []struct {
	in    string
	off   int
	msg   string
	cause error
}{
	{"", 0, "unexpected end of condition in condition, expected identifier, '1 of', 'all of', 'not' or '('", ErrCondition},
	{"a and", 5, "unexpected end of condition in condition, expected identifier", ErrCondition},
	{"a b", 2, `unexpected identifier "b" in condition, expected 'and', 'or' or end of condition`, ErrCondition},
	{"(a or b", 7, "unexpected end of condition in parenthesised expression, expected ')'", ErrCondition},
	{"a or b)", 6, "unexpected ')' in condition, expected 'and', 'or' or end of condition", ErrCondition},
	{"2 of sel*", 0, `unsupported quantifier "2": only '1 of' and 'all of' exist`, ErrCondition},
	{"1 sel", 2, `unexpected identifier "sel" in '1 of' expression, expected 'of'`, ErrCondition},
	{"all of", 6, "unexpected end of condition in 'all of' expression, expected pattern or 'them'", ErrCondition},
	{"all of (a)", 7, "unexpected '(' in 'all of' expression, expected pattern or 'them'", ErrCondition},
	{"not", 3, "unexpected end of condition", ErrCondition},
	{"a and or b", 6, "unexpected 'or' in condition", ErrCondition},
	{"sel | count() by src > 5", 4, "v1 aggregation '| count()' is unsupported since Sigma 2 (use a correlation rule)", ErrUnsupportedV1},
	{"sel1 | near sel2", 5, "v1 aggregation '| near' is unsupported since Sigma 2", ErrUnsupportedV1},
	{"a near b", 2, "v1 aggregation 'near' is unsupported since Sigma 2", ErrUnsupportedV1},
	{"them", 0, "unexpected 'them' in condition", ErrCondition},
	{"a and \xff", 6, "invalid UTF-8 in condition", ErrCondition},
}

func TestParseConditionErrors(t *testing.T) {
	for _, tt := range conditionErrorTests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseCondition(tt.in)
			var ce *ConditionError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseCondition(%q) = %v, want a *ConditionError", tt.in, err)
			}
			if ce.Offset != tt.off || !strings.HasPrefix(ce.Msg, tt.msg) {
				t.Errorf("error = %d %q, want %d %q", ce.Offset, ce.Msg, tt.off, tt.msg)
			}
			if ce.Offset < 0 || ce.Offset > len(tt.in) {
				t.Errorf("offset %d outside the input", ce.Offset)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("cause = %v, want %v", ce.Err, tt.cause)
			}
		})
	}
}

func TestConditionDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", MaxConditionDepth+1) + "a" + strings.Repeat(")", MaxConditionDepth+1)
	_, err := ParseCondition(deep)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("depth %d: err = %v, want ErrLimit", MaxConditionDepth+1, err)
	}
	var ce *ConditionError
	errors.As(err, &ce)
	if ce.Offset != MaxConditionDepth {
		t.Errorf("offset = %d, want %d (the first paren over the limit)", ce.Offset, MaxConditionDepth)
	}
	nots := strings.Repeat("not ", 100000) + "a"
	if _, err := ParseCondition(nots); !errors.Is(err, ErrLimit) {
		t.Fatalf("100000 nots: err = %v, want ErrLimit", err)
	}
	ok := strings.Repeat("(", MaxConditionDepth-1) + "a" + strings.Repeat(")", MaxConditionDepth-1)
	if _, err := ParseCondition(ok); err != nil {
		t.Fatalf("depth %d: %v", MaxConditionDepth-1, err)
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"sel*", "sel", true}, {"sel*", "selection_1", true}, {"sel*", "xsel", false},
		{"*_img", "sel_img", true}, {"*_img", "sel_img2", false}, {"a*b*c", "abc", true},
		{"a*b*c", "ac", false}, {"*", "x", true}, {"sel", "sel", true}, {"sel", "sel2", false},
		{"x*x", "x", false}, {"*b*b", "abb", true}, {"*b*b", "ab", false},
	}
	for _, tt := range tests {
		if got := matchPattern(tt.pat, tt.name); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestConditionLongChain(t *testing.T) {
	// 200 000 terms: parsing and printing stay linear.
	terms := make([]string, 200000)
	for i := range terms {
		terms[i] = "s" + strconv.Itoa(i%7)
	}
	src := strings.Join(terms, " and ")
	start := time.Now()
	e, err := ParseCondition(src)
	if err != nil {
		t.Fatal(err)
	}
	if out := e.String(); out != src {
		t.Errorf("long chain does not print back unchanged")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("parse+print of %d bytes took %v", len(src), d)
	}
}
