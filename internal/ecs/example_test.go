package ecs_test

import (
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/rangehunt/rangehunt/internal/ecs"
)

func Example() {
	input := `{"@timestamp":"2026-12-04T21:00:00.5Z","process":{"name":"bash","args":["bash","-c","id"],"parent.name":"sshd"}}
{"@timestamp":"2026-12-04T21:00:01Z","process.name":"curl","process.args":["curl","-O","http://x"]}
not json
{"process":{"parent":{"name":"cron"}},"process.name":"sh"}
`
	r, err := ecs.NewReader(strings.NewReader(input), "example.ndjson", ecs.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	fields := ecs.NewFields([]string{"@timestamp", "process.name", "process.args", "process.parent.name"})
	ts, name, args, parent := fields.Index("@timestamp"), fields.Index("process.name"),
		fields.Index("process.args"), fields.Index("process.parent.name")
	var ev ecs.Event // reused for every event
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := fields.Extract(rec.Raw, &ev); err != nil {
			log.Fatal(err)
		}
		when := "-"
		if v := ev.Values(ts); v != nil {
			t, _ := v[0].Time()
			when = t.Format("15:04:05.000")
		}
		fmt.Printf("line %d %s name=%s args=%v parent=%v\n", rec.Line, when, ev.Values(name), ev.Values(args), ev.Values(parent))
	}
	st := r.Stats()
	fmt.Printf("read %d, events %d, skipped %v\n", st.Read, st.Events, st.Skipped)
	// Output:
	// line 1 21:00:00.500 name=[bash] args=[bash -c id] parent=[sshd]
	// line 2 21:00:01.000 name=[curl] args=[curl -O http://x] parent=[]
	// line 4 - name=[sh] args=[] parent=[cron]
	// read 4, events 3, skipped map[malformed JSON:1]
}

// Strict mode returns each malformed record as a *ParseError and goes on
// with the next one.
func ExampleOptions_strict() {
	input := "{\"a\":1}\n{\"a\" 1}\n{\"a\":\"\xff\"}\n[1]\n{\"a\":2}"
	r, err := ecs.NewReader(strings.NewReader(input), "events.ndjson", ecs.Options{Strict: true})
	if err != nil {
		log.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("line %d: %s\n", rec.Line, rec.Raw)
	}
	fmt.Println(r.Stats().Skipped)
	// Output:
	// line 1: {"a":1}
	// events.ndjson: line 2, column 6 (offset 13): malformed JSON: invalid character '1' after object key, expected ':'
	// events.ndjson: line 3, column 7 (offset 22): invalid UTF-8
	// events.ndjson: line 4, column 1 (offset 26): not a JSON object
	// line 5: {"a":2}
	// map[invalid UTF-8:1 malformed JSON:1 not a JSON object:1]
}
