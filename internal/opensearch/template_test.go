package opensearch

import (
	"context"
	"testing"
)

// TestProvenanceNotInCatchAll: the provenance fields are not part of the
// event, so a keyword search (bound to rangehunt.all) for a line number
// must not match the document read from that line, while a value of the
// event still does.
func TestProvenanceNotInCatchAll(t *testing.T) {
	props := Mappings()["properties"].(map[string]any)[FieldProvenance].(map[string]any)["properties"].(map[string]any)
	for name, m := range props {
		if to, ok := m.(map[string]any)["copy_to"]; ok {
			t.Errorf("%s.%s is copied to %v", FieldProvenance, name, to)
		}
	}

	c := testClient(t)
	index := testIndex(t, c)
	ctx := context.Background()
	const n = 12
	path := writeEvents(t, t.TempDir(), n, false)
	st, err := c.LoadFiles(ctx, []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != n {
		t.Fatalf("count %d, want %d", st.Count, n)
	}
	// No value of these events is "7" (pids start at 1000, ports are 443
	// and above 40000, ids are ev-000007): only rangehunt.line could match.
	if ids := searchIDs(t, c, index, `7`); len(ids) != 0 {
		t.Errorf("keyword search 7 matched %d documents (the provenance line number leaks into %s)", len(ids), FieldAll)
	}
	if ids := searchIDs(t, c, index, `443`); len(ids) != n { // destination.port of every event
		t.Errorf("keyword search 443 matched %d documents, want %d", len(ids), n)
	}
	if ids := searchIDs(t, c, index, `1007`); len(ids) != 1 { // process.pid of the 8th event
		t.Errorf("keyword search 1007 matched %d documents, want 1", len(ids))
	}
}
