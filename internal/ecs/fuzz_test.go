package ecs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Run a fuzzer for a while with, e.g.:
//
//	go test -run '^$' -fuzz FuzzExtract -fuzztime 60s ./internal/ecs
//
// Seeds come from the test tables below and testdata/fuzz/Fuzz*/; crashers
// the fuzzer finds land in testdata/fuzz/ too and then run as tests.

// fuzzPaths are the paths the differential check compares.
var fuzzPaths = []string{"a", "a.b", "b", "process.args", "process.parent.name", "x.y.z", "@timestamp", ""}

// refExtract is the reference for Extract, built on encoding/json's
// tokenizer: a leaf's path is the keys leading to it joined with dots
// (arrays add nothing), which is exactly what matching nested objects and
// dotted keys alike means.
func refExtract(data []byte) (vals map[string][]string, present map[string]bool, all []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	vals, present = map[string][]string{}, map[string]bool{}
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					kp := path + "." + k.(string)
					present[kp] = true
					if err := walk(kp); err != nil {
						return err
					}
				}
			case '[':
				for dec.More() {
					if err := walk(path); err != nil {
						return err
					}
				}
			}
			_, err = dec.Token() // closing delimiter
			return err
		case string:
			vals[path] = append(vals[path], "s:"+tok)
			all = append(all, "s:"+tok)
		case json.Number:
			vals[path] = append(vals[path], "n:"+string(tok))
			all = append(all, "n:"+string(tok))
		case bool:
			if tok {
				vals[path] = append(vals[path], "b:true")
				all = append(all, "b:true")
			} else {
				vals[path] = append(vals[path], "b:false")
				all = append(all, "b:false")
			}
		case nil:
			vals[path] = append(vals[path], "null")
		}
		return nil
	}
	// The top-level object's keys start paths afresh.
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, nil, err
	}
	if tok != json.Delim('{') {
		return nil, nil, nil, errors.New("not an object")
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, nil, nil, err
		}
		present[k.(string)] = true
		if err := walk(k.(string)); err != nil {
			return nil, nil, nil, err
		}
	}
	return vals, present, all, nil
}

// jsonDepth returns the deepest nesting of objects and arrays in valid JSON.
func jsonDepth(b []byte) int {
	depth, max, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				max = depth
			}
		case '}', ']':
			depth--
		}
	}
	return max
}

// wellFormed reports whether b is what the Reader accepts as an event.
func wellFormed(b []byte) bool {
	b = bytes.Trim(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && utf8.Valid(b) && json.Valid(b) && jsonDepth(b) <= maxDepth
}

func extractSeeds() []string {
	seeds := []string{
		`{"a":{"b":1},"a.b":[2,{"c":3}],"b":null}`,
		`{"process":{"args":["sh","-c"],"parent":{"name":"bash"}},"process.parent.name":"x"}`,
		`{"":{"":1},"a.":{"b":2},"x":{"y.z":"\u00e9\ud83d\ude00\ud800"}}`,
		`{"@timestamp":"2023-06-13T14:29:11.525Z","a":[[1],[[2]],{"b":[true,false]}]}`,
		`{"a":"\"}]\\","b":{"c":"}"}}`,
		`[{"a":1}]`, `{"a":}`, `{"a":1`, `{"a":"\q"}`, `{"a":01}`, "{\"a\":\"\xff\"}",
	}
	for _, tc := range readerCases {
		seeds = append(seeds, strings.Split(tc.in, "\n")...)
	}
	return seeds
}

// FuzzExtract checks that Extract never panics, accepts every event the
// Reader's validator accepts, and agrees with encoding/json on valid input.
func FuzzExtract(f *testing.F) {
	for _, s := range extractSeeds() {
		f.Add([]byte(s))
	}
	fields := NewFields(fuzzPaths)
	all := NewFields(fuzzPaths)
	all.SetCollectAll(true)
	var ev Event
	var v validator
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			t.Skip()
		}
		errF := fields.Extract(data, &ev)
		errA := all.Extract(data, &ev)
		why, _, _ := v.validate(data)
		if why == rOK && (errF != nil || errA != nil) {
			t.Fatalf("the validator accepts %q, Extract fails: %v / %v", data, errF, errA)
		}
		valid := wellFormed(data)
		if valid != (why == rOK) {
			t.Fatalf("validator says %v (%s), encoding/json says well-formed=%v for %q", why == rOK, reasonText[why], valid, data)
		}
		if !valid {
			return
		}
		wantVals, wantPresent, wantAll, err := refExtract(data)
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		for _, x := range []*Fields{fields, all} {
			if err := x.Extract(data, &ev); err != nil {
				t.Fatal(err)
			}
			for i, p := range fuzzPaths {
				if got, want := render(ev.Values(x.Index(p))), wantVals[p]; !slices.Equal(got, want) {
					t.Fatalf("%s = %q, encoding/json gives %q in %q", p, got, want, data)
				}
				if got, want := ev.Present(i), wantPresent[p]; got != want {
					t.Fatalf("Present(%q) = %v, encoding/json gives %v in %q", p, got, want, data)
				}
			}
		}
		if got := render(ev.All()); !slices.Equal(got, wantAll) {
			t.Fatalf("All() = %q, encoding/json gives %q", got, wantAll)
		}
	})
}

