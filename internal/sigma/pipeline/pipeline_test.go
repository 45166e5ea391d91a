package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// rule builds a one-search rule: fields → values (strings parsed as Sigma
// strings, ints as numbers, nil as null).
func rule(ls sigma.Logsource, items ...*sigma.Item) *sigma.Rule {
	return &sigma.Rule{
		Meta:      sigma.Meta{Title: "t", ID: "id"},
		Logsource: ls,
		Detection: &sigma.Detection{
			Searches:   []*sigma.Search{{Name: "sel", Groups: []*sigma.Group{{Items: items}}}},
			Conditions: []*sigma.Condition{{Source: "sel", Expr: &sigma.IdentExpr{Name: "sel"}}},
		},
	}
}

func str(s string) sigma.Value { return sigma.ParseString(s) }

func item(field string, vals ...sigma.Value) *sigma.Item {
	return &sigma.Item{Field: field, Values: vals}
}

func fields(r *sigma.Rule) []string {
	var out []string
	for _, s := range r.Detection.Searches {
		for _, g := range s.Groups {
			for _, it := range g.Items {
				out = append(out, it.Field)
			}
		}
	}
	return out
}

func TestECSLinuxMapsByLogsource(t *testing.T) {
	p, err := Resolve("ecs_linux")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ls   sigma.Logsource
		in   []string
		want []string
	}{
		{sigma.Logsource{Product: "linux", Category: "process_creation"}, []string{"Image", "CommandLine", "Other"}, []string{"process.executable", "process.command_line", "Other"}},
		{sigma.Logsource{Product: "linux", Category: "network_connection"}, []string{"DestinationIp", "Initiated"}, []string{"destination.ip", "network.direction"}},
		{sigma.Logsource{Product: "linux", Category: "file_event"}, []string{"TargetFilename", "CommandLine"}, []string{"file.path", "CommandLine"}},
		{sigma.Logsource{Product: "linux", Service: "auditd"}, []string{"type", "a0", "exe", "key"}, []string{"auditd.message_type", "auditd.data.a0", "process.executable", "tags"}},
		// Windows rules are untouched by ecs_linux.
		{sigma.Logsource{Product: "windows", Category: "process_creation"}, []string{"Image"}, []string{"Image"}},
	}
	for _, tt := range tests {
		var items []*sigma.Item
		for _, f := range tt.in {
			items = append(items, item(f, str("x")))
		}
		r := rule(tt.ls, items...)
		got, err := p.Apply(r)
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(fields(got), ","); g != strings.Join(tt.want, ",") {
			t.Errorf("%+v: got %s, want %s", tt.ls, g, strings.Join(tt.want, ","))
		}
		if g := strings.Join(fields(r), ","); g != strings.Join(tt.in, ",") {
			t.Errorf("Apply mutated its input: %s", g)
		}
	}
}

func TestECSWindows(t *testing.T) {
	p, err := Resolve("ecs_windows")
	if err != nil {
		t.Fatal(err)
	}
	r := rule(sigma.Logsource{Product: "windows", Service: "security"},
		item("EventID", sigma.Number{Raw: "4688", Int: 4688, IsInt: true}),
		item("CommandLine", str("*x*")),
		item("SubjectUserName", str("bob")),
		item("ObjectName", str("y")),
		item("winlog.foo", str("z")),
		item("SourcePort", sigma.Number{Raw: "445", Int: 445, IsInt: true}),
	)
	got, err := p.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "event.code,process.command_line,user.name,winlog.event_data.ObjectName,winlog.foo,source.port,winlog.channel"
	if g := strings.Join(fields(got), ","); g != want {
		t.Errorf("fields: got %s\nwant %s", g, want)
	}
	if len(got.Detection.Searches) != 2 || !strings.HasPrefix(got.Detection.Searches[1].Name, "_") {
		t.Fatalf("want an added _ search for the channel, got %d searches", len(got.Detection.Searches))
	}
	if src := got.Detection.Conditions[0].Source; src != got.Detection.Searches[1].Name+" and (sel)" {
		t.Errorf("condition source %q", src)
	}
	// values_to_str: EventID becomes a string, source.port stays a number.
	if _, ok := got.Detection.Searches[0].Groups[0].Items[0].Values[0].(sigma.String); !ok {
		t.Errorf("event.code value not converted to string: %T", got.Detection.Searches[0].Groups[0].Items[0].Values[0])
	}
	if _, ok := got.Detection.Searches[0].Groups[0].Items[5].Values[0].(sigma.Number); !ok {
		t.Errorf("source.port value converted: %T", got.Detection.Searches[0].Groups[0].Items[5].Values[0])
	}
	// The input is untouched.
	if _, ok := r.Detection.Searches[0].Groups[0].Items[0].Values[0].(sigma.Number); !ok || len(r.Detection.Searches) != 1 || r.Detection.Conditions[0].Source != "sel" {
		t.Error("Apply mutated its input")
	}
	// CommandLine outside process_creation/security gets the prefix.
	r2 := rule(sigma.Logsource{Product: "windows", Category: "ps_script"}, item("CommandLine", str("a")), item("Initiated", sigma.Bool{V: true}))
	got2, err := p.Apply(r2)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(fields(got2), ","); g != "winlog.event_data.CommandLine,winlog.event_data.Initiated" {
		t.Errorf("ps_script fields: %s", g)
	}
	r3 := rule(sigma.Logsource{Product: "windows", Category: "network_connection"}, item("Initiated", sigma.Bool{V: true}))
	got3, _ := p.Apply(r3)
	it := got3.Detection.Searches[0].Groups[0].Items[0]
	if it.Field != "network.direction" || it.Values[0].String() != "egress" {
		t.Errorf("Initiated: got %s=%v", it.Field, it.Values)
	}
}

