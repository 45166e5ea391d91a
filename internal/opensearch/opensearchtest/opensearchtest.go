// Package opensearchtest gives the command tests a client for the
// project's test OpenSearch node. (The opensearch package's own tests have
// their copy: they cannot import this package.)
package opensearchtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/opensearch"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

// Client returns a client for the server at OPENSEARCH_URL (default
// http://127.0.0.1:9200, started by scripts/opensearch.sh), with the
// credentials of OPENSEARCH_USERNAME, OPENSEARCH_PASSWORD and
// OPENSEARCH_CA_CERT. Outside CI the test is skipped when no server
// answers; in CI that is a failure.
func Client(t testing.TB) *opensearch.Client {
	t.Helper()
	u := os.Getenv(opensearch.EnvURL)
	if u == "" {
		u = opensearch.DefaultURL
	}
	c, err := opensearch.New(opensearch.Config{URL: u, Username: os.Getenv(opensearch.EnvUsername),
		Password: os.Getenv(opensearch.EnvPassword), CACert: os.Getenv(opensearch.EnvCACert)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		if testutil.InCI() {
			t.Fatalf("no OpenSearch reachable at %s (CI=true; scripts/test.sh starts one with scripts/opensearch.sh): %v", u, err)
		}
		t.Skipf("no OpenSearch reachable at %s (start one with scripts/opensearch.sh start): %v", u, err)
	}
	return c
}
