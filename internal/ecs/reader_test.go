package ecs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wantErr is one expected skip: line (or element), 1-based column (0: no
// position) and category.
type wantErr struct {
	line int64
	col  int
	kind error
}

type readerCase struct {
	name    string
	in      string
	opts    Options
	events  []int64 // lines of the events returned
	skipped map[string]int64
	errs    []wantErr // in Strict mode, in order (blank lines are not errors)
}

var readerCases = []readerCase{
	{name: "two lines", in: "{\"a\":1}\n{\"b\":2}\n", events: []int64{1, 2}},
	{name: "no final newline", in: "{\"a\":1}\n{\"b\":2}", events: []int64{1, 2}},
	{name: "CRLF", in: "{\"a\":1}\r\n{\"b\":2}\r\n", events: []int64{1, 2}},
	{name: "surrounding space", in: "  {\"a\":1} \t\n", events: []int64{1}},
	{name: "column counts leading space", in: "   {\"a\" 1}",
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 9, ErrMalformed}}},
	{name: "byte order mark", in: "\xef\xbb\xbf{\"a\":1}\n", events: []int64{1}},
	{name: "empty input", in: ""},
	{name: "blank lines", in: "\n{\"a\":1}\n   \n\r\n{\"b\":2}\n\n",
		events: []int64{2, 5}, skipped: map[string]int64{ReasonEmptyLine: 4}},
	{name: "escapes and surrogates", in: `{"a":"\u00e9\ud83d\ude00\ud800\n\"\\\/"}` + "\n", events: []int64{1}},
	{name: "every JSON type", in: `{"s":"x","n":-1.5e+3,"t":true,"f":false,"z":null,"a":[],"o":{}}`, events: []int64{1}},
	{name: "missing colon", in: "{\"a\":1}\n{\"a\" 1}\n{\"b\":2}\n",
		events: []int64{1, 3}, skipped: map[string]int64{ReasonMalformed: 1},
		errs: []wantErr{{2, 6, ErrMalformed}}},
	{name: "bad escape", in: `{"a":"\q"}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 7, ErrMalformed}}},
	{name: "control character in string", in: "{\"a\":\"x\ty\"}",
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 8, ErrMalformed}}},
	{name: "garbage after object", in: "{\"a\":1} x\n{\"a\":2}",
		events: []int64{2}, skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 9, ErrMalformed}}},
	{name: "leading zero", in: `{"a":01}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 7, ErrMalformed}}},
	{name: "lone minus", in: `{"a":-}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 7, ErrMalformed}}},
	{name: "bad literal", in: `{"a":tru}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 9, ErrMalformed}}},
	{name: "single quotes", in: `{'a':1}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 2, ErrMalformed}}},
	{name: "trailing comma", in: `{"a":1,}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 8, ErrMalformed}}},
	{name: "mismatched bracket", in: `{"a":[1}`,
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 8, ErrMalformed}}},
	{name: "nesting too deep", in: `{"a":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + "}",
		skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 1005, ErrMalformed}}},
	{name: "nesting at the limit", in: `{"a":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + "}",
		events: []int64{1}},
	{name: "truncated line in the middle", in: "{\"a\":1}\n{\"a\":\n{\"b\":2}\n",
		events: []int64{1, 3}, skipped: map[string]int64{ReasonTruncated: 1}, errs: []wantErr{{2, 6, ErrTruncated}}},
	{name: "truncated last line", in: "{\"a\":1}\n{\"a\":[1,2",
		events: []int64{1}, skipped: map[string]int64{ReasonTruncated: 1}, errs: []wantErr{{2, 10, ErrTruncated}}},
	{name: "truncated inside string", in: "{\"a\":\"abc",
		skipped: map[string]int64{ReasonTruncated: 1}, errs: []wantErr{{1, 10, ErrTruncated}}},
	{name: "invalid UTF-8 in value", in: "{\"a\":1}\n{\"a\":\"\xff\"}\n{\"b\":2}\n",
		events: []int64{1, 3}, skipped: map[string]int64{ReasonInvalidUTF8: 1}, errs: []wantErr{{2, 7, ErrInvalidUTF8}}},
	{name: "invalid UTF-8 in key", in: "{\"k\xc3\x28\":1}",
		skipped: map[string]int64{ReasonInvalidUTF8: 1}, errs: []wantErr{{1, 4, ErrInvalidUTF8}}},
	{name: "overlong UTF-8", in: "{\"a\":\"\xc0\xaf\"}",
		skipped: map[string]int64{ReasonInvalidUTF8: 1}, errs: []wantErr{{1, 7, ErrInvalidUTF8}}},
	{name: "UTF-8 surrogate half", in: "{\"a\":\"\xed\xa0\x80\"}",
		skipped: map[string]int64{ReasonInvalidUTF8: 1}, errs: []wantErr{{1, 7, ErrInvalidUTF8}}},
	{name: "valid multibyte", in: "{\"a\":\"ünïcödé 日本 😀\"}", events: []int64{1}},
	{name: "not objects", in: "{\"a\":1}\n[1,2]\n\"str\"\n42\nnull\n",
		events: []int64{1}, skipped: map[string]int64{ReasonNotObject: 4},
		errs: []wantErr{{2, 1, ErrNotObject}, {3, 1, ErrNotObject}, {4, 1, ErrNotObject}, {5, 1, ErrNotObject}}},
	{name: "line too long", in: "{\"a\":1}\n{\"aaaaaaaaaaaaaaaaaaaaaaaaaa\":1}\n{\"b\":2}\n", opts: Options{MaxLineBytes: 16},
		events: []int64{1, 3}, skipped: map[string]int64{ReasonLineTooLong: 1}, errs: []wantErr{{2, 0, ErrLineTooLong}}},
	{name: "line of exactly the limit", in: "{\"a\":1}\n{\"aaaaaaaaa\":1}\n", opts: Options{MaxLineBytes: 15},
		events: []int64{1, 2}},
	{name: "line one over the limit", in: "{\"a\":1}\n{\"aaaaaaaaaa\":1}\n{}", opts: Options{MaxLineBytes: 15},
		events: []int64{1, 3}, skipped: map[string]int64{ReasonLineTooLong: 1}, errs: []wantErr{{2, 0, ErrLineTooLong}}},
	{name: "last line too long", in: "{\"a\":1}\n" + strings.Repeat("x", 5000), opts: Options{MaxLineBytes: 100},
		events: []int64{1}, skipped: map[string]int64{ReasonLineTooLong: 1}, errs: []wantErr{{2, 0, ErrLineTooLong}}},
	{name: "several problems", in: "{\"a\":1}\n\n{\"a\"}\n{\"ok\":true}\n\"x\"\n{\"a\":\"\xfe\"}\n{\"z\":[",
		events:  []int64{1, 4},
		skipped: map[string]int64{ReasonEmptyLine: 1, ReasonMalformed: 1, ReasonNotObject: 1, ReasonInvalidUTF8: 1, ReasonTruncated: 1},
		errs:    []wantErr{{3, 5, ErrMalformed}, {5, 1, ErrNotObject}, {6, 7, ErrInvalidUTF8}, {7, 7, ErrTruncated}}},

	// JSON array files.
	{name: "array", in: "[{\"a\":1},{\"b\":2}]", events: []int64{1, 2}},
	{name: "array pretty", in: "[\n  {\n    \"a\": [1, {\"b\": \"]}\\\"\"}]\n  },\n  {\"c\": 2}\n]\n", events: []int64{1, 2}},
	{name: "empty array", in: " [ ] "},
	{name: "array after blank lines", in: "\n\r\n  [\n{\"a\":1}\n]\n", events: []int64{1}},
	{name: "array trailing comma", in: "[{\"a\":1},]", events: []int64{1}},
	{name: "arrays one after another", in: "[{\"a\":1}]\n[{\"b\":2}]", events: []int64{1, 2}},
	{name: "array of scalars", in: `[{"a":1}, 2, "x", [3], null, {"b":2}]`,
		events: []int64{1, 6}, skipped: map[string]int64{ReasonNotObject: 4},
		errs: []wantErr{{2, 1, ErrNotObject}, {3, 1, ErrNotObject}, {4, 1, ErrNotObject}, {5, 1, ErrNotObject}}},
	{name: "array malformed element", in: `[{"a":1},{"a" 1},{"a":"\x"},{"b":2}]`,
		events: []int64{1, 4}, skipped: map[string]int64{ReasonMalformed: 2},
		errs: []wantErr{{2, 6, ErrMalformed}, {3, 7, ErrMalformed}}},
	{name: "array invalid UTF-8 element", in: "[{\"a\":\"\xff\"},{\"b\":2}]",
		events: []int64{2}, skipped: map[string]int64{ReasonInvalidUTF8: 1}, errs: []wantErr{{1, 7, ErrInvalidUTF8}}},
	{name: "array missing comma", in: `[{"a":1} {"b":2}]`,
		events: []int64{1, 2}, skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 0, ErrMalformed}}},
	{name: "array stray comma", in: `[,{"a":1}]`,
		events: []int64{1}, skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{0, 0, ErrMalformed}}},
	{name: "array truncated element", in: `[{"a":1},{"b":[2,`,
		events: []int64{1}, skipped: map[string]int64{ReasonTruncated: 1}, errs: []wantErr{{2, 9, ErrTruncated}}},
	{name: "array not closed", in: `[{"a":1},{"b":2}`,
		events: []int64{1, 2}, skipped: map[string]int64{ReasonTruncated: 1}, errs: []wantErr{{2, 0, ErrTruncated}}},
	{name: "array garbage after end", in: `[{"a":1}] trailing`,
		events: []int64{1}, skipped: map[string]int64{ReasonMalformed: 1}, errs: []wantErr{{1, 0, ErrMalformed}}},
	{name: "array element too long", in: `[{"a":1},{"long":"` + strings.Repeat("y", 3000) + `"},{"b":2}]`,
		opts: Options{MaxLineBytes: 1000}, events: []int64{1, 3},
		skipped: map[string]int64{ReasonLineTooLong: 1}, errs: []wantErr{{2, 0, ErrLineTooLong}}},
}

