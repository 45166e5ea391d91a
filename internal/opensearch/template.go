package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/rangehunt/rangehunt/internal/ecsfields"
)

// Provenance fields that ingest adds to every document, so that hunts on
// OpenSearch can report the same file and line as hunts on files, and
// pagination has a unique sort tiebreaker. They live under one object,
// "rangehunt", that is stripped again when a hit is turned back into an
// event.
const (
	FieldProvenance = "rangehunt"
	FieldFile       = "rangehunt.file" // keyword, case preserved: the path given to ingest
	FieldLine       = "rangehunt.line" // long: 1-based line (element index for JSON arrays)
	FieldID         = "rangehunt.id"   // keyword: the document id, the pagination tiebreaker
	// FieldAll is the catch-all keyword field: every value of every event
	// field is copied into it (copy_to; not in _source), so that Sigma
	// keyword searches, which match any value of the event, can be bound
	// to one field instead of expanding over all fields.
	FieldAll = "rangehunt.all"
)

// CasedSuffix is the sub-field of every keyword field that keeps the
// original case; the field itself is lower-cased by a normalizer so that
// queries match case-insensitively, as Sigma requires.
const CasedSuffix = "cased"

// NormalizerName is the keyword normalizer of the template.
const NormalizerName = "rangehunt_lowercase"

// ignoreAbove keeps values longer than this many characters out of the
// keyword index: Lucene refuses terms over 32766 bytes, and 8191 characters
// of UTF-8 stay under that. Such values remain in _source.
const ignoreAbove = 8191

// DefaultFields is the narrow list of fields that query_string searches
// when a query term names no field (Sigma keyword searches): the catch-all
// field. It is set as index.query.default_field so that no query expands
// to every field (and trips the clause limit).
var DefaultFields = []string{FieldAll}

// extraFields are fields rangehunt writes or queries that the ECS field
// list of internal/ecsfields does not hold.
var extraFields = []ecsfields.Field{
	{Name: "event.original", Type: "keyword"},
	{Name: "event.provider", Type: "keyword"},
	{Name: "event.code", Type: "keyword"},
	{Name: "file.path", Type: "keyword"},
	{Name: "file.name", Type: "keyword"},
	{Name: "file.directory", Type: "keyword"},
	{Name: "file.extension", Type: "keyword"},
	{Name: "file.target_path", Type: "keyword"},
	{Name: "file.owner", Type: "keyword"},
	{Name: "file.mode", Type: "keyword"},
	{Name: "log.file.path", Type: "keyword"},
	{Name: "log.level", Type: "keyword"},
	{Name: "threat.framework", Type: "keyword"},
	{Name: "threat.tactic.id", Type: "keyword"},
	{Name: "threat.tactic.name", Type: "keyword"},
	{Name: "threat.technique.id", Type: "keyword"},
	{Name: "threat.technique.name", Type: "keyword"},
	{Name: "threat.technique.subtechnique.id", Type: "keyword"},
	{Name: "threat.technique.subtechnique.name", Type: "keyword"},
	{Name: "url.original", Type: "keyword"},
	{Name: "url.domain", Type: "keyword"},
	{Name: "url.path", Type: "keyword"},
	{Name: "dns.question.name", Type: "keyword"},
	{Name: "dns.question.type", Type: "keyword"},
	{Name: FieldFile, Type: "raw_keyword"},
	{Name: FieldLine, Type: "long"},
	{Name: FieldID, Type: "raw_keyword"},
	{Name: FieldAll, Type: "all"},
}

// fieldMapping maps one ECS type to the template's mapping. Every string
// type becomes a lower-cased keyword with a case-preserving ".cased"
// sub-field (wildcard and text types too, so that Sigma's whole-value
// wildcard semantics hold: see docs/opensearch.md); numbers become long or
// double, and ip, date and boolean keep their types.
func fieldMapping(typ string) map[string]any {
	m := baseMapping(typ)
	if typ != "raw_keyword" && typ != "all" {
		m["copy_to"] = FieldAll
	}
	return m
}

func baseMapping(typ string) map[string]any {
	switch typ {
	case "all":
		// Lower-cased, searched only: no doc values and no ".cased"
		// sub-field (copying every value twice more would halve the
		// ingest rate); see HuntBackend for what that rules out. Norms
		// on: see searchOnlyKeyword.
		return searchOnlyKeyword(map[string]any{"type": "keyword", "normalizer": NormalizerName, "ignore_above": ignoreAbove})
	case "keyword", "wildcard", "constant_keyword", "match_only_text", "text":
		m := keywordMapping()
		if typ == "match_only_text" || typ == "text" {
			m["fields"].(map[string]any)["text"] = map[string]any{"type": "text"}
		}
		return m
	case "raw_keyword":
		return map[string]any{"type": "keyword", "ignore_above": ignoreAbove}
	case "long", "integer", "short", "byte":
		return map[string]any{"type": "long"}
	case "unsigned_long":
		return map[string]any{"type": "unsigned_long"}
	case "float", "double", "scaled_float", "half_float":
		return map[string]any{"type": "double"}
	case "ip":
		return map[string]any{"type": "ip"}
	case "date":
		return map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"}
	case "boolean":
		return map[string]any{"type": "boolean"}
	}
	return keywordMapping()
}

