package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Hit is one document found by SearchAll.
type Hit struct {
	Index  string
	ID     string
	Source json.RawMessage // _source as stored (with the provenance object)
	File   string          // rangehunt.file, "" when the document has none
	Line   int64           // rangehunt.line, 0 when the document has none
}

// Event returns the hit's event as it was read at ingest: the source
// without the provenance object.
func (h Hit) Event() []byte { return StripProvenance(h.Source) }

// SearchOptions tune SearchAll.
type SearchOptions struct {
	// PageSize is the number of hits per page (default 1000; more than
	// index.max_result_window is not needed: pages are chained).
	PageSize int
	// KeepAlive is how long the point in time lives between pages
	// (default 2m).
	KeepAlive time.Duration
}

// SortFields is the sort SearchAll uses: event time, then the unique
// document id that ingest stores in rangehunt.id (OpenSearch 2.x has no
// _shard_doc tiebreaker, and sorting on _id needs fielddata).
var SortFields = []any{
	map[string]any{"@timestamp": map[string]any{"order": "asc", "missing": "_first", "unmapped_type": "date"}},
	map[string]any{FieldID: map[string]any{"order": "asc", "unmapped_type": "keyword"}},
}

// foreignSortFields adds _id as the last tiebreaker, for indices holding
// documents that rangehunt did not ingest (no rangehunt.id): without a
// unique sort key, search_after skips hits that share a @timestamp at a
// page boundary (_doc is not unique across shards). Sorting on _id loads
// its fielddata, so it is used only when needed.
var foreignSortFields = append(append([]any(nil), SortFields...),
	map[string]any{"_id": map[string]any{"order": "asc"}})

// sortFor returns the sort for a search of query over index: SortFields
// when every matching document carries rangehunt.id, else
// foreignSortFields.
func (c *Client) sortFor(ctx context.Context, index string, query map[string]any) ([]any, error) {
	n, err := c.Count(ctx, index, map[string]any{"bool": map[string]any{
		"filter":   []any{query},
		"must_not": []any{map[string]any{"exists": map[string]any{"field": FieldID}}},
	}})
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return foreignSortFields, nil
	}
	return SortFields, nil
}

// SearchAll runs query (an OpenSearch query object such as
// {"query_string":{...}}) over index (a name or pattern) and calls fn for
// every hit, in sort order, using a point in time and search_after, so that
// every hit is returned whatever their number (index.max_result_window
// does not apply). It returns the number of hits.
func (c *Client) SearchAll(ctx context.Context, index string, query map[string]any, opts SearchOptions, fn func(Hit) error) (int64, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 2 * time.Minute
	}
	keep := fmt.Sprintf("%ds", int(opts.KeepAlive.Seconds()))
	sort, err := c.sortFor(ctx, index, query)
	if err != nil {
		return 0, fmt.Errorf("search %s: %w", index, err)
	}
	data, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_search/point_in_time", url.Values{"keep_alive": {keep}}, nil)
	if err != nil {
		return 0, fmt.Errorf("point in time on %s: %w", index, err)
	}
	var pit struct {
		PitID string `json:"pit_id"`
	}
	if err := json.Unmarshal(data, &pit); err != nil || pit.PitID == "" {
		return 0, fmt.Errorf("point in time on %s: no pit_id in %s", index, truncate(string(data), 200))
	}
	pitID := pit.PitID
	defer func() {
		b, _ := json.Marshal(map[string]any{"pit_id": []string{pitID}})
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = c.request(dctx, http.MethodDelete, "/_search/point_in_time", nil, b)
	}()
	var after []any
	var n int64
	for {
		req := map[string]any{
			"size":             opts.PageSize,
			"query":            query,
			"pit":              map[string]any{"id": pitID, "keep_alive": keep},
			"sort":             sort,
			"track_total_hits": false,
		}
		if after != nil {
			req["search_after"] = after
		}
		body, err := json.Marshal(req)
		if err != nil {
			return n, err
		}
		data, err := c.request(ctx, http.MethodPost, "/_search", nil, body)
		if err != nil {
			return n, fmt.Errorf("search %s: %w", index, err)
		}
		var resp struct {
			PitID  string `json:"pit_id"`
			Shards struct {
				Failed   int `json:"failed"`
				Failures []struct {
					Reason json.RawMessage `json:"reason"`
				} `json:"failures"`
			} `json:"_shards"`
			Hits struct {
				Hits []struct {
					Index  string          `json:"_index"`
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
					Sort   []any           `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		dec := json.NewDecoder(bytesReader(data))
		dec.UseNumber() // keep sort values (longs) exact for search_after
		if err := dec.Decode(&resp); err != nil {
			return n, fmt.Errorf("search %s: decoding response: %w", index, err)
		}
		if resp.Shards.Failed > 0 {
			reason := ""
			if len(resp.Shards.Failures) > 0 {
				reason = truncate(string(resp.Shards.Failures[0].Reason), 400)
			}
			return n, fmt.Errorf("search %s: %d shard(s) failed: %s", index, resp.Shards.Failed, reason)
		}
		if resp.PitID != "" {
			pitID = resp.PitID
		}
		for _, h := range resp.Hits.Hits {
			hit := Hit{Index: h.Index, ID: h.ID, Source: h.Source}
			hit.File, hit.Line = provenance(h.Source)
			n++
			if err := fn(hit); err != nil {
				return n, err
			}
		}
		if len(resp.Hits.Hits) < opts.PageSize {
			return n, nil
		}
		after = resp.Hits.Hits[len(resp.Hits.Hits)-1].Sort
	}
}

func provenance(src json.RawMessage) (string, int64) {
	var p struct {
		Rangehunt struct {
			File string `json:"file"`
			Line int64  `json:"line"`
		} `json:"rangehunt"`
	}
	if json.Unmarshal(src, &p) != nil {
		return "", 0
	}
	return p.Rangehunt.File, p.Rangehunt.Line
}
