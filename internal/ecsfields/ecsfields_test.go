package ecsfields

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		field string
		json  string
		err   error
	}{
		{"keyword", "process.name", `"bash"`, nil},
		{"keyword array", "process.args", `["chmod","+x","/tmp/nmap"]`, nil},
		{"keyword array with number", "process.args", `["chmod",1]`, ErrType},
		{"keyword number", "process.name", `12`, ErrType},
		{"wildcard", "process.command_line", `"sh -c id"`, nil},
		{"long", "process.pid", `4242`, nil},
		{"long fraction", "process.pid", `42.5`, ErrType},
		{"long string", "process.pid", `"42"`, ErrType},
		{"ip v4", "source.ip", `"172.16.1.4"`, nil},
		{"ip v6", "host.ip", `["fe80::1","10.0.0.1"]`, nil},
		{"ip bad", "destination.ip", `"172.16.1"`, ErrType},
		{"date", "@timestamp", `"2026-12-04T21:02:51.123456Z"`, nil},
		{"date offset", "@timestamp", `"2026-12-04T22:02:51+01:00"`, nil},
		{"date no zone", "@timestamp", `"2026-12-04T21:02:51"`, ErrType},
		{"date epoch millis", "event.created", `1764882171000`, nil},
		{"boolean", "process.interactive", `false`, nil},
		{"boolean string", "process.interactive", `"false"`, ErrType},
		{"object leaf", "process.pid", `{"a":1}`, ErrType},
		{"unknown", "process.nonsense", `"x"`, ErrUnknownField},
		{"allowed category", "event.category", `["process"]`, nil},
		{"disallowed category", "event.category", `["processes"]`, ErrValue},
		{"allowed types", "event.type", `["start","connection"]`, nil},
		{"disallowed type", "event.type", `["exec"]`, ErrValue},
		{"disallowed kind", "event.kind", `"events"`, ErrValue},
		{"direction", "network.direction", `"egress"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			err := Check(tt.field, v)
			if tt.err == nil && err != nil {
				t.Fatalf("Check(%s, %s) = %v, want nil", tt.field, tt.json, err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Check(%s, %s) = %v, want %v", tt.field, tt.json, err, tt.err)
			}
		})
	}
}

func TestCheckDocument(t *testing.T) {
	doc := `{"@timestamp":"2026-12-04T21:02:51Z","process":{"pid":"7","parent":{"pid":1,"nam":"x"}},"host":{"ip":["10.0.0.1"]}}`
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	errs := CheckDocument(m)
	if len(errs) != 2 {
		t.Fatalf("got %d errors %v, want 2 (process.parent.nam unknown, process.pid type)", len(errs), errs)
	}
	if !errors.Is(errs[0], ErrUnknownField) || !errors.Is(errs[1], ErrType) {
		t.Fatalf("errors in wrong order or kind: %v", errs)
	}
}

func TestTable(t *testing.T) {
	all := All()
	if len(all) < 50 {
		t.Fatalf("only %d fields", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Name >= all[i].Name {
			t.Fatalf("not sorted/unique at %s", all[i].Name)
		}
	}
	f, ok := Lookup("process.command_line")
	if !ok || f.Type != "wildcard" {
		t.Fatalf("Lookup(process.command_line) = %+v, %v", f, ok)
	}
	if _, err := parse("a.b\tkeywrd\tx\n"); err == nil {
		t.Fatal("unknown type accepted")
	}
}
