// Package sigmahq gives tests the SigmaHQ rules of ../shared/sigma. It is
// a package of its own (not part of testutil) because it imports the Sigma
// parser, whose own tests use testutil.
package sigmahq

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

// Roots returns the rules* folders of ../shared/sigma (rules,
// rules-emerging-threats, ...). Like testutil.SharedDir it skips the test
// when the shared data is absent outside CI; it fails when the folder holds
// no rules* folder.
func Roots(t testing.TB) []string {
	t.Helper()
	dir := testutil.SharedDir(t, "sigma")
	roots, err := filepath.Glob(filepath.Join(dir, "rules*"))
	if err != nil || len(roots) == 0 {
		t.Fatalf("no rules* folders in %s", dir)
	}
	return roots
}

// LinuxRules parses every SigmaHQ rule with logsource.product linux under
// ../shared/sigma/rules* (files that do not parse are left out: the
// parser's own tests cover them). It returns the rules as parsed and as
// mapped by ecs_linux plus the event-kind step, as "rangehunt hunt" does by
// default; a rule the pipeline refuses fails the test.
func LinuxRules(t testing.TB) (orig, mapped []*sigma.Rule) {
	t.Helper()
	roots := Roots(t)
	p, err := pipeline.Resolve("ecs_linux")
	if err != nil {
		t.Fatal(err)
	}
	p = pipeline.WithEventKind(p)
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				return err
			}
			f, errs := sigma.ParseFile(path)
			if errs.Err() != nil {
				return nil
			}
			for _, r := range f.Rules {
				if r.Logsource.Product != "linux" {
					continue
				}
				m, err := p.Apply(r)
				if err != nil {
					t.Errorf("%s: pipeline: %v", path, err)
					continue
				}
				orig = append(orig, r)
				mapped = append(mapped, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return orig, mapped
}