// keywordMapping is a lower-cased keyword with its ".cased" sub-field.
// The sub-field is only searched, never sorted or aggregated on, so it has
// no doc values (less work per document at ingest).
func keywordMapping() map[string]any {
	return map[string]any{
		"type":         "keyword",
		"normalizer":   NormalizerName,
		"ignore_above": ignoreAbove,
		"fields": map[string]any{
			CasedSuffix: searchOnlyKeyword(map[string]any{"type": "keyword", "ignore_above": ignoreAbove}),
		},
	}
}

// searchOnlyKeyword turns off doc values on a keyword mapping (the field is
// only searched, never sorted or aggregated on) and turns norms on. A
// field with neither doc values nor norms makes OpenSearch index every one
// of its values, with every parent path, into the _field_names field (that
// is how it answers exists queries on such a field); for rangehunt.all,
// which receives every value of the event, that was about a sixth of the
// server's indexing time. Norms cost one byte per document and field and
// answer exists queries instead; keyword queries are unchanged (hits are
// never ranked by score here).
func searchOnlyKeyword(m map[string]any) map[string]any {
	m["doc_values"] = false
	m["norms"] = true
	return m
}

// Fields returns the template's leaf fields with their template type
// (keyword, long, double, ip, date, boolean, unsigned_long), sorted by name.
func Fields() map[string]string {
	out := map[string]string{}
	for _, f := range allFields() {
		out[f.Name] = fieldMapping(f.Type)["type"].(string)
	}
	return out
}

func allFields() []ecsfields.Field {
	seen := map[string]bool{}
	var all []ecsfields.Field
	for _, f := range append(ecsfields.All(), extraFields...) {
		if seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// ManagedBy is the value of the index mapping's _meta.managed_by in the
// indices rangehunt creates.
const ManagedBy = "rangehunt"

// Mappings returns the "mappings" object: every known field nested under
// "properties", plus a dynamic template that maps any other string field
// like a known keyword field (lower-cased, with ".cased").
func Mappings() map[string]any {
	root := map[string]any{}
	for _, f := range allFields() {
		parts := strings.Split(f.Name, ".")
		props := root
		for _, p := range parts[:len(parts)-1] {
			obj, ok := props[p].(map[string]any)
			if !ok {
				obj = map[string]any{"properties": map[string]any{}}
				props[p] = obj
			}
			props = obj["properties"].(map[string]any)
		}
		m := fieldMapping(f.Type)
		if parts[0] == FieldProvenance {
			// Provenance is not part of the event: a keyword search for
			// "12" must not match the document read from line 12.
			delete(m, "copy_to")
		}
		props[parts[len(parts)-1]] = m
	}
	kw := keywordMapping()
	kw["copy_to"] = FieldAll
	return map[string]any{
		// The marker the hunt backend looks for: an index without it has
		// its own mapping, where keyword matching may be case-sensitive.
		"_meta": map[string]any{"managed_by": ManagedBy},
		// Unknown string fields are keywords like the known ones (never
		// dates or numbers guessed from their text); unknown numbers and
		// booleans keep their JSON type. All feed the catch-all field.
		"date_detection":    false,
		"numeric_detection": false,
		"dynamic_templates": []any{
			map[string]any{"strings_as_keywords": map[string]any{
				"match_mapping_type": "string",
				"mapping":            kw,
			}},
			map[string]any{"longs": map[string]any{
				"match_mapping_type": "long",
				"mapping":            map[string]any{"type": "long", "copy_to": FieldAll},
			}},
			map[string]any{"doubles": map[string]any{
				"match_mapping_type": "double",
				"mapping":            map[string]any{"type": "double", "copy_to": FieldAll},
			}},
			map[string]any{"booleans": map[string]any{
				"match_mapping_type": "boolean",
				"mapping":            map[string]any{"type": "boolean", "copy_to": FieldAll},
			}},
		},
		"properties": root,
	}
}

// Settings returns the index settings: one shard, no replicas, the
// lower-case normalizer, and the narrow default field list.
func Settings() map[string]any {
	return map[string]any{
		"number_of_shards":   1,
		"number_of_replicas": 0,
		"refresh_interval":   "1s",
		"query": map[string]any{
			"default_field": DefaultFields,
		},
		"analysis": map[string]any{
			"normalizer": map[string]any{
				NormalizerName: map[string]any{"type": "custom", "filter": []string{"lowercase"}},
			},
		},
	}
}

// IndexBody returns the body of a create-index request with the project's
// settings and mappings.
func IndexBody() map[string]any {
	return map[string]any{"settings": map[string]any{"index": Settings()}, "mappings": Mappings()}
}

// Template returns the composable index template for the given index
// patterns, as JSON.
func Template(patterns []string) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"index_patterns": patterns,
		"priority":       200,
		"template":       IndexBody(),
		"_meta":          map[string]any{"description": "rangehunt minimal ECS mapping", "managed_by": ManagedBy},
	}, "", "  ")
}

