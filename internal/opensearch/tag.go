package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
)

// TagUpdate is the set of labels to add to one document. Tagging only adds:
// values already present are kept, and adding the same labels again
// changes nothing (the document is not even rewritten).
type TagUpdate struct {
	// ID is the document id (the _id of a hit, DocID for ingested events).
	ID string
	// File and Line name the event instead of ID, as a hunt match does
	// (hunt.Match.File/Line): the document is found by the provenance
	// fields written at ingest (rangehunt.file as given to ingest,
	// rangehunt.line). Used only when ID is empty.
	File string
	Line int64
	// Tags are added to the ECS "tags" array.
	Tags []string
	// Labels are set in the ECS "labels" object; an existing key with a
	// different value is overwritten by the new value.
	Labels map[string]string
	// TechniqueIDs and TechniqueNames are added to threat.technique.id and
	// threat.technique.name; TacticIDs and TacticNames to
	// threat.tactic.id and threat.tactic.name.
	TechniqueIDs   []string
	TechniqueNames []string
	TacticIDs      []string
	TacticNames    []string
}

// TagStats are the counters of a Tag call.
type TagStats struct {
	Documents int // distinct documents asked for
	Updated   int // documents rewritten
	Unchanged int // documents that already carried every label
	Missing   int // ids not found in the index
	Failed    int // updates the server refused
}

// stringSet decodes a keyword field that may be a single string or an array.
type stringSet []string

func (s *stringSet) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil // not a keyword array: treated as absent, overwritten
	}
	*s = many
	return nil
}

type tagSource struct {
	Tags   stringSet        `json:"tags"`
	Labels map[string]any   `json:"labels"`
	Threat *tagSourceThreat `json:"threat"`
}

type tagSourceThreat struct {
	Technique struct {
		ID   stringSet `json:"id"`
		Name stringSet `json:"name"`
	} `json:"technique"`
	Tactic struct {
		ID   stringSet `json:"id"`
		Name stringSet `json:"name"`
	} `json:"tactic"`
}