// readAll reads r to the end, returning the events' lines and, in Strict
// mode, the errors.
func readAll(t *testing.T, r *Reader) ([]int64, []error) {
	t.Helper()
	var lines []int64
	var errs []error
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("reader does not end")
		}
		rec, err := r.Next()
		if err == io.EOF {
			return lines, errs
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Next: %v (not a *ParseError)", err)
			}
			errs = append(errs, err)
			continue
		}
		if len(rec.Raw) == 0 || rec.Raw[0] != '{' || rec.Raw[len(rec.Raw)-1] != '}' {
			t.Errorf("line %d: Raw %q is not an object's text", rec.Line, rec.Raw)
		}
		lines = append(lines, rec.Line)
	}
}

func checkStats(t *testing.T, st Stats, events int, skipped map[string]int64) {
	t.Helper()
	if st.Events != int64(events) {
		t.Errorf("Stats.Events = %d, want %d", st.Events, events)
	}
	if skipped == nil {
		skipped = map[string]int64{}
	}
	if !maps.Equal(st.Skipped, skipped) {
		t.Errorf("Stats.Skipped = %v, want %v", st.Skipped, skipped)
	}
	if st.Read != st.Events+st.SkippedTotal() {
		t.Errorf("Stats.Read = %d, want Events+Skipped = %d", st.Read, st.Events+st.SkippedTotal())
	}
}

