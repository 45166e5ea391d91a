package simulate

import (
	"context"
	"testing"
)

func TestRunSmoke(t *testing.T) {
	dir := t.TempDir()
	if d := testOut(); d != "" {
		dir = d
	}
	st, err := Run(context.Background(), DirSink(dir), Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", st)
}
