package ecs

import (
	"bytes"
	"strconv"
)

// elemScanner finds the end of one JSON value in a stream, resumably: it
// tracks bracket depth and strings across buffer refills but does not
// validate (the validator does that once the value is whole).
type elemScanner struct {
	depth   int
	inStr   bool
	esc     bool
	started bool
	scalar  bool
}

// scan continues from b[i] and returns the index after the value and true,
// or len(b) and false when the value goes on past b.
func (s *elemScanner) scan(b []byte, i int) (int, bool) {
	for i < len(b) {
		c := b[i]
		if s.inStr {
			if s.esc {
				s.esc = false
				i++
				continue
			}
			j := bytes.IndexAny(b[i:], "\"\\")
			if j < 0 {
				return len(b), false
			}
			i += j
			if b[i] == '\\' {
				s.esc = true
				i++
				continue
			}
			s.inStr = false
			i++
			if s.depth == 0 {
				return i, true
			}
			continue
		}
		if !s.started {
			s.started = true
			switch c {
			case '{', '[':
				s.depth = 1
			case '"':
				s.inStr = true
			default:
				s.scalar = true
			}
			i++
			continue
		}
		if s.scalar {
			switch c {
			case ',', ']', '}', '{', '[', '"', ' ', '\t', '\n', '\r':
				return i, true
			}
			i++
			continue
		}
		switch c {
		case '"':
			s.inStr = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				return i + 1, true
			}
		}
		i++
	}
	return i, false
}

// nextElement reads one element of a JSON array file. It returns a record,
// or the error of a skipped one, or done at the end of input. Stray data
// between or after elements is counted as a malformed record; a trailing
// comma before ']' and several arrays one after the other are accepted.
func (r *Reader) nextElement() (Record, *ParseError, bool) {
	for {
		switch r.state {
		case arrDone:
			return Record{}, nil, true
		case arrTrailer:
			c, ok := r.peekNonSpace()
			if !ok {
				r.state = arrDone
				continue
			}
			if c == '[' {
				r.advance(1)
				r.state = arrElem
				continue
			}
			start := r.off
			for {
				r.advance(r.w - r.r)
				if !r.fill() {
					break
				}
			}
			r.state = arrDone
			return Record{}, r.skip(rMalformed, start, -1, "invalid character "+quoteByte(c)+" after the end of the JSON array"), false
		case arrSep:
			c, ok := r.peekNonSpace()
			if !ok {
				r.state = arrDone
				return Record{}, r.skip(rTruncated, r.off, -1, "JSON array not closed"), false
			}
			switch c {
			case ',':
				r.advance(1)
				r.state = arrElem
				continue
			case ']':
				r.advance(1)
				r.state = arrTrailer
				continue
			}
			r.state = arrElem
			return Record{}, r.skip(rMalformed, r.off, -1, "invalid character "+quoteByte(c)+" after array element, expected ',' or ']'"), false
		case arrElem:
			c, ok := r.peekNonSpace()
			if !ok {
				r.state = arrDone
				return Record{}, r.skip(rTruncated, r.off, -1, "JSON array not closed"), false
			}
			switch c {
			case ']':
				r.advance(1)
				r.state = arrTrailer
				continue
			case ',':
				start := r.off
				r.advance(1)
				return Record{}, r.skip(rMalformed, start, -1, "unexpected ',' in JSON array"), false
			}
			r.state = arrSep
			return r.readElement()
		}
	}
}

// readElement reads the element starting at buf[r.r].
func (r *Reader) readElement() (Record, *ParseError, bool) {
	r.line++
	start := r.off
	max := r.opts.MaxLineBytes
	var sc elemScanner
	pos := 0
	for {
		end, done := sc.scan(r.buf[r.r:r.w], pos)
		if done {
			if end > max {
				r.advance(end)
				return Record{}, r.skip(rLineTooLong, start, -1, r.tooLong()), false
			}
			raw := r.buf[r.r : r.r+end]
			r.advance(end)
			return r.checked(raw, start, false)
		}
		pos = r.w - r.r
		if pos > max {
			for {
				r.advance(r.w - r.r)
				if !r.fill() {
					break
				}
				if end, done := sc.scan(r.buf[r.r:r.w], 0); done {
					r.advance(end)
					break
				}
			}
			return Record{}, r.skip(rLineTooLong, start, -1, r.tooLong()), false
		}
		if !r.fill() {
			raw := r.buf[r.r:r.w]
			r.advance(r.w - r.r)
			if !sc.scalar {
				r.state = arrDone // the input ends inside this element
			}
			return r.checked(raw, start, !sc.scalar)
		}
	}
}

// checked validates a complete record (cut reports that the input ended
// inside it) and returns it or its error.
func (r *Reader) checked(raw []byte, start int64, cut bool) (Record, *ParseError, bool) {
	why, at, what := r.v.validate(raw)
	if cut && why != rOK {
		why = rTruncated
		if what == "" {
			what = "input ends inside the record"
		}
	}
	if why != rOK {
		return Record{}, r.skip(why, start, at, what), false
	}
	r.read++
	return Record{Raw: raw, Line: r.line, Offset: start}, nil, false
}

func (r *Reader) tooLong() string {
	return "longer than " + strconv.Itoa(r.opts.MaxLineBytes) + " bytes"
}