func TestReaderBadInput(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			// Lenient: events and counts, and OnSkip sees every error.
			var onSkip []*ParseError
			opts := tc.opts
			opts.OnSkip = func(pe *ParseError) { onSkip = append(onSkip, pe) }
			r, err := NewReader(strings.NewReader(tc.in), "t.json", opts)
			if err != nil {
				t.Fatal(err)
			}
			lines, errs := readAll(t, r)
			if len(errs) != 0 {
				t.Errorf("lenient Next returned errors: %v", errs)
			}
			if !slices.Equal(lines, tc.events) {
				t.Errorf("events at %v, want %v", lines, tc.events)
			}
			checkStats(t, r.Stats(), len(tc.events), tc.skipped)
			if st := r.Stats(); st.Bytes != int64(len(tc.in)) {
				t.Errorf("Stats.Bytes = %d, want %d", st.Bytes, len(tc.in))
			}
			if len(onSkip) != len(tc.errs) {
				t.Errorf("OnSkip called %d times, want %d", len(onSkip), len(tc.errs))
			}

			// Strict: the same events, and an exact error for each skip.
			opts = tc.opts
			opts.Strict = true
			r, err = NewReader(strings.NewReader(tc.in), "t.json", opts)
			if err != nil {
				t.Fatal(err)
			}
			lines, errs = readAll(t, r)
			if !slices.Equal(lines, tc.events) {
				t.Errorf("strict: events at %v, want %v", lines, tc.events)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("strict: errors %v, want %d", errs, len(tc.errs))
			}
			for i, want := range tc.errs {
				var pe *ParseError
				errors.As(errs[i], &pe)
				if pe.Line != want.line || pe.Column != want.col || !errors.Is(pe, want.kind) {
					t.Errorf("error %d: %v (line %d, column %d), want line %d, column %d, %v",
						i, pe, pe.Line, pe.Column, want.line, want.col, want.kind)
				}
				if pe.File != "t.json" || !strings.HasPrefix(pe.Error(), "t.json: ") {
					t.Errorf("error %d: %q does not name the file", i, pe)
				}
				if pe.Offset < 0 || pe.Offset > int64(len(tc.in)) {
					t.Errorf("error %d: offset %d outside the input", i, pe.Offset)
				}
				if opts.OnSkip == nil && i < len(onSkip) && onSkip[i].Error() != pe.Error() {
					t.Errorf("error %d: OnSkip saw %q, Strict gave %q", i, onSkip[i], pe)
				}
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	r, err := NewReader(strings.NewReader("{\"a\":1}\n{\"a\" 1}\n"), "events.ndjson", Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	want := `events.ndjson: line 2, column 6 (offset 13): malformed JSON: invalid character '1' after object key, expected ':'`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("errors.Is(%v, ErrMalformed) = false", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the error: %v, want io.EOF", err)
	}
}

func TestRecordOffsets(t *testing.T) {
	in := "{\"a\":1}\n  {\"b\":2}\n\n{\"c\":3}"
	r, err := NewReader(strings.NewReader(in), "t", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		line int64
		raw  string
	}{{1, `{"a":1}`}, {2, `{"b":2}`}, {4, `{"c":3}`}} {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Line != want.line || string(rec.Raw) != want.raw || in[rec.Offset:rec.Offset+int64(len(rec.Raw))] != want.raw {
			t.Errorf("got line %d offset %d %q, want line %d %q", rec.Line, rec.Offset, rec.Raw, want.line, want.raw)
		}
	}
	if r.Offset() != int64(len(in)) {
		t.Errorf("Offset() = %d, want %d", r.Offset(), len(in))
	}
}

func gzipBytes(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts { // one gzip member per part
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReaderGzip(t *testing.T) {
	for _, tc := range readerCases {
		if tc.in == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(gzipBytes(t, tc.in)), "t.json.gz", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			lines, _ := readAll(t, r)
			if !slices.Equal(lines, tc.events) {
				t.Errorf("events at %v, want %v", lines, tc.events)
			}
			checkStats(t, r.Stats(), len(tc.events), tc.skipped)
		})
	}
}

func TestReaderGzipMultiMember(t *testing.T) {
	r, err := NewReader(bytes.NewReader(gzipBytes(t, "{\"a\":1}\n{\"a\":", "2}\n{\"a\":3}\n")), "t.gz", Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := readAll(t, r)
	if !slices.Equal(lines, []int64{1, 2, 3}) {
		t.Errorf("events at %v, want [1 2 3]", lines)
	}
}

func TestReaderGzipTruncated(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&in, "{\"n\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("p", i%50))
	}
	full := gzipBytes(t, in.String())
	cut := full[:len(full)*2/3]
	for _, strict := range []bool{false, true} {
		r, err := NewReader(bytes.NewReader(cut), "cut.gz", Options{Strict: strict})
		if err != nil {
			t.Fatal(err)
		}
		lines, errs := readAll(t, r)
		st := r.Stats()
		if len(lines) == 0 || len(lines) >= 2000 {
			t.Fatalf("strict=%v: %d events from a truncated stream", strict, len(lines))
		}
		for i, l := range lines {
			if l != int64(i+1) {
				t.Fatalf("strict=%v: event %d at line %d", strict, i, l)
			}
		}
		if st.Skipped[ReasonTruncated] != 1 || len(st.Skipped) != 1 {
			t.Errorf("strict=%v: Skipped = %v, want one truncated", strict, st.Skipped)
		}
		if strict && (len(errs) != 1 || !errors.Is(errs[0], ErrTruncated)) {
			t.Errorf("strict: errors %v, want one ErrTruncated", errs)
		}
	}
}

func TestReaderGzipCorrupt(t *testing.T) {
	data := gzipBytes(t, strings.Repeat("{\"a\":1}\n", 100))
	data[len(data)-6] ^= 0xff // CRC-32
	r, err := NewReader(bytes.NewReader(data), "bad.gz", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		n++
	}
	if err == io.EOF || !errors.Is(err, gzip.ErrChecksum) || !strings.HasPrefix(err.Error(), "bad.gz: ") {
		t.Errorf("after %d events: %v, want a gzip checksum error naming the file", n, err)
	}
	if _, err2 := r.Next(); err2 == io.EOF {
		t.Errorf("the read error is not sticky")
	}
}

func TestReaderGzipBadHeader(t *testing.T) {
	_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0x01, 0x02}), "bad.gz", Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "bad.gz: gzip: ") {
		t.Errorf("got %v, want a gzip error naming the file", err)
	}
}

