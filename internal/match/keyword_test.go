package match

import (
	"testing"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// TestKeywordBooleans: keyword searches apply to the whole event's text,
// so a JSON boolean leaf is searched as the text "true"/"false" (as it
// appears in the raw event), whether the keyword is written as a string
// or as a YAML boolean; null leaves are not text.
func TestKeywordBooleans(t *testing.T) {
	kw := func(vals ...sigma.Value) *sigma.Rule {
		r := oneSearch(&sigma.Item{Values: vals})
		r.Detection.Searches[0].Keywords = true
		return r
	}
	check(t, kw(lit("true")),
		evCase{`{"user":{"admin":true}}`, true},
		evCase{`{"list":[1,false,true]}`, true},
		evCase{`{"user":{"admin":false}}`, false},
		evCase{`{"user":{"admin":null}}`, false},
		evCase{`{"message":"it is TRUE"}`, true})
	check(t, kw(lit("fal*")),
		evCase{`{"a":{"b":[false]}}`, true},
		evCase{`{"a":{"b":[true]}}`, false})
	check(t, kw(sigma.Bool{V: false}),
		evCase{`{"ok":false}`, true},
		evCase{`{"ok":true}`, false})
	// contains-all over several leaves, one of them a boolean.
	all := &sigma.Item{Values: []sigma.Value{lit("sudo"), lit("true")}, All: true}
	r := oneSearch(all)
	r.Detection.Searches[0].Keywords = true
	check(t, r,
		evCase{`{"process":{"name":"sudo"},"event":{"success":true}}`, true},
		evCase{`{"process":{"name":"sudo"},"event":{"success":false}}`, false})
}
