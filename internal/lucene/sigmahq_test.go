package lucene

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

// TestSigmaHQCorrectMode converts every SigmaHQ rule in the default
// (correct) mode with each built-in pipeline and checks that each query is
// well-formed query_string syntax with no unbound term, and that the only
// rules refused are those using what Lucene cannot express.
func TestSigmaHQCorrectMode(t *testing.T) {
	root := testutil.SharedDir(t, "sigma")
	dirs, _ := filepath.Glob(filepath.Join(root, "rules*"))
	c, _ := sigma.Load(dirs...)
	if len(c.Rules) < 3700 {
		t.Fatalf("loaded %d rules, want the ~3,780 of SigmaHQ", len(c.Rules))
	}
	// Placeholder values so that rules-placeholder converts too.
	ph := map[string][]string{}
	for _, r := range c.Rules {
		for _, s := range r.Detection.Searches {
			for _, g := range s.Groups {
				for _, it := range g.Items {
					for _, v := range it.Values {
						if p, ok := v.(sigma.Placeholder); ok {
							ph[p.Name] = []string{"x1", "x2"}
						}
					}
				}
			}
		}
	}
	for _, spec := range []string{"none", "ecs_linux,ecs_event_kind", "ecs_windows"} {
		p, err := pipeline.Resolve(spec)
		if err != nil {
			t.Fatal(err)
		}
		p = pipeline.WithPlaceholders(p, ph)
		var ok, refused int
		for _, r := range c.Rules {
			r2, err := p.Apply(r)
			if err != nil {
				t.Errorf("%s: pipeline %s: %v", r.Path, spec, err)
				continue
			}
			qs, err := Convert(r2, Options{})
			if err != nil {
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("%s: %v", r.Path, err)
				}
				refused++
				continue
			}
			for _, q := range qs {
				if err := checkQuery(q, false); err != nil {
					t.Errorf("%s: query does not parse: %v\n%.300s", r.Path, err, q)
				}
			}
			ok++
		}
		t.Logf("correct mode, pipeline %s: %d rules converted, %d refused (fieldref, \\b)", spec, ok, refused)
		if refused > 10 {
			t.Errorf("%d rules refused, want <= 10", refused)
		}
	}
}

// TestCompatQueriesParse checks pySigma's own rendering with the same
// grammar (bare keyword terms allowed): a sanity check of the checker.
func TestCompatQueriesParse(t *testing.T) {
	for _, q := range []string{`a:1 AND (NOT (b:(x OR y*)))`, `*foo\ bar* OR 42`, `_exists_:f AND NOT _exists_:g`} {
		if err := checkQuery(q, true); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	for _, q := range []string{`a:1 AND`, `(a:1`, `a:(x y)`, `a:1 b:2 c`} {
		if err := checkQuery(q, false); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}