// merge adds add to have, returning the sorted union and whether it grew.
func merge(have, add []string) ([]string, bool) {
	set := map[string]bool{}
	for _, v := range have {
		set[v] = true
	}
	grew := false
	for _, v := range add {
		if v != "" && !set[v] {
			set[v] = true
			grew = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	// Rewriting an unsorted or duplicated existing array is not a change
	// worth a write; only growth is.
	return out, grew
}

// Tag adds labels to documents of index with bulk partial updates
// (action "update" with a partial "doc"; no scripts, so it works on the
// integ-test distribution that has no painless). It reads the current
// tags, labels and threat fields with _mget, merges the sets client-side
// (sorted, without duplicates) and writes only documents that change, so
// running it twice leaves the index as after the first run.
func (c *Client) Tag(ctx context.Context, index string, updates []TagUpdate) (TagStats, error) {
	var st TagStats
	if err := checkIndexName(index); err != nil {
		return st, err
	}
	// Merge updates per document, in a stable order.
	byID := map[string]*TagUpdate{}
	var ids []string
	resolved, unresolved, err := c.resolveRefs(ctx, index, updates)
	if err != nil {
		return st, err
	}
	st.Missing += unresolved
	for _, u := range updates {
		if u.ID == "" {
			if u.File == "" {
				return st, fmt.Errorf("tag update with neither a document id nor a file and line")
			}
			id, ok := resolved[fileLine{u.File, u.Line}]
			if !ok {
				continue
			}
			u.ID = id
		}
		m, ok := byID[u.ID]
		if !ok {
			m = &TagUpdate{ID: u.ID, Labels: map[string]string{}}
			byID[u.ID] = m
			ids = append(ids, u.ID)
		}
		m.Tags = append(m.Tags, u.Tags...)
		m.TechniqueIDs = append(m.TechniqueIDs, u.TechniqueIDs...)
		m.TechniqueNames = append(m.TechniqueNames, u.TechniqueNames...)
		m.TacticIDs = append(m.TacticIDs, u.TacticIDs...)
		m.TacticNames = append(m.TacticNames, u.TacticNames...)
		for k, v := range u.Labels {
			m.Labels[k] = v
		}
	}
	sort.Strings(ids)
	st.Documents = len(ids) + unresolved
	const chunk = 1000
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		cur, err := c.mget(ctx, index, part)
		if err != nil {
			return st, err
		}
		var body bytes.Buffer
		var sent []string
		for _, id := range part {
			src, found := cur[id]
			if !found {
				st.Missing++
				continue
			}
			doc, changed := mergeTags(src, byID[id])
			if !changed {
				st.Unchanged++
				continue
			}
			meta, _ := json.Marshal(map[string]any{"update": map[string]any{"_id": id, "retry_on_conflict": 3}})
			body.Write(meta)
			body.WriteByte('\n')
			db, err := json.Marshal(map[string]any{"doc": doc})
			if err != nil {
				return st, err
			}
			body.Write(db)
			body.WriteByte('\n')
			sent = append(sent, id)
		}
		if len(sent) == 0 {
			continue
		}
		data, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_bulk", bulkQuery, body.Bytes())
		if err != nil {
			return st, fmt.Errorf("tagging %d documents of %s: %w", len(sent), index, err)
		}
		var resp bulkResponse
		if err := json.Unmarshal(data, &resp); err != nil || len(resp.Items) != len(sent) {
			return st, fmt.Errorf("tagging %s: unexpected bulk response (%v)", index, err)
		}
		var firstErr error
		for i, line := range resp.Items {
			o := line.outcome()
			switch {
			case o.Status/100 == 2:
				st.Updated++
			case o.Status == http.StatusNotFound:
				st.Missing++
			default:
				st.Failed++
				if firstErr == nil && o.Error != nil {
					firstErr = fmt.Errorf("tagging document %s: HTTP %d %s: %s", sent[i], o.Status, o.Error.Type, o.Error.Reason)
				}
			}
		}
		if firstErr != nil {
			return st, firstErr
		}
	}
	return st, nil
}

// mergeTags returns the partial document to write and whether anything is new.
func mergeTags(src tagSource, u *TagUpdate) (map[string]any, bool) {
	doc := map[string]any{}
	changed := false
	if len(u.Tags) > 0 {
		v, grew := merge(src.Tags, u.Tags)
		if grew {
			doc["tags"] = v
			changed = true
		}
	}
	if len(u.Labels) > 0 {
		labels := map[string]any{}
		for _, k := range sortedKeys(u.Labels) {
			if old, ok := src.Labels[k]; !ok || fmt.Sprint(old) != u.Labels[k] {
				labels[k] = u.Labels[k]
			}
		}
		if len(labels) > 0 {
			doc["labels"] = labels
			changed = true
		}
	}
	var th tagSourceThreat
	if src.Threat != nil {
		th = *src.Threat
	}
	threat := map[string]any{}
	add := func(group, key string, have stringSet, more []string) {
		if len(more) == 0 {
			return
		}
		v, grew := merge(have, more)
		if !grew {
			return
		}
		g, ok := threat[group].(map[string]any)
		if !ok {
			g = map[string]any{}
			threat[group] = g
		}
		g[key] = v
		changed = true
	}
	add("technique", "id", th.Technique.ID, u.TechniqueIDs)
	add("technique", "name", th.Technique.Name, u.TechniqueNames)
	add("tactic", "id", th.Tactic.ID, u.TacticIDs)
	add("tactic", "name", th.Tactic.Name, u.TacticNames)
	if len(threat) > 0 {
		doc["threat"] = threat
	}
	return doc, changed
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// mget fetches the tag-related fields of ids; missing ids are absent from
// the result.
func (c *Client) mget(ctx context.Context, index string, ids []string) (map[string]tagSource, error) {
	body, err := json.Marshal(map[string]any{"ids": ids})
	if err != nil {
		return nil, err
	}
	q := url.Values{"_source_includes": {"tags,labels,threat.technique,threat.tactic"}, "realtime": {"true"}}
	data, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_mget", q, body)
	if err != nil {
		return nil, fmt.Errorf("reading current tags from %s: %w", index, err)
	}
	var resp struct {
		Docs []struct {
			ID     string          `json:"_id"`
			Found  bool            `json:"found"`
			Source json.RawMessage `json:"_source"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("reading current tags from %s: %w", index, err)
	}
	out := make(map[string]tagSource, len(resp.Docs))
	for _, d := range resp.Docs {
		if !d.Found {
			continue
		}
		var s tagSource
		if len(d.Source) > 0 {
			_ = json.Unmarshal(d.Source, &s) // odd shapes are overwritten by the merge
		}
		out[d.ID] = s
	}
	return out, nil
}

type fileLine struct {
	file string
	line int64
}

// resolveRefs finds the ids of the documents named by file and line in
// updates without an id. It returns them and the number of distinct
// references not found.
func (c *Client) resolveRefs(ctx context.Context, index string, updates []TagUpdate) (map[fileLine]string, int, error) {
	want := map[fileLine]bool{}
	var refs []fileLine
	for _, u := range updates {
		if u.ID != "" || u.File == "" {
			continue
		}
		k := fileLine{u.File, u.Line}
		if !want[k] {
			want[k] = true
			refs = append(refs, k)
		}
	}
	out := map[fileLine]string{}
	const chunk = 500
	for start := 0; start < len(refs); start += chunk {
		part := refs[start:min(start+chunk, len(refs))]
		var should []any
		for _, r := range part {
			should = append(should, map[string]any{"bool": map[string]any{"filter": []any{
				map[string]any{"term": map[string]any{FieldFile: r.file}},
				map[string]any{"term": map[string]any{FieldLine: r.line}},
			}}})
		}
		body, err := json.Marshal(map[string]any{
			"size":    len(part) * 2,
			"_source": []string{FieldFile, FieldLine},
			"query":   map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}},
		})
		if err != nil {
			return nil, 0, err
		}
		data, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_search", nil, body)
		if err != nil {
			return nil, 0, fmt.Errorf("finding documents to tag in %s: %w", index, err)
		}
		var resp struct {
			Hits struct {
				Hits []struct {
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(data, &resp); err != nil {
			return nil, 0, fmt.Errorf("finding documents to tag in %s: %w", index, err)
		}
		for _, h := range resp.Hits.Hits {
			f, l := provenance(h.Source)
			if want[fileLine{f, l}] {
				out[fileLine{f, l}] = h.ID
			}
		}
	}
	return out, len(refs) - len(out), nil
}
