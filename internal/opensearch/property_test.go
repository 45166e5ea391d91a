package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/lucene"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// randomValue draws a string full of Lucene syntax: operators, brackets,
// quotes, wildcards, escapes, spaces, boolean words and leading range
// signs, with some letters and non-ASCII text.
func randomValue(rng *rand.Rand) string {
	pieces := []string{
		"+", "-", "&&", "||", "!", "(", ")", "{", "}", "[", "]", "^", `"`, "~", "*", "?", ":", `\`, "/",
		" ", " ", "AND", "OR", "NOT", "TO", "a", "B", "cmd", "x", "1", "=", "<", ">", "é", "日本", "\t", "'", "%", "$", "#", "@", ".",
	}
	var b strings.Builder
	if rng.IntN(6) == 0 {
		b.WriteString([]string{"<", ">", "<=", ">="}[rng.IntN(4)])
	}
	for n := 1 + rng.IntN(8); n > 0; n-- {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func itemRule(field string, v sigma.Value) *sigma.Rule {
	return &sigma.Rule{
		Meta: sigma.Meta{Title: "property"},
		Detection: &sigma.Detection{
			Searches:   []*sigma.Search{{Name: "sel", Groups: []*sigma.Group{{Items: []*sigma.Item{{Field: field, Values: []sigma.Value{v}}}}}}},
			Conditions: []*sigma.Condition{{Source: "sel", Expr: &sigma.IdentExpr{Name: "sel"}}},
		},
	}
}

// searchLines runs a query_string and returns the sorted lines of the hits
// (fewer than 1000 expected).
func searchLines(t *testing.T, c *Client, index, q string) ([]int64, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"size": 1000, "_source": []string{FieldLine},
		"query": map[string]any{"query_string": map[string]any{"query": q, "fields": DefaultFields}},
	})
	data, err := c.request(context.Background(), http.MethodPost, "/"+index+"/_search", nil, body)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Hits struct {
			Hits []struct {
				Source struct {
					R struct {
						Line int64 `json:"line"`
					} `json:"rangehunt"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, err
	}
	var out []int64
	for _, h := range resp.Hits.Hits {
		out = append(out, h.Source.R.Line)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// TestPropertyValuesNeverChangeQueryStructure indexes random strings full
// of Lucene syntax as field values, converts Sigma equality, contains and
// cased equality items on them through internal/lucene, and checks that
// OpenSearch returns exactly the documents whose value equals (contains)
// the string: no value can change the structure of the query.
func TestPropertyValuesNeverChangeQueryStructure(t *testing.T) {
	c := testClient(t)
	rng := rand.New(rand.NewPCG(42, 7))
	const n = 150
	values := make([]string, n)
	seen := map[string]bool{}
	for i := range values {
		v := randomValue(rng)
		for seen[v] || strings.TrimSpace(v) == "" {
			v = randomValue(rng)
		}
		seen[v] = true
		values[i] = v
	}
	path := filepath.Join(t.TempDir(), "values.ndjson")
	var sb strings.Builder
	for i, v := range values {
		b, _ := json.Marshal(map[string]any{"@timestamp": "2024-05-01T10:00:00Z", "event": map[string]any{"id": fmt.Sprint(i)}, "process": map[string]any{"command_line": v}})
		sb.Write(b)
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	index := testIndex(t, c)
	if _, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	lit := func(s string) sigma.Token { return sigma.Token{Kind: sigma.Literal, Text: s} }
	star := sigma.Token{Kind: sigma.AnyChars}
	checks, failures := 0, 0
	for i, v := range values {
		lv := strings.ToLower(v)
		for _, kind := range []string{"equals", "contains", "cased"} {
			var val sigma.String
			want := []int64{}
			for j, w := range values {
				lw := strings.ToLower(w)
				ok := false
				switch kind {
				case "equals":
					val = sigma.String{Tokens: []sigma.Token{lit(v)}}
					ok = lw == lv
				case "contains":
					val = sigma.String{Tokens: []sigma.Token{star, lit(v), star}}
					ok = strings.Contains(lw, lv)
				case "cased":
					val = sigma.String{Tokens: []sigma.Token{lit(v)}, Cased: true}
					ok = w == v
				}
				if ok {
					want = append(want, int64(j+1))
				}
			}
			qs, err := lucene.Convert(itemRule("process.command_line", val), lucene.Options{KeywordFields: DefaultFields})
			if err != nil {
				t.Errorf("value %d %q (%s): conversion: %v", i, v, kind, err)
				failures++
				continue
			}
			got, err := searchLines(t, c, index, qs[0])
			checks++
			if err != nil {
				t.Errorf("value %d %q (%s): query %s: %v", i, v, kind, qs[0], err)
				failures++
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("value %d %q (%s): query %s returns lines %v, want %v", i, v, kind, qs[0], got, want)
				failures++
			}
		}
		if failures > 20 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("%d random values, %d queries, %d wrong", n, checks, failures)
}
