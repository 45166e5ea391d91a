package opensearch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/testutil"
)

// TestIngestSurvivesServerRestart starts a second, private node with
// scripts/opensearch.sh (port 9250, so the shared test node is not
// disturbed), stops it right after the first bulk request of a load was
// acknowledged, starts it again with its data, and checks that the load
// completes with every document indexed exactly once. It runs in CI and
// when RANGEHUNT_TEST_RESTART=1 (it costs two node start-ups).
func TestIngestSurvivesServerRestart(t *testing.T) {
	if !testutil.InCI() && os.Getenv("RANGEHUNT_TEST_RESTART") != "1" {
		t.Skip("starts a second OpenSearch node; set RANGEHUNT_TEST_RESTART=1 to run it outside CI")
	}
	testutil.RequireTool(t, "java")
	script := filepath.Join(testutil.Root(t), "scripts", "opensearch.sh")
	const port = "9250"
	node := func(action string, keep bool) error {
		cmd := exec.Command(script, action)
		keepData := "0"
		if keep {
			keepData = "1"
		}
		cmd.Env = append(os.Environ(), "OPENSEARCH_PORT="+port, "OPENSEARCH_HEAP=512m",
			"OPENSEARCH_BASE=/var/tmp/rangehunt-opensearch-restart", "OPENSEARCH_KEEP_DATA="+keepData)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("opensearch.sh %s: %v\n%s", action, err, out)
		}
		t.Logf("opensearch.sh %s: %s", action, out)
		return nil
	}
	if err := node("start", false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node("stop", false) })
	c, err := New(Config{URL: "http://127.0.0.1:" + port, MaxRetries: 200, RetryBase: 100 * time.Millisecond, RetryMax: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	path := writeEvents(t, t.TempDir(), 30000, false)
	index := "rh-test-restart"
	var once sync.Once
	restarted := make(chan error, 1)
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{
		Index: index, BatchDocs: 1000, Workers: 2,
		OnProgress: func(int) {
			once.Do(func() {
				// Stop the node while the load is under way (this worker
				// waits; the other one's requests fail meanwhile), then
				// start it again in the background.
				if err := node("stop", false); err != nil {
					restarted <- err
					return
				}
				go func() { restarted <- node("start", true) }()
			})
		},
	}})
	if rerr := <-restarted; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("load across the restart: %v (stats %+v)", err, st)
	}
	if st.Indexed() != 30000 || st.Failed != 0 || st.Count != 30000 {
		t.Errorf("stats %+v; want all 30000 indexed and counted once", st)
	}
	if c.Retries() == 0 {
		t.Error("no request was retried: the restart did not happen during the load")
	}
	t.Logf("restart during load: %d requests retried, %d documents re-sent, %d created, %d replaced", c.Retries(), st.ItemRetries, st.Created, st.Updated)
}