// FuzzReader checks that the Reader never panics or loops, keeps its
// counts consistent, returns only well-formed events, and, on NDJSON
// input, returns exactly the lines encoding/json finds well-formed.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in))
	}
	f.Add(gzipBytes(f, "{\"a\":1}\n{\"b\":"))
	f.Add(benchCorpus(3))
	const max = 300
	fields := NewFields(fuzzPaths)
	var ev Event
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			t.Skip()
		}
		var lenient []string
		for _, strict := range []bool{false, true} {
			r, err := NewReader(bytes.NewReader(data), "fuzz", Options{MaxLineBytes: max, Strict: strict})
			if err != nil {
				return // a bad gzip header
			}
			var got []string
			last := int64(0)
			for n := 0; ; n++ {
				if n > len(data)+10 {
					t.Fatalf("Reader does not end on %q", data)
				}
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				var pe *ParseError
				if errors.As(err, &pe) && strict {
					continue
				}
				if err != nil {
					if r.gz {
						break // a corrupt gzip stream
					}
					t.Fatalf("Next: %v", err)
				}
				if !wellFormed(rec.Raw) {
					t.Fatalf("Next returned %q, which is not a well-formed object", rec.Raw)
				}
				if rec.Line <= last {
					t.Fatalf("line %d after line %d", rec.Line, last)
				}
				last = rec.Line
				if err := fields.Extract(rec.Raw, &ev); err != nil {
					t.Fatalf("Extract(%q): %v", rec.Raw, err)
				}
				got = append(got, string(rec.Raw))
			}
			st := r.Stats()
			if st.Read != st.Events+st.SkippedTotal() || st.Events != int64(len(got)) {
				t.Fatalf("inconsistent stats %+v for %d events", st, len(got))
			}
			if !strict {
				lenient = got
			} else if !slices.Equal(got, lenient) {
				t.Fatalf("strict mode gives events %q, lenient mode %q", got, lenient)
			}
			if r.gz {
				continue
			}
			if r.array {
				// A valid JSON array: its well-formed object elements.
				in := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
				var elems []json.RawMessage
				if !json.Valid(in) || json.Unmarshal(in, &elems) != nil {
					continue
				}
				var want []string
				for _, e := range elems {
					if len(e) <= max && wellFormed(e) {
						want = append(want, string(e))
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("events %q, encoding/json finds %q", got, want)
				}
				continue
			}
			// NDJSON: compare with encoding/json line by line.
			in := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
			lines := bytes.Split(in, []byte("\n"))
			if len(lines[len(lines)-1]) == 0 {
				lines = lines[:len(lines)-1]
			}
			var want []string
			for _, l := range lines {
				if len(l) <= max && wellFormed(l) {
					want = append(want, string(bytes.Trim(l, " \t\r\n")))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("events %q, encoding/json finds %q", got, want)
			}
			if st.Read != int64(len(lines)) {
				t.Fatalf("Read = %d for %d lines", st.Read, len(lines))
			}
		}
	})
}