// bigLineReader yields a few lines, then one line of size bytes, then more.
type bigLineReader struct {
	head, tail []byte
	size       int64
	done       int64
}

func (b *bigLineReader) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if b.done < b.size {
		n := int64(len(p))
		if n > b.size-b.done {
			n = b.size - b.done
		}
		for i := range p[:n] {
			p[i] = 'x'
		}
		if b.done == 0 {
			p[0] = '{'
		}
		b.done += n
		return int(n), nil
	}
	if len(b.tail) > 0 {
		n := copy(p, b.tail)
		b.tail = b.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

// TestReaderHugeLine feeds a 100 MB line between two events and checks
// that it is skipped, counted, and never buffered whole.
func TestReaderHugeLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int
		maxAlloc uint64
	}{
		// The buffer doubles up to MaxLineBytes: about 3×MaxLineBytes
		// allocated in all, whatever the line's length.
		{"max=default", 0, 4 * DefaultMaxLineBytes},
		{"max=1MiB", 1 << 20, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &bigLineReader{head: []byte("{\"a\":1}\n"), size: 100 << 20, tail: []byte("\n{\"b\":2}\n")}
			var before, after runtimeMem
			before.read()
			r, err := NewReader(src, "huge.ndjson", Options{MaxLineBytes: tc.max, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			lines, errs := readAll(t, r)
			after.read()
			if !slices.Equal(lines, []int64{1, 3}) {
				t.Errorf("events at %v, want [1 3]", lines)
			}
			if len(errs) != 1 || !errors.Is(errs[0], ErrLineTooLong) || !strings.Contains(errs[0].Error(), "line 2 ") {
				t.Errorf("errors %v, want line 2 too long", errs)
			}
			if st := r.Stats(); st.Skipped[ReasonLineTooLong] != 1 || st.Bytes != 100<<20+17 {
				t.Errorf("stats %+v", st)
			}
			if got := after.total - before.total; got > tc.maxAlloc {
				t.Errorf("allocated %d bytes for a 100 MB line, want at most %d", got, tc.maxAlloc)
			}
		})
	}
}

