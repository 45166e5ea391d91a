package opensearch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/sigma"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
	"github.com/rangehunt/rangehunt/internal/testutil"
	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

// lineSets runs rules through a backend and returns, per rule index, the
// sorted lines of the events it matched (and the run's stats).
func lineSets(t *testing.T, b hunt.Backend, rules []*sigma.Rule) (map[int][]string, hunt.Stats) {
	t.Helper()
	idx := map[*sigma.Rule]int{}
	for i, r := range rules {
		idx[r] = i
	}
	out := map[int][]string{}
	st, err := b.Run(context.Background(), rules, func(m hunt.Match) error {
		i, ok := idx[m.Source]
		if !ok {
			return fmt.Errorf("match for an unknown rule %s", m.Rule.ID)
		}
		out[i] = append(out[i], fmt.Sprintf("%s:%06d", filepath.Base(m.File), m.Line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out, st
}

func ruleErrorSet(st hunt.Stats) map[string]string {
	out := map[string]string{}
	for _, e := range st.RuleErrors {
		out[e] = e
	}
	return out
}

// knownDisagreements are rules whose OpenSearch hits differ from the
// evaluator's for a diagnosed reason outside this package, by file name.
// Each is logged, not failed; a listed rule that agrees again is logged too.
var knownDisagreements = map[string]string{
	// None: lnx_auditd_hidden_files_directories.yml disagreed until the
	// converter wrote the empty regex alternative of (?:^|/) as "()".
}

// TestSemanticSigmaHQLinux indexes the events synthesized from every
// SigmaHQ Linux rule (positives and near misses, all rules' events in one
// index) and checks that, for every rule the converter handles, the hits of
// OpenSearch (through the Lucene conversion) are exactly the events the
// embedded evaluator matches, over the whole corpus.
func TestSemanticSigmaHQLinux(t *testing.T) {
	c := testClient(t)
	_, rules := sigmahq.LinuxRules(t)
	if len(rules) < 200 {
		t.Fatalf("only %d SigmaHQ Linux rules found", len(rules))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "synth.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var nPos, nNeg, synthErr int
	for _, r := range rules {
		pos, neg, err := match.SynthesizeEvents(r)
		if err != nil {
			synthErr++
			continue
		}
		for _, ev := range pos {
			w.Write(ev)
			w.WriteByte('\n')
		}
		for _, ev := range neg {
			w.Write(ev)
			w.WriteByte('\n')
		}
		nPos += len(pos)
		nNeg += len(neg)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	index := testIndex(t, c)
	st, err := c.LoadFiles(context.Background(), []string{path}, LoadOptions{IngestOptions: IngestOptions{Index: index}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed != 0 || st.Indexed() != int64(nPos+nNeg) {
		t.Fatalf("ingest: %+v; want all %d synthesized events indexed", st, nPos+nNeg)
	}
	fileSets, fst := lineSets(t, &hunt.FileBackend{Files: []string{path}, Workers: 1}, rules)
	osSets, ost := lineSets(t, &HuntBackend{Client: c, Index: index}, rules)
	if fst.Events != ost.Events {
		t.Errorf("events: file backend read %d, OpenSearch holds %d", fst.Events, ost.Events)
	}
	fileErr, osErr := ruleErrorSet(fst), ruleErrorSet(ost)
	agree, disagree, notConverted := 0, 0, 0
	for i, r := range rules {
		name := r.Path + " (" + r.Meta.Title + ")"
		failedOS := false
		for e := range osErr {
			if strings.HasPrefix(e, r.Path+": rule ") {
				failedOS = true
			}
		}
		failedFile := false
		for e := range fileErr {
			if strings.Contains(e, r.Path) {
				failedFile = true
			}
		}
		switch {
		case failedFile:
			continue
		case failedOS:
			notConverted++
			continue
		}
		a, b := fileSets[i], osSets[i]
		known := knownDisagreements[filepath.Base(r.Path)]
		if fmt.Sprint(a) == fmt.Sprint(b) {
			agree++
			if known != "" {
				t.Logf("%s now agrees: remove it from knownDisagreements", name)
			}
			continue
		}
		disagree++
		if known != "" {
			t.Logf("%s: known disagreement (%s): evaluator %v, OpenSearch %v", name, known, a, b)
			continue
		}
		t.Errorf("%s: evaluator matches %v, OpenSearch returns %v", name, a, b)
	}
	for e := range osErr {
		t.Logf("not run on OpenSearch: %s", e)
	}
	t.Logf("SigmaHQ Linux: %d rules, %d synthesized events (%d positive, %d near misses; %d rules without events); "+
		"OpenSearch and the evaluator agree event for event on %d rules, disagree on %d, %d rules not convertible to Lucene",
		len(rules), nPos+nNeg, nPos, nNeg, synthErr, agree, disagree, notConverted)
	if agree < len(rules)*98/100 {
		t.Errorf("agreement on %d of %d rules; want at least 98 %%", agree, len(rules))
	}
}

type connectCase struct {
	Source       string           `json:"source"`
	RuleYAML     string           `json:"rule_yaml"`
	Pipeline     *string          `json:"pipeline"`
	ExpectedHits int              `json:"expected_hits"`
	IndexMapping map[string]any   `json:"index_mapping"`
	Documents    []map[string]any `json:"documents"`
}

// TestSemanticConnectCases runs the 29 live-cluster cases of the pySigma
// OpenSearch/Elasticsearch backends. Every case's documents go into one
// index (rangehunt's template; the cases' ip fields keep type ip), one
// file per case, and every case's rule runs over all of them: the
// OpenSearch hits must equal the evaluator's matches. How often the hits
// within the case's own documents have the count the case expects is
// reported.
func TestSemanticConnectCases(t *testing.T) {
	c := testClient(t)
	dir := testutil.SharedDir(t, "oracle")
	data, err := os.ReadFile(filepath.Join(dir, "pysigma", "backend-connect-cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tmp := t.TempDir()
	body := IndexBody()
	props := body["mappings"].(map[string]any)["properties"].(map[string]any)
	var rules []*sigma.Rule
	var names, files []string
	var want []int
	for n, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var cc connectCase
		if err := json.Unmarshal([]byte(line), &cc); err != nil {
			t.Fatalf("case %d: %v", n+1, err)
		}
		name := fmt.Sprintf("case %d %s", n+1, cc.Source[strings.LastIndex(cc.Source, "::")+2:])
		f, errs := sigma.Parse(name+".yml", []byte(cc.RuleYAML))
		if errs.Err() != nil || len(f.Rules) != 1 {
			t.Errorf("%s: parse: %v", name, errs.Err())
			continue
		}
		spec := "none"
		if cc.Pipeline != nil {
			spec = *cc.Pipeline
		}
		p, err := pipeline.Resolve(spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rule, err := p.Apply(f.Rules[0])
		if err != nil {
			t.Errorf("%s: pipeline: %v", name, err)
			continue
		}
		if cp, ok := cc.IndexMapping["properties"].(map[string]any); ok {
			for k, v := range cp {
				if m, ok := v.(map[string]any); ok && m["type"] == "ip" {
					props[k] = map[string]any{"type": "ip"}
				}
			}
		}
		path := filepath.Join(tmp, fmt.Sprintf("case-%02d.ndjson", n+1))
		var sb strings.Builder
		for _, d := range cc.Documents {
			db, _ := json.Marshal(d)
			sb.Write(db)
			sb.WriteByte('\n')
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		rules = append(rules, rule)
		names = append(names, name)
		files = append(files, path)
		want = append(want, cc.ExpectedHits)
	}
	index := testIndex(t, c)
	b, _ := json.Marshal(body)
	if _, err := c.request(ctx, "PUT", "/"+index, nil, b); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadFiles(ctx, files, LoadOptions{IngestOptions: IngestOptions{Index: index}}); err != nil {
		t.Fatal(err)
	}
	fs, fst := lineSets(t, &hunt.FileBackend{Files: files, Workers: 1}, rules)
	os, ost := lineSets(t, &HuntBackend{Client: c, Index: index}, rules)
	if len(fst.RuleErrors)+len(ost.RuleErrors) > 0 {
		t.Errorf("rule errors: file %v, opensearch %v", fst.RuleErrors, ost.RuleErrors)
	}
	agree, expected := 0, 0
	for i, name := range names {
		if fmt.Sprint(fs[i]) != fmt.Sprint(os[i]) {
			t.Errorf("%s: evaluator matches %v, OpenSearch returns %v", name, fs[i], os[i])
		} else {
			agree++
		}
		own := 0
		for _, k := range os[i] {
			if strings.HasPrefix(k, filepath.Base(files[i])+":") {
				own++
			}
		}
		if own == want[i] {
			expected++
		} else {
			t.Logf("%s: %d hits in its documents, the pySigma case expects %d", name, own, want[i])
		}
	}
	t.Logf("connect cases: OpenSearch = evaluator on %d/%d rules over all %d cases' documents; hit count as the pySigma case expects on %d/%d",
		agree, len(rules), len(rules), expected, len(rules))
}
