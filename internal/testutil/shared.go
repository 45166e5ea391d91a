// Package testutil holds helpers shared by the project's tests.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository root (the folder holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// InCI reports whether the tests run in CI (CI=true), where nothing that
// the project's scripts provide may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" || os.Getenv("CI") == "1" }

// SharedDir returns the path of ../shared/<sub> beside the repository. A
// user's clone has no shared folder: the test is skipped with a clear
// message, except in CI, where a missing folder fails the test.
func SharedDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join(Root(t), "..", "shared", sub)
	if env := os.Getenv("RANGEHUNT_SHARED"); env != "" {
		dir = filepath.Join(env, sub)
	}
	if _, err := os.Stat(dir); err != nil {
		if InCI() {
			t.Fatalf("shared data %s is missing (CI=true, so this is a failure): %v", dir, err)
		}
		t.Skipf("shared data %s is absent (it ships only with the project's workspace); skipping", dir)
	}
	return dir
}

// RequireTool returns the path of an external program such as tshark. It
// skips the test when the program is missing, except in CI, where the
// project's scripts install it and its absence is a failure.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := lookPath(name)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is not installed (CI=true; scripts/deps.sh should install it)", name)
		}
		t.Skipf("%s is not installed; run scripts/deps.sh", name)
	}
	return p
}
