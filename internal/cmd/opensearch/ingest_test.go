package opensearch

import (
	"github.com/spf13/cobra"

	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/opensearch/opensearchtest"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

func runIngest(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return testutil.RunCommand(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdIngest(f, nil) }, args...)
}

func TestIngestFlags(t *testing.T) {
	_, _, err := runIngest(t, "x.ndjson")
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--index") {
		t.Errorf("missing --index: err = %v, want a usage error", err)
	}
	_, _, err = runIngest(t, "--index", "i", "--workers", "0", "x.ndjson")
	if !errors.As(err, &fe) {
		t.Errorf("--workers 0: err = %v, want a usage error", err)
	}
	// Credentials in the URL are refused, and not echoed.
	_, _, err = runIngest(t, "--index", "i", "--url", "http://admin:s3cr3t@127.0.0.1:1", "x.ndjson")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("URL with credentials: err = %v", err)
	}
}

func TestIngestCommandAgainstServer(t *testing.T) {
	c := opensearchtest.Client(t)
	url := c.Config().URL
	index := "rh-test-cmd-ingest"
	_ = c.DeleteIndex(context.Background(), index)
	t.Cleanup(func() { _ = c.DeleteIndex(context.Background(), index) })
	path := filepath.Join(t.TempDir(), "ev.ndjson")
	data := `{"@timestamp":"2024-05-01T10:00:00Z","process":{"name":"bash"}}
{"@timestamp":"2024-05-01T10:00:01Z","process":{"name":
{"@timestamp":"2024-05-01T10:00:02Z","source":{"ip":"not an ip"}}
{"@timestamp":"2024-05-01T10:00:03Z","process":{"name":"curl"}}
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runIngest(t, "--index", index, "--url", url, path)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Errorf("err = %v; want ErrSilent (one document refused)", err)
	}
	for _, want := range []string{"3 events read from 1 files, 2 indexed (2 new, 0 replaced), 1 refused", "skipped 1 records: truncated"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{path + ":3: document", "mapper_parsing_exception", path + ": line 2"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Again without the bad line: replaced, verified.
	if err := os.WriteFile(path, []byte(strings.Replace(data, "not an ip", "10.0.0.1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runIngest(t, "--index", index, "--url", url, path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 indexed (1 new, 2 replaced), 0 refused") || !strings.Contains(out, "verified: the index holds 3 documents") {
		t.Errorf("second run:\n%s", out)
	}
}
