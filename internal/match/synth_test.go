package match

import (
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// TestSynthesizeAllModifiers builds test events for rules using every
// value modifier of the specification (most are unused by the SigmaHQ
// Linux rules) and checks them with the compiled matcher.
func TestSynthesizeAllModifiers(t *testing.T) {
	docs := []string{
		`sel: {CommandLine|contains|all: [' -enc ', 'bypass']}`,
		`sel: {Image|startswith: '/tmp/', Image|endswith: '.sh'}`,
		`sel: {CommandLine|cased: 'Invoke-Mimikatz'}`,
		`sel: {CommandLine|re|i: 'invoke-\w+kat[sz]'}`,
		`sel: {CommandLine|re|m: '^whoami$'}`,
		`sel: {CommandLine|re|s: 'a.b'}`,
		`sel: {CommandLine|windash|contains: ' -s '}`,
		`sel: {CommandLine|base64offset|contains: 'http://'}`,
		`sel: {CommandLine|base64: 'whoami'}`,
		`sel: {CommandLine|wide|base64offset|contains: 'ping'}`,
		`sel: {CommandLine|utf16be|base64: 'ab'}`,
		`sel: {DestinationIp|cidr: ['10.0.0.0/8', 'fd00::/8']}`,
		`sel: {DestinationPort|gt: 1024, DestinationPort|lte: 2048}`,
		`sel: {DestinationPort|gte: 80, DestinationPort|lt: 81}`,
		`sel: {User|exists: true, Password|exists: false}`,
		`sel: {User|neq: 'root'}` + "\n  other: {Image|endswith: '/su'}\n  condition: sel and other",
		`sel: {TargetUser|fieldref: User}`,
		`sel: {TargetUser|fieldref|neq: User, Image|endswith: '/su'}`,
		`sel: {'@timestamp|hour': 3, '@timestamp|day': 15}`,
		`sel: {'@timestamp|week': 10, '@timestamp|month': 3, '@timestamp|year': 2024}`,
		`sel: {'@timestamp|minute': 59}`,
		`sel: {Image: null, CommandLine|endswith: 'x'}`,
		`sel: {Enabled: true, Count: 5, Name: ''}`,
		`sel: ['mimikatz', 'lsass dump']`,
		`sel: {'|all': ['curl', '| sh']}`,
		`sel: {CommandLine: 'a?c*\*'}`,
	}
	for _, d := range docs {
		cond := "\n  condition: sel"
		if strings.Contains(d, "condition:") {
			cond = ""
		}
		src := "title: t\nlogsource: {product: linux}\ndetection:\n  " + d + cond + "\n"
		f, errs := sigma.Parse("t.yml", []byte(src))
		if errs.Err() != nil || len(f.Rules) != 1 {
			t.Errorf("%s: parse: %v", d, errs)
			continue
		}
		r := f.Rules[0]
		pos, neg, err := SynthesizeEvents(r)
		if err != nil {
			t.Errorf("%s: synthesize: %v", d, err)
			continue
		}
		set, cerrs := Compile([]*sigma.Rule{r})
		if len(cerrs) > 0 {
			t.Errorf("%s: compile: %v", d, cerrs)
			continue
		}
		m := set.NewMatcher()
		t.Logf("%s\n  + %s\n  - %s", d, pos[0], neg[0])
		for _, ev := range pos {
			if hits, err := m.Match(ev, nil); err != nil || len(hits) != 1 {
				t.Errorf("%s: positive %s does not match (%v)", d, ev, err)
			}
		}
		for _, ev := range neg {
			if hits, err := m.Match(ev, nil); err != nil || len(hits) != 0 {
				t.Errorf("%s: negative %s matches (%v)", d, ev, err)
			}
		}
	}
}