func TestEventKind(t *testing.T) {
	p := WithEventKind(nil)
	r := rule(sigma.Logsource{Product: "linux", Category: "process_creation"}, item("Image", str("*/sh")))
	got, err := p.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	s := got.Detection.Search(EventKindSearch)
	if s == nil {
		t.Fatal("no _event_kind search")
	}
	if g := strings.Join(fields(got), ","); g != "Image,event.category,event.type" {
		t.Errorf("fields %s", g)
	}
	and, ok := got.Detection.Conditions[0].Expr.(*sigma.AndExpr)
	if !ok || and.L.(*sigma.IdentExpr).Name != EventKindSearch {
		t.Errorf("condition not ANDed with the event kind: %#v", got.Detection.Conditions[0].Expr)
	}
	// A logsource without an event kind is left alone.
	r2 := rule(sigma.Logsource{Product: "linux", Service: "auditd"}, item("type", str("EXECVE")))
	got2, _ := p.Apply(r2)
	if len(got2.Detection.Searches) != 1 {
		t.Error("auditd rule got an event kind")
	}
}

func TestPlaceholders(t *testing.T) {
	ph := sigma.Placeholder{Name: "Servers", Suffix: []sigma.Token{{Kind: sigma.AnyChars}}}
	r := rule(sigma.Logsource{Product: "windows"}, item("ComputerName", ph))
	_, err := Chain(&Pipeline{Name: "none"}).Apply(r)
	if !errors.Is(err, ErrPlaceholder) || !strings.Contains(err.Error(), "%Servers%") {
		t.Fatalf("unresolved placeholder: got %v", err)
	}
	p := WithPlaceholders(nil, map[string][]string{"Servers": {"srv1", "srv2"}})
	got, err := p.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := got.Detection.Searches[0].Groups[0].Items[0].Values[0].(sigma.Expansion)
	if !ok || len(exp.Alts) != 2 || exp.Alts[0].String() != "srv1*" || exp.Alts[1].String() != "srv2*" {
		t.Errorf("expansion: %#v", got.Detection.Searches[0].Groups[0].Items[0].Values[0])
	}
	vals, err := ParsePlaceholderFlags([]string{"Servers=a,b", "%Admins%=root"})
	if err != nil || len(vals["Servers"]) != 2 || vals["Admins"][0] != "root" {
		t.Errorf("ParsePlaceholderFlags: %v %v", vals, err)
	}
	if _, err := ParsePlaceholderFlags([]string{"novalue"}); err == nil {
		t.Error("ParsePlaceholderFlags accepted a flag without '='")
	}
}

func TestPipelineFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yml")
	src := `name: custom
keyword_fields: [message, process.command_line]
placeholders:
  Admins: [root, admin]
steps:
  - id: map
    when: [{product: linux, category: process_creation}]
    field_mapping: {Image: process.executable}
  - add_condition: {event.module: [auditd, system]}
    name: _module
  - drop_fields: [Dropped]
  - field_prefix: "custom."
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve("ecs_linux," + path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.KeywordFields) != 2 {
		t.Errorf("keyword fields %v", p.KeywordFields)
	}
	r := rule(sigma.Logsource{Product: "linux", Category: "process_creation"},
		item("Image", str("/bin/sh")), item("Dropped", str("x")), item("Other", str("y")),
		item("User", sigma.Placeholder{Name: "Admins"}))
	got, err := p.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(fields(got), ","); g != "process.executable,custom.Other,user.name,event.module" {
		t.Errorf("fields %s", g)
	}
	if got.Detection.Search("_module") == nil {
		t.Error("no _module search")
	}
	bad := []struct{ src, want string }{
		{"steps:\n  - field_mapping: {a: b}\n    bogus: 1\n", "line 3"},
		{"steps:\n  - field_mapping: {a: b}\n    field_prefix: x\n", "exactly one"},
		{"steps:\n  - add_condition: [a]\n", "line 2"},
	}
	for _, b := range bad {
		_, err := Parse([]byte(b.src))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Parse(%q): got %v, want error containing %q", b.src, err, b.want)
		}
	}
	if _, err := Resolve("nosuchpipeline"); err == nil || !strings.Contains(err.Error(), "ecs_linux") {
		t.Errorf("unknown pipeline: %v", err)
	}
}

func TestExpandPlaceholders(t *testing.T) {
	r := rule(sigma.Logsource{Product: "linux"}, item("User", sigma.Placeholder{Name: "Admins"}))
	got, err := ExpandPlaceholders(r, map[string][]string{"Admins": {"root"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Detection.Searches[0].Groups[0].Items[0].Values[0]; v.String() != "root" {
		t.Errorf("got %v", v)
	}
	if _, err := ExpandPlaceholders(r, nil); !errors.Is(err, ErrPlaceholder) {
		t.Errorf("no values: got %v", err)
	}
}
