// Package ecsfields is the list of Elastic Common Schema fields rangehunt
// reads and writes, with their Elasticsearch types, and a validator that
// checks a JSON value against a field's type. The list is embedded from
// fields.tsv so that the simulator's tests, the OpenSearch index template
// and the ECS readers share one definition.
package ecsfields

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"
)

//go:embed fields.tsv
var fieldsTSV string

// Field is one ECS field definition.
type Field struct {
	// Name is the dotted field name, e.g. "process.parent.pid".
	Name string
	// Type is the Elasticsearch field type: keyword, wildcard,
	// constant_keyword, match_only_text, text, long, integer, short, byte,
	// unsigned_long, float, double, scaled_float, half_float, date, ip,
	// boolean.
	Type string
	// Description is the short ECS description.
	Description string
}

// Errors returned by Check; test them with errors.Is.
var (
	ErrUnknownField = errors.New("unknown ECS field")
	ErrType         = errors.New("value does not match the field type")
	ErrValue        = errors.New("value is not one of the field's allowed values")
)

// allowed lists the ECS allowed values of the categorization fields
// (ECS 8.17, "ECS Categorization Fields").
var allowed = map[string][]string{
	"event.kind": {"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"},
	"event.category": {"api", "authentication", "configuration", "database", "driver", "email", "file", "host", "iam",
		"intrusion_detection", "library", "malware", "network", "package", "process", "registry", "session", "threat",
		"vulnerability", "web"},
	"event.type": {"access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied", "end", "error",
		"group", "indicator", "info", "installation", "protocol", "start", "user"},
	"event.outcome":     {"failure", "success", "unknown"},
	"network.direction": {"ingress", "egress", "inbound", "outbound", "internal", "external", "unknown"},
}

// Allowed returns the allowed values of a field, or nil when any value of
// its type is valid.
func Allowed(name string) []string { return append([]string(nil), allowed[name]...) }

var (
	fields []Field
	byName map[string]*Field
)

func init() {
	var err error
	fields, err = parse(fieldsTSV)
	if err != nil {
		panic(err)
	}
	byName = make(map[string]*Field, len(fields))
	for i := range fields {
		byName[fields[i].Name] = &fields[i]
	}
}

var knownTypes = map[string]bool{
	"keyword": true, "wildcard": true, "constant_keyword": true, "match_only_text": true, "text": true,
	"long": true, "integer": true, "short": true, "byte": true, "unsigned_long": true,
	"float": true, "double": true, "scaled_float": true, "half_float": true,
	"date": true, "ip": true, "boolean": true,
}

func parse(src string) ([]Field, error) {
	var out []Field
	seen := map[string]bool{}
	for i, line := range strings.Split(src, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			return nil, fmt.Errorf("fields.tsv:%d: want 3 tab-separated columns, got %d", i+1, len(cols))
		}
		if !knownTypes[cols[1]] {
			return nil, fmt.Errorf("fields.tsv:%d: field %s: unknown type %q", i+1, cols[0], cols[1])
		}
		if seen[cols[0]] {
			return nil, fmt.Errorf("fields.tsv:%d: field %s defined twice", i+1, cols[0])
		}
		seen[cols[0]] = true
		out = append(out, Field{Name: cols[0], Type: cols[1], Description: cols[2]})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// All returns every field definition, sorted by name. The slice is a copy.
func All() []Field { return append([]Field(nil), fields...) }

// Lookup returns the definition of a field.
func Lookup(name string) (Field, bool) {
	f, ok := byName[name]
	if !ok {
		return Field{}, false
	}
	return *f, true
}

// Check reports whether value, as decoded by encoding/json (string,
// float64 or json.Number, bool, nil, []any), is a valid value of the field
// name. Arrays are valid when every element is; null is valid (Elasticsearch
// indexes nothing for it). Objects are never valid leaf values.
func Check(name string, value any) error {
	f, ok := byName[name]
	if !ok {
		return fmt.Errorf("%s: %w", name, ErrUnknownField)
	}
	if arr, ok := value.([]any); ok {
		for i, v := range arr {
			if err := checkScalar(f, v); err != nil {
				return fmt.Errorf("%s[%d]: %w", name, i, err)
			}
			if err := checkAllowed(name, v); err != nil {
				return fmt.Errorf("%s[%d]: %w", name, i, err)
			}
		}
		return nil
	}
	if err := checkScalar(f, value); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := checkAllowed(name, value); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func checkAllowed(name string, value any) error {
	vals, ok := allowed[name]
	if !ok {
		return nil
	}
	s, _ := value.(string)
	for _, v := range vals {
		if s == v {
			return nil
		}
	}
	return fmt.Errorf("%w: %q (allowed: %s)", ErrValue, s, strings.Join(vals, ", "))
}

func checkScalar(f *Field, v any) error {
	if v == nil {
		return nil
	}
	switch f.Type {
	case "keyword", "wildcard", "constant_keyword", "match_only_text", "text":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%w: %s wants a string, got %s", ErrType, f.Type, kind(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%w: boolean wants true or false, got %s", ErrType, kind(v))
		}
	case "ip":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%w: ip wants a string, got %s", ErrType, kind(v))
		}
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("%w: ip %q: %v", ErrType, s, err)
		}
	case "date":
		switch x := v.(type) {
		case string:
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%w: date %q is not ISO 8601 with a zone: %v", ErrType, x, err)
			}
		case float64, json.Number:
			if _, err := number(v, true); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: date wants a string or epoch milliseconds, got %s", ErrType, kind(v))
		}
	case "long", "integer", "short", "byte", "unsigned_long":
		n, err := number(v, true)
		if err != nil {
			return err
		}
		lo, hi := intRange(f.Type)
		if n < lo || n > hi {
			return fmt.Errorf("%w: %v out of range for %s", ErrType, n, f.Type)
		}
	case "float", "double", "scaled_float", "half_float":
		if _, err := number(v, false); err != nil {
			return err
		}
	}
	return nil
}

func intRange(t string) (float64, float64) {
	switch t {
	case "integer":
		return math.MinInt32, math.MaxInt32
	case "short":
		return math.MinInt16, math.MaxInt16
	case "byte":
		return math.MinInt8, math.MaxInt8
	case "unsigned_long":
		return 0, math.MaxUint64
	}
	return math.MinInt64, math.MaxInt64
}

func number(v any, integral bool) (float64, error) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("%w: %q is not a number", ErrType, x)
		}
		if integral && strings.ContainsAny(string(x), ".eE") {
			return 0, fmt.Errorf("%w: %s is not an integer", ErrType, x)
		}
		n = f
	default:
		return 0, fmt.Errorf("%w: wants a number, got %s", ErrType, kind(v))
	}
	if integral && n != math.Trunc(n) {
		return 0, fmt.Errorf("%w: %v is not an integer", ErrType, n)
	}
	return n, nil
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// CheckDocument validates a whole decoded JSON document: nested objects are
// flattened to dotted names ({"process":{"pid":1}} is process.pid), and each
// leaf is checked with Check. It returns one error per bad field, sorted by
// field name, or nil.
func CheckDocument(doc map[string]any) []error {
	var errs []error
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			if sub, ok := m[k].(map[string]any); ok {
				if _, leaf := byName[name]; !leaf {
					walk(name, sub)
					continue
				}
			}
			if err := Check(name, m[k]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	walk("", doc)
	return errs
}
