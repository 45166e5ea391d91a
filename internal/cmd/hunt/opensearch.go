package hunt

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/opensearch"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

func init() { backends["opensearch"] = newOpenSearchBackend }

// newOpenSearchBackend builds the OpenSearch backend from --url, --index,
// --since and --until. The URL defaults to $OPENSEARCH_URL, the config
// file (~/.config/rangehunt/opensearch.yaml) or http://127.0.0.1:9200;
// credentials come only from the environment or the config file (see
// docs/opensearch.md).
func newOpenSearchBackend(o *Options) (hunt.Backend, error) {
	if o.Index == "" {
		return nil, cmdutil.FlagErrorf("--index is required with --backend opensearch")
	}
	if len(o.Logs) > 0 {
		return nil, cmdutil.FlagErrorf("--logs is for --backend file; load files with \"rangehunt opensearch ingest\"")
	}
	since, err := opensearch.ParseTime(o.Since)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--since: %v", err)
	}
	until, err := opensearch.ParseTime(o.Until)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return nil, cmdutil.FlagErrorf("--since %s is not before --until %s", o.Since, o.Until)
	}
	c, err := opensearch.Connect(o.Config, o.URL, o.Insecure, o.IO.ErrOut)
	if err != nil {
		return nil, err
	}
	b := &opensearch.HuntBackend{Client: c, Index: o.Index, Since: since, Until: until, Warn: o.IO.ErrOut}
	if o.Progress != nil {
		p := o.Progress
		b.Progress = func(n int64) { p.Add(n) }
	}
	if o.Tag {
		return &taggingBackend{HuntBackend: b, log: o.IO.ErrOut}, nil
	}
	return b, nil
}

// taggingBackend runs the OpenSearch hunt and then writes every match's
// labels back onto the matched documents (--tag).
type taggingBackend struct {
	*opensearch.HuntBackend
	log io.Writer
}

// Run implements hunt.Backend.
func (b *taggingBackend) Run(ctx context.Context, rules []*sigma.Rule, emit func(hunt.Match) error) (hunt.Stats, error) {
	byIndex := map[string][]opensearch.TagUpdate{}
	st, err := b.HuntBackend.Run(ctx, rules, func(m hunt.Match) error {
		if m.Correlation == nil {
			ix := m.Index
			if ix == "" {
				ix = b.Index
			}
			byIndex[ix] = append(byIndex[ix], TagUpdateOf(m))
		}
		return emit(m)
	})
	if err != nil {
		return st, err
	}
	indices := make([]string, 0, len(byIndex))
	for ix := range byIndex {
		indices = append(indices, ix)
	}
	sort.Strings(indices)
	for _, ix := range indices {
		ts, err := b.Client.Tag(ctx, ix, byIndex[ix])
		if err != nil {
			return st, fmt.Errorf("tagging %s: %w", ix, err)
		}
		fmt.Fprintf(b.log, "tagged %s: %d documents, %d updated, %d already tagged, %d missing, %d refused\n",
			ix, ts.Documents, ts.Updated, ts.Unchanged, ts.Missing, ts.Failed)
		if ts.Failed > 0 {
			return st, fmt.Errorf("tagging %s: the server refused %d updates", ix, ts.Failed)
		}
	}
	return st, nil
}

// TagUpdateOf returns the labels --tag writes for a match (the document
// named by its id, else by the file and line recorded at ingest): the rule's own
// tags plus "rangehunt.rule.<id>", and the ATT&CK technique and tactic of
// its attack.* tags in ECS threat.* form (attack.t1059.004 → T1059.004,
// attack.discovery → TA0007 "Discovery").
func TagUpdateOf(m hunt.Match) opensearch.TagUpdate {
	u := opensearch.TagUpdate{ID: m.DocID, File: m.File, Line: m.Line, Tags: append([]string{"rangehunt.rule." + m.Rule.ID}, m.Rule.Tags...)}
	for _, t := range m.Rule.Tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "attack.")
		if !ok {
			continue
		}
		if id := strings.ToUpper(name); scenario.ValidTechniqueID(id) {
			u.TechniqueIDs = append(u.TechniqueIDs, id)
			continue
		}
		if tc, ok := scenario.TacticByName(name); ok {
			u.TacticIDs = append(u.TacticIDs, tc.ID)
			u.TacticNames = append(u.TacticNames, tc.Name)
		}
	}
	return u
}
