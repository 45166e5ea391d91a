package sigma

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// billionLaughs builds a YAML alias bomb: 9 levels of 9 references, 9^9
// (387 million) strings if expanded.
func billionLaughs(use string) string {
	var b strings.Builder
	b.WriteString("title: lol\nlogsource:\n    product: linux\n")
	b.WriteString(`l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i <= 8; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ",")
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, refs)
	}
	b.WriteString(use)
	return b.String()
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  string
		cause error
	}{
		{"alias bomb as values", billionLaughs("detection:\n    sel:\n        F: *l8\n    condition: sel\n"),
			"t.yml:15:12: document contains excessive aliasing", ErrLimit},
		{"alias bomb as search", billionLaughs("detection:\n    sel: *l8\n    condition: sel\n"),
			"t.yml:14:10: document contains excessive aliasing", ErrLimit},
		{"alias bomb as detection", billionLaughs("detection: *l8\n"),
			"t.yml:13:12: document contains excessive aliasing", ErrLimit},
		{"deep condition", rule("    sel:\n        F: x\n    condition: " + strings.Repeat("(", 5000) + "sel" + strings.Repeat(")", 5000) + "\n"),
			fmt.Sprintf("t.yml:10:%d: condition nested too deeply (more than 1000 levels)", 16+MaxConditionDepth), ErrLimit},
		{"deep not", rule("    sel:\n        F: x\n    condition: " + strings.Repeat("not ", 100000) + "sel\n"),
			fmt.Sprintf("t.yml:10:%d: condition nested too deeply", 16+4*MaxConditionDepth), ErrLimit},
		{"deep yaml", "title: x\ndetection: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n",
			"malformed YAML", ErrYAML},
		{"huge file", "title: x\ndescription: " + strings.Repeat("a", MaxFileSize) + "\n",
			fmt.Sprintf("t.yml: file is %d bytes, larger than the %d-byte limit", MaxFileSize+23, MaxFileSize), ErrLimit},
		{"unknown alias", "title: x\ndetection: *nope\n", "t.yml:2:12: malformed YAML: unknown anchor 'nope' referenced", ErrYAML},
		{"tab indentation", "title: x\n\tid: y\n", "t.yml:2: malformed YAML: found a tab character that violates indentation", ErrYAML},
		{"truncated quoted", "title: 'x\n", "t.yml:2: malformed YAML: found unexpected end of stream", ErrYAML},
		{"merge key", rule("    base: &b\n        F: x\n    sel:\n        <<: *b\n        G: y\n    condition: sel and base\n"),
			"t.yml:11:9: search \"sel\": YAML merge keys (<<) are not supported", ErrParse},
		{"condition map", rule("    sel:\n        F: x\n    condition:\n        a: b\n"),
			"t.yml:11:9: condition must be a string or a list of strings, not a map", ErrCondition},
		{"binary garbage", "\x00\x01\x02title", "malformed YAML", ErrYAML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, errs := Parse("t.yml", []byte(tt.src))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			es := errs.Errors()
			if len(es) == 0 {
				t.Fatalf("no error, want %q", tt.want)
			}
			found := false
			for _, e := range es {
				if strings.HasPrefix(e.Error(), tt.want) || (!strings.HasPrefix(tt.want, "t.yml") && strings.Contains(e.Error(), tt.want)) {
					found = true
					if !errors.Is(e, tt.cause) {
						t.Errorf("%v: cause %v, want %v", e, e.Err, tt.cause)
					}
				}
			}
			if !found {
				t.Errorf("errors %v, want %q", errs, tt.want)
			}
			for _, e := range es {
				if errors.Is(e, ErrInternal) {
					t.Errorf("internal error (recovered panic): %v", e)
				}
			}
		})
	}
}

func TestParseFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(p, []byte("title: x\ndescription: "+strings.Repeat("a", 2*MaxFileSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs := ParseFile(p)
	if err := errs.Err(); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "larger than the 4194304-byte limit") {
		t.Errorf("err = %v", err)
	}
}

func TestParseFileMissing(t *testing.T) {
	_, errs := ParseFile("testdata/nope.yml")
	if errs.Err() == nil || errs.Error() != "testdata/nope.yml: open: no such file or directory" {
		t.Errorf("errs = %v", errs)
	}
}

// TestManyDocuments: a file of many small broken documents stops at the
// document limit, quickly (error bookkeeping stays linear).
func TestManyDocuments(t *testing.T) {
	src := strings.Repeat("---\na: 1\n", 2*MaxDocuments)
	start := time.Now()
	_, errs := Parse("t.yml", []byte(src))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	last := errs.Errors()[len(errs.Errors())-1]
	if want := fmt.Sprintf("t.yml:%d:1: more than %d YAML documents in one file", 2*MaxDocuments+1, MaxDocuments); last.Error() != want || !errors.Is(last, ErrLimit) {
		t.Errorf("last error %q, want %q", last, want)
	}
	if n := len(errs.Errors()); n != 2*MaxDocuments+1 {
		t.Errorf("%d errors, want 2 per document (no logsource, no detection) + 1", n)
	}
}
