package scenario

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// schemaCheck validates v (decoded JSON) against the subset of JSON Schema
// that scenario.schema.json uses: type, enum, required, properties,
// additionalProperties:false, items, pattern, minLength, $ref to $defs.
func schemaCheck(root, s map[string]any, v any, path string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return schemaCheck(root, root["$defs"].(map[string]any)[name].(map[string]any), v, path)
	}
	var errs []string
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		okType := false
		for _, tt := range types {
			switch tt {
			case "object":
				_, okType = v.(map[string]any)
			case "array":
				_, okType = v.([]any)
			case "string":
				_, okType = v.(string)
			case "boolean":
				_, okType = v.(bool)
			case "null":
				okType = v == nil
			}
			if okType {
				break
			}
		}
		if !okType {
			return append(errs, fmt.Sprintf("%s: want type %v, got %T", path, t, v))
		}
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if x == v {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v not in enum", path, v))
		}
	}
	if str, ok := v.(string); ok {
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", path, str, p))
		}
		if m, ok := s["minLength"].(float64); ok && len(str) < int(m) {
			errs = append(errs, fmt.Sprintf("%s: shorter than %v", path, m))
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing %s", path, r))
			}
		}
		for k, x := range obj {
			ps, ok := props[k]
			if !ok {
				if s["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: unknown property %s", path, k))
				}
				continue
			}
			errs = append(errs, schemaCheck(root, ps.(map[string]any), x, path+"."+k)...)
		}
	}
	if arr, ok := v.([]any); ok {
		if it, ok := s["items"].(map[string]any); ok {
			for i, x := range arr {
				errs = append(errs, schemaCheck(root, it, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func asList(v any) []any { l, _ := v.([]any); return l }

// yamlToJSON converts a YAML node into the values a JSON decoder would
// give; timestamps stay strings (JSON has no timestamp type).
func yamlToJSON(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return yamlToJSON(n.Content[0])
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = yamlToJSON(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, yamlToJSON(c))
		}
		return l
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		b, _ := strconv.ParseBool(n.Value)
		return b
	case "!!int", "!!float":
		f, _ := strconv.ParseFloat(n.Value, 64)
		return f
	}
	return n.Value
}

const validDoc = `name: s
time_zone: UTC
hosts:
  - name: web
    ips: [172.16.1.4]
    platform: linux
procedures:
  - id: 46_port_scan
    name: scan
    tactics: [TA0007]
    techniques: [T1046]
    setup: false
    host: web
    targets: [172.16.1.0/24]
    start: 2024-03-05T14:02:11Z
    end: 2024-03-05 14:03:40
    commands:
      - payload: nmap -Pn 172.16.1.4
        executor: sh
`

// TestSchemaAgreesWithValidate runs documents through the embedded JSON
// Schema and through Parse: both must accept or both reject. Cross-field
// rules the schema cannot express are listed as goOnly and must be
// rejected by Parse while the schema accepts them.
func TestSchemaAgreesWithValidate(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema, &schema); err != nil {
		t.Fatalf("embedded schema is not JSON: %v", err)
	}
	example, err := os.ReadFile("../../examples/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, doc string
		valid     bool
		goOnly    bool
	}{
		{"valid", validDoc, true, false},
		{"example", string(example), true, false},
		{"sub-technique", strings.Replace(validDoc, "T1046", "T1059.004", 1), true, false},
		{"bad technique", strings.Replace(validDoc, "T1046", "T10466", 1), false, false},
		{"bad technique lower", strings.Replace(validDoc, "T1046", "t1046", 1), false, false},
		{"bad tactic format", strings.Replace(validDoc, "TA0007", "discovery", 1), false, false},
		{"unknown field", strings.Replace(validDoc, "    setup: false", "    setup: false\n    stage: 3", 1), false, false},
		{"missing host", strings.Replace(validDoc, "    host: web\n", "", 1), false, false},
		{"bad platform", strings.Replace(validDoc, "platform: linux", "platform: solaris", 1), false, false},
		{"bad timestamp", strings.Replace(validDoc, "2024-03-05T14:02:11Z", "yesterday", 1), false, false},
		{"bad executor", strings.Replace(validDoc, "executor: sh", "executor: fish", 1), false, false},
		{"empty payload", strings.Replace(validDoc, "nmap -Pn 172.16.1.4", `"  "`, 1), false, false},
		{"bad ip", strings.Replace(validDoc, "ips: [172.16.1.4]", "ips: [web-1]", 1), false, false},
		{"bad id", strings.Replace(validDoc, "46_port_scan", "46 port scan", 1), false, false},
		{"no name", strings.Replace(validDoc, "name: s\n", "", 1), false, false},
		{"missing start", strings.Replace(validDoc, "    start: 2024-03-05T14:02:11Z\n", "", 1), false, false},
		{"unknown host", strings.Replace(validDoc, "host: web", "host: db", 1), false, true},
		{"unknown tactic", strings.Replace(validDoc, "TA0007", "TA0099", 1), false, true},
		{"end before start", strings.Replace(validDoc, "end: 2024-03-05 14:03:40", "end: 2024-03-05 14:00:00", 1), false, true},
		{"no commands", strings.Replace(validDoc, "    commands:\n      - payload: nmap -Pn 172.16.1.4\n        executor: sh\n", "    commands: []\n", 1), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "valid" && c.name != "example" && c.doc == validDoc {
				t.Fatal("replacement did not apply")
			}
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(c.doc), &n); err != nil {
				t.Fatal(err)
			}
			serrs := schemaCheck(schema, schema, yamlToJSON(&n), "$")
			_, ds := Parse(c.name, []byte(c.doc))
			goValid := ds.Err() == nil
			schemaValid := len(serrs) == 0
			if goValid != c.valid {
				t.Errorf("Parse valid=%v, want %v: %v", goValid, c.valid, ds)
			}
			wantSchema := c.valid || c.goOnly
			if schemaValid != wantSchema {
				t.Errorf("schema valid=%v, want %v: %v", schemaValid, wantSchema, serrs)
			}
		})
	}
}