// TestReaderHugeArrayElement does the same for an element of a JSON array.
func TestReaderHugeArrayElement(t *testing.T) {
	src := &bigLineReader{head: []byte("[{\"a\":1},\"x"), size: 50 << 20, tail: []byte("\", {\"b\":2}]")}
	src.size = 50 << 20
	var before, after runtimeMem
	before.read()
	r, err := NewReader(src, "huge.json", Options{MaxLineBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := readAll(t, r)
	after.read()
	if !slices.Equal(lines, []int64{1, 3}) {
		t.Errorf("events at %v, want [1 3]", lines)
	}
	checkStats(t, r.Stats(), 2, map[string]int64{ReasonLineTooLong: 1})
	if got := after.total - before.total; got > 4<<20 {
		t.Errorf("allocated %d bytes for a 50 MB element, want at most 4 MiB", got)
	}
}

// TestReaderSmallReads checks record splitting when the source returns one
// byte at a time.
func TestReaderSmallReads(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(&oneByteReader{s: tc.in}, "t", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			lines, _ := readAll(t, r)
			if !slices.Equal(lines, tc.events) {
				t.Errorf("events at %v, want %v", lines, tc.events)
			}
			checkStats(t, r.Stats(), len(tc.events), tc.skipped)
		})
	}
}

