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
