package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// fileFormat is the YAML format of a custom pipeline (docs/pipelines.md).
type fileFormat struct {
	Name          string              `yaml:"name"`
	KeywordFields []string            `yaml:"keyword_fields"`
	Placeholders  map[string][]string `yaml:"placeholders"`
	Steps         []fileStep          `yaml:"steps"`
}

type fileStep struct {
	ID             string                     `yaml:"id"`
	When           []Logsource                `yaml:"when"`
	FieldMapping   map[string]string          `yaml:"field_mapping"`
	Rename         map[string]string          `yaml:"rename"`
	FieldPrefix    string                     `yaml:"field_prefix"`
	AddCondition   yaml.Node                  `yaml:"add_condition"`
	Name           string                     `yaml:"name"`
	DropFields     []string                   `yaml:"drop_fields"`
	ValuesToString *struct{ Except []string } `yaml:"values_to_string"`
	BoolToString   *boolToString              `yaml:"bool_to_string"`
	Placeholders   map[string][]string        `yaml:"placeholders"`
}

type boolToString struct {
	Fields []string `yaml:"fields"`
	True   string   `yaml:"true"`
	False  string   `yaml:"false"`
}

// LoadFile reads a pipeline YAML file.
func LoadFile(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline file: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("pipeline file %s: %w", path, err)
	}
	if p.Name == "" {
		p.Name = path
	}
	return p, nil
}

// Parse reads a pipeline from YAML (the format of docs/pipelines.md).
// Errors name the line.
func Parse(data []byte) (*Pipeline, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fileFormat
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty pipeline file")
		}
		return nil, err
	}
	p := &Pipeline{Name: f.Name, KeywordFields: f.KeywordFields}
	for i, fs := range f.Steps {
		id := fs.ID
		if id == "" {
			id = fmt.Sprintf("step%d", i+1)
		}
		var steps []Step
		if fs.FieldMapping != nil {
			steps = append(steps, Step{Kind: FieldMap, Map: fs.FieldMapping})
		}
		if fs.Rename != nil {
			steps = append(steps, Step{Kind: FieldMap, Map: fs.Rename})
		}
		if fs.FieldPrefix != "" {
			steps = append(steps, Step{Kind: FieldPrefix, Prefix: fs.FieldPrefix})
		}
		if fs.AddCondition.Kind != 0 {
			conds, err := parseConditions(&fs.AddCondition)
			if err != nil {
				return nil, fmt.Errorf("step %s: add_condition: %w", id, err)
			}
			name := fs.Name
			if name == "" {
				name = "_" + id
			}
			steps = append(steps, Step{Kind: AddCondition, Name: name, Conditions: conds})
		}
		if fs.DropFields != nil {
			steps = append(steps, Step{Kind: DropFields, Fields: fs.DropFields})
		}
		if fs.ValuesToString != nil {
			steps = append(steps, Step{Kind: ValuesToString, Fields: fs.ValuesToString.Except})
		}
		if fs.BoolToString != nil {
			steps = append(steps, Step{Kind: BoolToString, Fields: fs.BoolToString.Fields, True: fs.BoolToString.True, False: fs.BoolToString.False})
		}
		if fs.Placeholders != nil {
			steps = append(steps, Step{Kind: Placeholders, Values: fs.Placeholders})
		}
		if len(steps) != 1 {
			return nil, fmt.Errorf("step %s: want exactly one of field_mapping, rename, field_prefix, add_condition, drop_fields, values_to_string, bool_to_string, placeholders; got %d", id, len(steps))
		}
		steps[0].ID = id
		steps[0].When = fs.When
		p.Steps = append(p.Steps, steps[0])
	}
	if len(f.Placeholders) > 0 {
		p.Steps = append(p.Steps, Step{ID: "placeholders", Kind: Placeholders, Values: f.Placeholders})
	}
	return p, nil
}

// parseConditions reads "field: value" or "field: [v1, v2]" pairs in file
// order.
func parseConditions(n *yaml.Node) ([]FieldValues, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a map of field: value(s)", n.Line)
	}
	var out []FieldValues
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fv := FieldValues{Field: k.Value}
		switch v.Kind {
		case yaml.ScalarNode:
			fv.Values = []string{v.Value}
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("line %d: field %s: want scalar values", e.Line, k.Value)
				}
				fv.Values = append(fv.Values, e.Value)
			}
		default:
			return nil, fmt.Errorf("line %d: field %s: want a value or a list of values", v.Line, k.Value)
		}
		out = append(out, fv)
	}
	return out, nil
}

// ParsePlaceholderFlags parses --placeholder values "name=v1,v2" into a
// map; a name given twice accumulates values.
func ParsePlaceholderFlags(flags []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range flags {
		name, vals, ok := bytes.Cut([]byte(f), []byte("="))
		if !ok || len(name) == 0 {
			return nil, fmt.Errorf("--placeholder %q: want name=value[,value...]", f)
		}
		n := string(bytes.Trim(name, "%"))
		for _, v := range bytes.Split(vals, []byte(",")) {
			out[n] = append(out[n], string(v))
		}
	}
	return out, nil
}
