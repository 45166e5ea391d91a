package ecs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxLineBytes is the longest record a Reader accepts unless
// Options.MaxLineBytes says otherwise.
const DefaultMaxLineBytes = 16 << 20

// maxMaxLineBytes caps Options.MaxLineBytes (1 GiB).
const maxMaxLineBytes = 1 << 30

// initialBufSize is the Reader's first buffer; it grows up to
// MaxLineBytes plus one read chunk for long records.
const initialBufSize = 128 << 10

// Options configure a Reader.
type Options struct {
	// MaxLineBytes bounds one record (an NDJSON line without its newline,
	// or one element of a JSON array file). Longer records are skipped
	// while being read, in constant memory, and counted as "line too
	// long". Zero means DefaultMaxLineBytes; values above 1 GiB mean 1 GiB.
	// The Reader's buffer grows up to about this size plus 128 KiB.
	MaxLineBytes int
	// Strict makes Next return a *ParseError for a malformed record
	// instead of skipping it. The record is still counted, and the next
	// call to Next continues after it.
	Strict bool
	// OnSkip, if set, is called with the details of each record skipped
	// in non-strict mode (not for empty lines), e.g. to log the first few.
	// The *ParseError may be kept.
	OnSkip func(*ParseError)
}

// Record is one well-formed event.
type Record struct {
	// Raw is the event's JSON object text, without surrounding space. It
	// aliases the Reader's buffer: valid until the next call to Next.
	Raw []byte
	// Line is the record's 1-based line number in an NDJSON input, or its
	// 1-based element index in a JSON array file.
	Line int64
	// Offset is the byte offset of Raw in the decompressed input.
	Offset int64
}

// Stats counts what a Reader has read so far.
type Stats struct {
	// Read counts records: NDJSON lines (blank ones included) or JSON
	// array elements, plus stray data between or after array elements.
	// Read == Events + the sum of Skipped.
	Read int64
	// Events counts the well-formed events returned by Next.
	Events int64
	// Skipped counts skipped records by reason (the Reason* constants).
	Skipped map[string]int64
	// Bytes counts the decompressed bytes consumed.
	Bytes int64
}

