package sigma

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// sigmaHQRuleDirs are the folders of active SigmaHQ rules.
var sigmaHQRuleDirs = []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-placeholder", "rules-compliance"}

// specRejected lists SigmaHQ rules (relative to ../shared/sigma) that the
// Sigma specification itself rejects, with the reason. At SigmaHQ 8eaafff
// it is empty: every active rule is valid Sigma v2.1. (Rules whose regexes
// go beyond the spec's PCRE subset, e.g. \s or (?i), parse with a
// warning: see docs/sigma.md.)
var specRejected = map[string]string{}

func ruleFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// countDocs counts non-empty YAML documents independently of the parser.
func countDocs(t testing.TB, data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("yaml: %v", err)
		}
		if len(doc.Content) > 0 {
			n++
		}
	}
}

// TestParseSigmaHQ parses every active SigmaHQ rule: no errors except the
// ones the spec rejects, and every document becomes a rule.
func TestParseSigmaHQ(t *testing.T) {
	root := testutil.SharedDir(t, "sigma")
	var files, docs, rules, warnings int
	for _, sub := range sigmaHQRuleDirs {
		for _, path := range ruleFiles(t, filepath.Join(root, sub)) {
			rel, _ := filepath.Rel(root, path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files++
			docs += countDocs(t, data)
			f, errs := Parse(rel, data)
			rules += len(f.Rules) + len(f.Correlations) + len(f.Filters)
			warnings += len(errs.Warnings())
			if reason, ok := specRejected[rel]; ok {
				if errs.Err() == nil {
					t.Errorf("%s: parsed, but listed as rejected by the spec (%s)", rel, reason)
				}
				continue
			}
			for _, e := range errs.Errors() {
				t.Errorf("%v", e)
			}
			for _, r := range f.Rules {
				if len(r.Detection.Conditions) == 0 || len(r.Detection.Searches) == 0 {
					t.Errorf("%s: rule without searches or conditions", rel)
				}
			}
		}
	}
	t.Logf("%d files, %d documents, %d rules parsed, %d rejected by the spec, %d warnings", files, docs, rules, len(specRejected), warnings)
	// docs/sigma.md §3 counts 3 780 rules in the five active folders.
	if docs != 3780 {
		t.Errorf("counted %d documents, the inventory says 3780", docs)
	}
	if rules+len(specRejected) != docs {
		t.Errorf("%d documents but %d parsed + %d rejected", docs, rules, len(specRejected))
	}
}

// v1Syntax finds Sigma 1 syntax in a rule file's text: aggregations after
// a pipe, near, timeframe and rule collections.
var v1Syntax = regexp.MustCompile(`(?m)^\s*condition:.*(\|\s*(count|sum|min|max|avg|near)\b|\bnear\b)|^\s+timeframe:|^action:`)

// pseudoSyntax is the never-specified "write ... then if ... -> alert"
// language of a few old SigmaHQ drafts.
var pseudoSyntax = regexp.MustCompile(`(?m)^\s*condition:\s*write\b.*->`)

// TestParseSigmaHQUnsupported checks SigmaHQ's unsupported/ folder: every
// file with v1 syntax gets the "unsupported since Sigma 2" error, with a
// position on a line that holds the v1 syntax; the pseudo-language drafts
// get a condition syntax error; the rest (kept there for back-end reasons,
// not syntax) parse.
func TestParseSigmaHQUnsupported(t *testing.T) {
	root := filepath.Join(testutil.SharedDir(t, "sigma"), "unsupported")
	var docs, v1Files, pseudoFiles, cleanFiles int
	for _, path := range ruleFiles(t, root) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs += countDocs(t, data)
		rel, _ := filepath.Rel(root, path)
		_, errs := Parse(rel, data)
		lines := strings.Split(string(data), "\n")
		switch {
		case v1Syntax.Match(data):
			v1Files++
			var v1 []*Error
			for _, e := range errs.Errors() {
				if errors.Is(e, ErrUnsupportedV1) {
					v1 = append(v1, e)
				}
			}
			if len(v1) == 0 {
				t.Errorf("%s: no 'unsupported since Sigma 2' error; got %v", rel, errs)
				continue
			}
			for _, e := range v1 {
				if e.Pos.Line < 1 || e.Pos.Line > len(lines) || e.Pos.Col < 1 {
					t.Errorf("%v: no position", e)
					continue
				}
				if !strings.Contains(e.Msg, "unsupported since Sigma 2") {
					t.Errorf("%v: message does not say 'unsupported since Sigma 2'", e)
				}
				line := lines[e.Pos.Line-1]
				if !v1Syntax.MatchString(line) && !strings.HasPrefix(e.Msg, "document ") && e.Pos.Col != 1 {
					t.Errorf("%v: points at %q, which holds no v1 syntax", e, line)
				}
			}
		case pseudoSyntax.Match(data):
			pseudoFiles++
			if es := errs.Errors(); len(es) == 0 || !errors.Is(es[0], ErrCondition) || es[0].Pos.Line == 0 {
				t.Errorf("%s: want a positioned condition syntax error, got %v", rel, errs)
			}
		default:
			cleanFiles++
			if errs.Err() != nil {
				t.Errorf("%s: no v1 syntax, but: %v", rel, errs)
			}
		}
	}
	t.Logf("unsupported/: %d documents; %d files with v1 syntax, %d pseudo-language drafts, %d valid v2 files", docs, v1Files, pseudoFiles, cleanFiles)
	if docs != 92 {
		t.Errorf("counted %d documents in unsupported/, the inventory says 92", docs)
	}
	if v1Files == 0 || pseudoFiles == 0 {
		t.Errorf("classification found no v1 files (%d) or no pseudo drafts (%d)", v1Files, pseudoFiles)
	}
}