type oneByteReader struct{ s string }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(o.s) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader("{\"a\":1}\n{\"b\":"), &errReader{boom})
	r, err := NewReader(src, "f.ndjson", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || rec.Line != 1 {
		t.Fatalf("first event: %v", err)
	}
	_, err = r.Next()
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "f.ndjson: read at offset ") {
		t.Errorf("got %v, want the read error with the file name", err)
	}
}

func TestReaderReadErrorAtStart(t *testing.T) {
	boom := errors.New("permission denied")
	for _, head := range []string{"", "\x1f\x8b", "{\"a\""} {
		r, err := NewReader(io.MultiReader(strings.NewReader(head), &errReader{boom}), "f", Options{})
		if err == nil { // the error comes after the bytes that were read
			_, err = r.Next()
		}
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "f: ") {
			t.Errorf("after %q: %v, want the read error naming the file", head, err)
		}
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "events.ndjson")
	gz := filepath.Join(dir, "events.ndjson.gz")
	arr := filepath.Join(dir, "events.json")
	in := "{\"a\":1}\n{\"b\":2}\n"
	for path, data := range map[string][]byte{plain: []byte(in), gz: gzipBytes(t, in), arr: []byte("[" + strings.ReplaceAll(strings.TrimSpace(in), "\n", ",") + "]")} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{plain, gz, arr} {
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		lines, _ := readAll(t, r)
		if !slices.Equal(lines, []int64{1, 2}) {
			t.Errorf("%s: events at %v", path, lines)
		}
		if r.IsArray() != (path == arr) {
			t.Errorf("%s: IsArray() = %v", path, r.IsArray())
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", path, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.ndjson"), Options{}); err == nil || !strings.Contains(err.Error(), "missing.ndjson") {
		t.Errorf("Open of a missing file: %v", err)
	}
}