// SkippedTotal returns the number of skipped records, blank lines included.
func (s Stats) SkippedTotal() int64 {
	var n int64
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// Reader streams ECS events from NDJSON, gzip-compressed NDJSON or a JSON
// array file. It holds at most one record (bounded by MaxLineBytes) in
// memory. A Reader is not safe for concurrent use.
type Reader struct {
	name    string
	opts    Options
	src     io.Reader
	closers []io.Closer
	gz      bool

	buf   []byte
	r, w  int   // unread data is buf[r:w]
	off   int64 // input offset of buf[r]
	eof   bool  // src is exhausted
	err   error // sticky read error, returned once buffered data is used
	gzEOF bool  // the gzip stream ended early (io.ErrUnexpectedEOF)

	line  int64 // records started so far
	array bool
	state arrayState

	v       validator
	read    int64
	events  int64
	skipped [nReasons]int64
}

type arrayState uint8

const (
	arrElem    arrayState = iota // expecting an element or ']'
	arrSep                       // expecting ',' or ']'
	arrTrailer                   // after ']'
	arrDone
)

// Open opens the file at path and returns a Reader over it. The caller
// must Close the Reader.
func Open(path string, opts Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ecs: %w", err)
	}
	r, err := NewReader(f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closers = append(r.closers, f)
	return r, nil
}

// NewReader returns a Reader over r; name (usually the file name) is used
// in errors. It reads the first bytes to recognise gzip (magic 1f 8b) and
// JSON array input (first non-space byte '['; a UTF-8 byte order mark is
// skipped). Close does not close r.
func NewReader(r io.Reader, name string, opts Options) (*Reader, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.MaxLineBytes > maxMaxLineBytes {
		opts.MaxLineBytes = maxMaxLineBytes
	}
	rd := &Reader{name: name, opts: opts, src: r}
	size := initialBufSize
	if opts.MaxLineBytes+1 < size {
		size = opts.MaxLineBytes + 1
		if size < 512 {
			size = 512
		}
	}
	rd.buf = make([]byte, size)
	// Sniff gzip on the raw bytes.
	for rd.w < 2 && rd.fill() {
	}
	if rd.err != nil {
		return nil, rd.err
	}
	if rd.w >= 2 && rd.buf[0] == 0x1f && rd.buf[1] == 0x8b {
		head := append([]byte(nil), rd.buf[:rd.w]...)
		var src io.Reader = bytes.NewReader(head)
		if !rd.eof {
			src = io.MultiReader(src, r)
		}
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		rd.src, rd.gz = zr, true
		rd.closers = append(rd.closers, zr)
		rd.r, rd.w, rd.eof = 0, 0, false
	}
	// Skip a byte order mark, then sniff the first non-space byte.
	for rd.w-rd.r < 3 && rd.fill() {
	}
	if bytes.HasPrefix(rd.buf[rd.r:rd.w], []byte("\xef\xbb\xbf")) {
		rd.advance(3)
	}
	// Look at the first non-space byte without consuming anything, so that
	// blank lines before the first NDJSON record are still counted. (After
	// 64 KiB of white space, the input is taken for NDJSON.)
	for k := rd.r; k-rd.r < 64<<10; k++ {
		if k == rd.w {
			k -= rd.r
			if !rd.fill() {
				break
			}
			k += rd.r
		}
		if c := rd.buf[k]; !isSpace(c) {
			if c == '[' {
				rd.array = true
				rd.advance(k - rd.r + 1)
			}
			break
		}
	}
	if rd.err != nil && rd.r == rd.w {
		return nil, rd.err
	}
	return rd, nil
}

// Name returns the input's name given to Open or NewReader.
func (r *Reader) Name() string { return r.name }

// IsArray reports whether the input is a JSON array file.
func (r *Reader) IsArray() bool { return r.array }

// Offset returns the offset in the decompressed input just after the last
// record returned or skipped.
func (r *Reader) Offset() int64 { return r.off }

// Stats returns the counts so far.
func (r *Reader) Stats() Stats {
	s := Stats{Read: r.read, Events: r.events, Bytes: r.off, Skipped: map[string]int64{}}
	for i, n := range r.skipped {
		if n > 0 {
			s.Skipped[reasonText[i]] = n
		}
	}
	return s
}

// Close releases the gzip decoder and, for a Reader from Open, the file.
func (r *Reader) Close() error {
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	return first
}

// advance consumes n buffered bytes.
func (r *Reader) advance(n int) {
	r.r += n
	r.off += int64(n)
}

// fill reads more input into the buffer, first moving unread data to its
// start and growing it (up to MaxLineBytes plus one chunk) when full. It
// reports false when no more data will come.
func (r *Reader) fill() bool {
	if r.eof {
		return false
	}
	if r.r > 0 && (r.r == r.w || r.w == len(r.buf)) {
		copy(r.buf, r.buf[r.r:r.w])
		r.w -= r.r
		r.r = 0
	}
	if r.w == len(r.buf) {
		limit := r.opts.MaxLineBytes + initialBufSize
		n := 2 * len(r.buf)
		if n > limit {
			n = limit
		}
		if n <= len(r.buf) {
			// Callers check the record length against MaxLineBytes before
			// asking for more, so this only happens on misuse.
			return false
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for tries := 0; ; tries++ {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.eof = true
			switch {
			case err == io.EOF:
			case r.gz && errors.Is(err, io.ErrUnexpectedEOF):
				r.gzEOF = true
			default:
				r.err = fmt.Errorf("%s: read at offset %d: %w", r.name, r.off+int64(r.w-r.r), err)
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
		if tries > 100 {
			r.eof = true
			r.err = fmt.Errorf("%s: %w", r.name, io.ErrNoProgress)
			return false
		}
	}
}

// peekNonSpace skips white space (reading more as needed) and returns the
// next byte without consuming it; false at the end of input.
func (r *Reader) peekNonSpace() (byte, bool) {
	for {
		for r.r < r.w {
			if c := r.buf[r.r]; !isSpace(c) {
				return c, true
			}
			r.advance(1)
		}
		if !r.fill() {
			return 0, false
		}
	}
}

// Next returns the next well-formed event, or io.EOF at the end of the
// input. Malformed records are skipped and counted (see Stats) unless
// Options.Strict is set, in which case Next returns a *ParseError for each
// and continues after it on the next call. Other errors (read errors, a
// corrupt gzip stream) are returned as is, wrapped with the input's name;
// after one, Next keeps returning it. Record.Raw is valid until the next
// call.
func (r *Reader) Next() (Record, error) {
	for {
		var (
			rec  Record
			perr *ParseError
			done bool
		)
		if r.array {
			rec, perr, done = r.nextElement()
		} else {
			rec, perr, done = r.nextLine()
		}
		if done {
			if r.err != nil {
				return Record{}, r.err
			}
			return Record{}, io.EOF
		}
		if perr == nil {
			if rec.Raw == nil {
				continue // blank line
			}
			r.events++
			return rec, nil
		}
		if r.opts.Strict {
			return Record{}, perr
		}
		if r.opts.OnSkip != nil {
			r.opts.OnSkip(perr)
		}
	}
}

// skip counts a skipped record and, unless it is a blank line, returns its
// error. at is the 0-based position of the problem inside the record that
// starts at input offset start, or -1 when the problem has no position.
func (r *Reader) skip(why reason, start int64, at int, what string) *ParseError {
	r.read++
	r.skipped[why]++
	if why == rEmptyLine {
		return nil
	}
	pe := &ParseError{File: r.name, Line: r.line, Offset: start, Array: r.array, Err: reasonErr[why]}
	if at >= 0 {
		pe.Column = at + 1
		pe.Offset += int64(at)
	}
	if what != "" || at >= 0 && why != rNotObject {
		pe.Err = &syntaxError{kind: reasonErr[why], what: what, pos: at}
	}
	return pe
}

// nextLine reads one NDJSON line. It returns a record (Raw nil for a blank
// line), or the error of a skipped one, or done at the end of input.
func (r *Reader) nextLine() (Record, *ParseError, bool) {
	max := r.opts.MaxLineBytes
	scan := 0 // bytes of buf[r.r:] known to hold no newline
	end := -1
	for {
		if j := bytes.IndexByte(r.buf[r.r+scan:r.w], '\n'); j >= 0 {
			end = r.r + scan + j
			break
		}
		scan = r.w - r.r
		if scan > max {
			return Record{}, r.discardLine(), false
		}
		if !r.fill() {
			if r.w > r.r {
				end = r.w
				break
			}
			if r.gzEOF {
				r.gzEOF = false
				r.line++
				return Record{}, r.skip(rTruncated, r.off, 0, "gzip stream ends early"), false
			}
			return Record{}, nil, true
		}
	}
	if end-r.r > max {
		return Record{}, r.discardLine(), false
	}
	r.line++
	start := r.off
	line := r.buf[r.r:end]
	if end < r.w {
		r.advance(end - r.r + 1)
	} else {
		r.advance(end - r.r)
	}
	lead := 0
	for lead < len(line) && isSpace(line[lead]) {
		lead++
	}
	raw := line[lead:]
	for len(raw) > 0 && isSpace(raw[len(raw)-1]) {
		raw = raw[:len(raw)-1]
	}
	if len(raw) == 0 {
		if end == r.w && r.gzEOF {
			r.gzEOF = false
			return Record{}, r.skip(rTruncated, start, 0, "gzip stream ends early"), false
		}
		r.skip(rEmptyLine, start, 0, "")
		return Record{}, nil, false
	}
	why, at, what := r.v.validate(raw)
	if why != rOK && end == r.w && r.gzEOF {
		// The last, partial record of a gzip stream that ends early.
		r.gzEOF = false
		why, what = rTruncated, "gzip stream ends early: "+what
	}
	if why != rOK {
		// Columns count from the start of the line.
		return Record{}, r.skip(why, start, at+lead, what), false
	}
	r.read++
	return Record{Raw: raw, Line: r.line, Offset: start + int64(lead)}, nil, false
}

// discardLine drops the rest of an over-long line without buffering it.
func (r *Reader) discardLine() *ParseError {
	r.line++
	start := r.off
	for {
		if j := bytes.IndexByte(r.buf[r.r:r.w], '\n'); j >= 0 {
			r.advance(j + 1)
			break
		}
		r.advance(r.w - r.r)
		if !r.fill() {
			break
		}
	}
	return r.skip(rLineTooLong, start, -1, r.tooLong())
}
