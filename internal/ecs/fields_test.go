package ecs

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// render writes values as kind:text for comparison ("s:bash", "n:1",
// "b:true", "null").
func render(vs []Value) []string {
	var out []string
	for _, v := range vs {
		switch v.Kind {
		case String:
			out = append(out, "s:"+string(v.Str))
		case Number:
			out = append(out, "n:"+string(v.Str))
		case Bool:
			out = append(out, "b:"+v.String())
		case Null:
			out = append(out, "null")
		}
	}
	return out
}

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paths   []string
		event   string
		want    map[string][]string // path → values; paths not listed have none
		present []string            // paths present (those in want are implied)
	}{
		{name: "nested", paths: []string{"process.name"}, event: `{"process":{"name":"bash"}}`,
			want: map[string][]string{"process.name": {"s:bash"}}},
		{name: "dotted key", paths: []string{"process.name"}, event: `{"process.name":"bash"}`,
			want: map[string][]string{"process.name": {"s:bash"}}},
		{name: "dotted key inside object", paths: []string{"process.parent.name"}, event: `{"process":{"parent.name":"sshd"}}`,
			want: map[string][]string{"process.parent.name": {"s:sshd"}}},
		{name: "dotted key to object", paths: []string{"process.parent.name"}, event: `{"process.parent":{"name":"sshd"}}`,
			want: map[string][]string{"process.parent.name": {"s:sshd"}}},
		{name: "nested and dotted together", paths: []string{"a.b"}, event: `{"a":{"b":1},"a.b":2,"a":{"b":3}}`,
			want: map[string][]string{"a.b": {"n:1", "n:2", "n:3"}}},
		{name: "array", paths: []string{"process.args"}, event: `{"process":{"args":["bash","-c","id"]}}`,
			want: map[string][]string{"process.args": {"s:bash", "s:-c", "s:id"}}},
		{name: "dotted array", paths: []string{"process.args"}, event: `{"process.args":["curl","-O"]}`,
			want: map[string][]string{"process.args": {"s:curl", "s:-O"}}},
		{name: "array of objects", paths: []string{"a.b"}, event: `{"a":[{"b":1},{"b":2}]}`,
			want: map[string][]string{"a.b": {"n:1", "n:2"}}},
		{name: "array of objects with arrays and gaps", paths: []string{"a.b"}, event: `{"a":[{"b":[1,2]},{"c":3},{"b":"x"},7]}`,
			want: map[string][]string{"a.b": {"n:1", "n:2", "s:x"}}},
		{name: "nested arrays", paths: []string{"a"}, event: `{"a":[[1,[2]],[],[3]]}`,
			want: map[string][]string{"a": {"n:1", "n:2", "n:3"}}},
		{name: "array of objects with dotted keys", paths: []string{"paths.name"}, event: `{"paths":[{"name":"/usr/bin/dash"},{"name":"/lib64/ld.so"}]}`,
			want: map[string][]string{"paths.name": {"s:/usr/bin/dash", "s:/lib64/ld.so"}}},
		{name: "null empty string empty array", paths: []string{"n", "e", "a", "missing"}, event: `{"n":null,"e":"","a":[]}`,
			want: map[string][]string{"n": {"null"}, "e": {"s:"}}, present: []string{"a"}},
		{name: "object at a wanted path", paths: []string{"process.parent", "process.parent.name"}, event: `{"process":{"parent":{"name":"x","pid":1}}}`,
			want: map[string][]string{"process.parent.name": {"s:x"}}, present: []string{"process.parent"}},
		{name: "object at a leaf path", paths: []string{"process"}, event: `{"process":{"parent":{"name":"x"}},"x":1}`,
			present: []string{"process"}},
		{name: "scalar where object expected", paths: []string{"process.name"}, event: `{"process":"bash"}`},
		{name: "similar keys", paths: []string{"process.name"}, event: `{"proc.ess":{"name":"a"},"process":{"name2":"b","nam":"c"},"processes":{"name":"d"},"Process":{"name":"e"}}`},
		{name: "key with trailing dot", paths: []string{"a.b"}, event: `{"a.":{"b":1},"a.b.":2,".a.b":3}`},
		{name: "escapes", paths: []string{"a"}, event: `{"a":"x\ty\u00e9\ud83d\ude00\"\\\/\b\f\n\r"}`,
			want: map[string][]string{"a": {"s:x\ty\u00e9\U0001F600\"\\/\b\f\n\r"}}},
		{name: "lone surrogates", paths: []string{"a"}, event: `{"a":"\ud800x\udc00\ud800\u0041"}`,
			want: map[string][]string{"a": {"s:\ufffdx\ufffd\ufffdA"}}},
		{name: "escaped key", paths: []string{"process.name"}, event: `{"proc\u0065ss":{"n\u0061me":"x"}}`,
			want: map[string][]string{"process.name": {"s:x"}}},
		{name: "escaped dot in key", paths: []string{"process.name"}, event: `{"process\u002ename":"x"}`,
			want: map[string][]string{"process.name": {"s:x"}}},
		{name: "numbers keep their text", paths: []string{"a"}, event: `{"a":[-1.5e3,0,12345678901234567890,1E+2]}`,
			want: map[string][]string{"a": {"n:-1.5e3", "n:0", "n:12345678901234567890", "n:1E+2"}}},
		{name: "booleans", paths: []string{"t", "f"}, event: `{"t":true,"f":[false,true]}`,
			want: map[string][]string{"t": {"b:true"}, "f": {"b:false", "b:true"}}},
		{name: "skipped subtrees with brackets in strings", paths: []string{"a"},
			event: `{"x":{"y":"}]{[\"\\","z":[1,{"q":"]"}],"w":{}},"v":[[],[[]]],"u":"\"","a":1}`,
			want:  map[string][]string{"a": {"n:1"}}},
		{name: "white space everywhere", paths: []string{"a.b"}, event: " {\n \"a\" : { \"b\" :\t[ 1 , \"x\" ] } , \"c\" : 2 } ",
			want: map[string][]string{"a.b": {"n:1", "s:x"}}},
		{name: "timestamp and unicode keys", paths: []string{"@timestamp", "ключ.日本"}, event: `{"@timestamp":"2026-12-04T21:00:00Z","ключ":{"日本":"v"}}`,
			want: map[string][]string{"@timestamp": {"s:2026-12-04T21:00:00Z"}, "ключ.日本": {"s:v"}}},
		{name: "auditd event from go-libaudit", paths: []string{"process.args", "process.pid", "ecs.event.category", "paths.name", "user.ids.uid", "summary.object.primary"},
			event: `{"@timestamp":"2023-06-13T14:29:11.525Z","sequence":28860764,"category":"audit-rule","summary":{"actor":{"primary":"1005"},"action":"executed","object":{"type":"file","primary":"/usr/bin/dash"}},"user":{"ids":{"auid":"1005","uid":"1005"}},"process":{"pid":"2380168","ppid":"2380071","title":"dash -p","name":"dash","exe":"/usr/bin/dash","args":["dash","-p"]},"paths":[{"inode":"1593","name":"/usr/bin/dash"},{"name":"/lib64/ld-linux-x86-64.so.2"}],"ecs":{"event":{"category":["process"],"type":["start"]},"user":{"effective":{}}}}`,
			want: map[string][]string{"process.args": {"s:dash", "s:-p"}, "process.pid": {"s:2380168"}, "ecs.event.category": {"s:process"},
				"paths.name": {"s:/usr/bin/dash", "s:/lib64/ld-linux-x86-64.so.2"}, "user.ids.uid": {"s:1005"}, "summary.object.primary": {"s:/usr/bin/dash"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFields(tc.paths)
			var ev Event
			// Extract twice into the same Event: nothing may leak.
			if err := f.Extract([]byte(`{"a":"stale","process":{"name":"stale"}}`), &ev); err != nil {
				t.Fatal(err)
			}
			if err := f.Extract([]byte(tc.event), &ev); err != nil {
				t.Fatalf("Extract: %v", err)
			}
			for _, p := range tc.paths {
				i := f.Index(p)
				if got, want := render(ev.Values(i)), tc.want[p]; !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
				_, inWant := tc.want[p]
				if got, want := ev.Present(i), inWant || slices.Contains(tc.present, p); got != want {
					t.Errorf("Present(%s) = %v, want %v", p, got, want)
				}
			}
		})
	}
}