// PutTemplate installs (or replaces) the composable index template name
// for the given patterns.
func (c *Client) PutTemplate(ctx context.Context, name string, patterns []string) error {
	body, err := Template(patterns)
	if err != nil {
		return err
	}
	if _, err := c.request(ctx, http.MethodPut, "/_index_template/"+url.PathEscape(name), nil, body); err != nil {
		return fmt.Errorf("index template %s: %w", name, err)
	}
	return nil
}

// EnsureIndex creates index with the project's settings and mappings when
// it does not exist yet. It reports whether it created the index. An
// existing index is left as it is.
func (c *Client) EnsureIndex(ctx context.Context, index string) (bool, error) {
	if err := checkIndexName(index); err != nil {
		return false, err
	}
	body, err := json.Marshal(IndexBody())
	if err != nil {
		return false, err
	}
	data, err := c.request(ctx, http.MethodPut, "/"+indexPath(index), nil, body)
	if err != nil {
		if strings.Contains(string(data), "resource_already_exists_exception") {
			return false, nil
		}
		return false, fmt.Errorf("create index %s: %w", index, err)
	}
	return true, nil
}

// DeleteIndex deletes an index; a missing index is not an error.
func (c *Client) DeleteIndex(ctx context.Context, index string) error {
	if err := checkIndexName(index); err != nil {
		return err
	}
	_, err := c.request(ctx, http.MethodDelete, "/"+indexPath(index), nil, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete index %s: %w", index, err)
	}
	return nil
}

// Refresh makes everything indexed so far visible to search.
func (c *Client) Refresh(ctx context.Context, index string) error {
	_, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_refresh", nil, nil)
	if err != nil {
		return fmt.Errorf("refresh %s: %w", index, err)
	}
	return nil
}

// Count returns the number of documents in index (or index pattern)
// matching query (nil: all).
func (c *Client) Count(ctx context.Context, index string, query map[string]any) (int64, error) {
	var body []byte
	if query != nil {
		b, err := json.Marshal(map[string]any{"query": query})
		if err != nil {
			return 0, err
		}
		body = b
	}
	data, err := c.request(ctx, http.MethodPost, "/"+indexPath(index)+"/_count", nil, body)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", index, err)
	}
	var r struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, fmt.Errorf("count %s: decoding response: %w", index, err)
	}
	return r.Count, nil
}

// checkIndexName rejects names OpenSearch would refuse, with a clear message.
func checkIndexName(name string) error {
	if name == "" {
		return fmt.Errorf("index name is empty")
	}
	if name != strings.ToLower(name) {
		return fmt.Errorf("index name %q: must be lower case", name)
	}
	if strings.ContainsAny(name, `\/?"<>| ,#:`) || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "+") {
		return fmt.Errorf("index name %q: contains a character OpenSearch forbids or starts with -, _ or +", name)
	}
	return nil
}

// ForeignIndices returns, sorted, the indices matching pattern whose
// mapping rangehunt did not create (no _meta.managed_by marker). Their
// fields follow their own mapping: a plain keyword field matches case-
// sensitively, while Sigma values are sent lower-cased for rangehunt's
// lower-cased fields.
func (c *Client) ForeignIndices(ctx context.Context, pattern string) ([]string, error) {
	data, err := c.request(ctx, http.MethodGet, "/"+indexPath(pattern)+"/_mapping", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("mapping of %s: %w", pattern, err)
	}
	var resp map[string]struct {
		Mappings struct {
			Meta map[string]any `json:"_meta"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("mapping of %s: decoding response: %w", pattern, err)
	}
	var out []string
	for ix, m := range resp {
		if m.Mappings.Meta["managed_by"] != ManagedBy {
			out = append(out, ix)
		}
	}
	sort.Strings(out)
	return out, nil
}

// indexPath escapes an index name or a comma-separated list of names and
// patterns for a URL path: each name is escaped, the commas are kept
// (OpenSearch does not split an escaped %2C into several indices).
func indexPath(index string) string {
	parts := strings.Split(index, ",")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, ",")
}