func TestExtractCollectAll(t *testing.T) {
	f := NewFields([]string{"process.name"})
	f.SetCollectAll(true)
	var ev Event
	ev2 := `{"@timestamp":"t","process":{"name":"bash","args":["bash","-c"],"pid":42,"ok":true,"none":null},"tags":[{"x":"y\u0021"}],"e":{}}`
	if err := f.Extract([]byte(ev2), &ev); err != nil {
		t.Fatal(err)
	}
	want := []string{"s:t", "s:bash", "s:bash", "s:-c", "n:42", "b:true", "s:y!"}
	if got := render(ev.All()); !slices.Equal(got, want) {
		t.Errorf("All() = %q, want %q", got, want)
	}
	if got := render(ev.Values(0)); !slices.Equal(got, []string{"s:bash"}) {
		t.Errorf("process.name = %q", got)
	}
	f.SetCollectAll(false)
	if err := f.Extract([]byte(ev2), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.All() != nil {
		t.Errorf("All() without CollectAll = %q", render(ev.All()))
	}
}

func TestExtractErrors(t *testing.T) {
	f := NewFields([]string{"a", "b.c"})
	for _, tc := range []struct {
		in   string
		kind error
	}{
		{``, ErrNotObject},
		{`[1]`, ErrNotObject},
		{`"x"`, ErrNotObject},
		{`{"a":}`, ErrMalformed},
		{`{"a":1`, ErrMalformed},
		{`{"a":1,}`, ErrMalformed},
		{`{"a" 1}`, ErrMalformed},
		{`{"a":"\q"}`, ErrMalformed},
		{`{"a":"\u12"}`, ErrMalformed},
		{`{"a":"x`, ErrMalformed},
		{`{"a":tru}`, ErrMalformed},
		{`{"a":01}`, ErrMalformed},
		{`{"b":{"c":[1,2}}`, ErrMalformed},
		{`{"x":{"y":[1,2}`, ErrMalformed},
		{`{"a":1} x`, ErrMalformed},
		{`{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, ErrMalformed},
	} {
		var ev Event
		err := f.Extract([]byte(tc.in), &ev)
		if !errors.Is(err, tc.kind) {
			t.Errorf("Extract(%q) = %v, want %v", tc.in, err, tc.kind)
		}
	}
}

func TestFieldsIndex(t *testing.T) {
	f := NewFields([]string{"process.name", "@timestamp", "process.name", "process", "a.b.c"})
	if f.Len() != 4 {
		t.Errorf("Len() = %d, want 4 (duplicates dropped)", f.Len())
	}
	for path, want := range map[string]int{"process.name": 0, "@timestamp": 1, "process": 2, "a.b.c": 3, "a.b": -1, "a": -1, "x": -1, "": -1, "process.name.x": -1} {
		if got := f.Index(path); got != want {
			t.Errorf("Index(%q) = %d, want %d", path, got, want)
		}
	}
	if got := f.Paths(); !slices.Equal(got, []string{"process.name", "@timestamp", "process", "a.b.c"}) {
		t.Errorf("Paths() = %q", got)
	}
}

func TestValueFloat(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want float64
		ok   bool
	}{
		{Value{Kind: Number, Str: []byte("-1.5e3")}, -1500, true},
		{Value{Kind: Number, Str: []byte("12345678901234567890")}, 12345678901234567890, true},
		{Value{Kind: String, Str: []byte("2380168")}, 2380168, true},
		{Value{Kind: String, Str: []byte("0x10")}, 0, false},
		{Value{Kind: String, Str: []byte("inf")}, 0, false},
		{Value{Kind: String, Str: []byte(" 42")}, 0, false},
		{Value{Kind: String, Str: []byte("-0.25")}, -0.25, true},
		{Value{Kind: String, Str: []byte("12abc")}, 0, false},
		{Value{Kind: String, Str: []byte("")}, 0, false},
		{Value{Kind: String, Str: []byte(strings.Repeat("1", 100))}, 0, false},
		{Value{Kind: Bool, Bool: true}, 0, false},
		{Value{Kind: Null}, 0, false},
	} {
		got, ok := tc.v.Float()
		if ok != tc.ok || ok && got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s.Float() = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// TestExtractNoAllocs checks the steady state: no allocation per event.
func TestExtractNoAllocs(t *testing.T) {
	corpus := benchCorpus(50)
	lines := strings.Split(strings.TrimSpace(string(corpus)), "\n")
	raws := make([][]byte, len(lines))
	for i, l := range lines {
		raws[i] = []byte(l)
	}
	for _, all := range []bool{false, true} {
		f := NewFields(benchFields)
		f.SetCollectAll(all)
		var ev Event
		for _, raw := range raws { // warm up: buffers reach their size
			if err := f.Extract(raw, &ev); err != nil {
				t.Fatal(err)
			}
		}
		k := 0
		allocs := testing.AllocsPerRun(200, func() {
			if err := f.Extract(raws[k%len(raws)], &ev); err != nil {
				t.Fatal(err)
			}
			k++
		})
		if allocs != 0 {
			t.Errorf("CollectAll=%v: %v allocations per Extract, want 0", all, allocs)
		}
	}
}

func TestValueFloatNoAllocs(t *testing.T) {
	v := Value{Kind: Number, Str: []byte("1686666551525.5")}
	if n := testing.AllocsPerRun(100, func() { v.Float() }); n != 0 {
		t.Errorf("Float allocates %v times", n)
	}
}

// TestFieldsConcurrent extracts with one Fields from several goroutines,
// each with its own Event (run with -race to check that Extract only reads
// the Fields).
func TestFieldsConcurrent(t *testing.T) {
	corpus := benchCorpus(200)
	lines := strings.Split(strings.TrimSpace(string(corpus)), "\n")
	f := NewFields(benchFields)
	f.SetCollectAll(true)
	want := make([][]string, len(lines))
	var ev Event
	for i, l := range lines {
		if err := f.Extract([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		want[i] = render(ev.All())
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			var ev Event
			for i, l := range lines {
				if err := f.Extract([]byte(l), &ev); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(render(ev.All()), want[i]) {
					errs <- errors.New("different leaves from a concurrent Extract")
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
