package ecs

import (
	"errors"
	"fmt"
	"strconv"
)

// Causes of a *ParseError, for errors.Is. Their texts are also the reasons
// under which Stats.Skipped counts skipped records.
var (
	ErrMalformed   = errors.New("malformed JSON")
	ErrTruncated   = errors.New("truncated")
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	ErrNotObject   = errors.New("not a JSON object")
	ErrLineTooLong = errors.New("line too long")
)

// Reasons under which Stats.Skipped counts records. Each error reason is
// the text of the matching Err* sentinel; ReasonEmptyLine counts blank lines,
// which are not errors.
const (
	ReasonMalformed   = "malformed JSON"
	ReasonTruncated   = "truncated"
	ReasonInvalidUTF8 = "invalid UTF-8"
	ReasonNotObject   = "not a JSON object"
	ReasonLineTooLong = "line too long"
	ReasonEmptyLine   = "empty line"
)

// reason indexes the per-reason counters of a Reader.
type reason uint8

const (
	rOK reason = iota
	rMalformed
	rTruncated
	rInvalidUTF8
	rNotObject
	rLineTooLong
	rEmptyLine
	nReasons
)

var reasonText = [nReasons]string{
	rMalformed:   ReasonMalformed,
	rTruncated:   ReasonTruncated,
	rInvalidUTF8: ReasonInvalidUTF8,
	rNotObject:   ReasonNotObject,
	rLineTooLong: ReasonLineTooLong,
	rEmptyLine:   ReasonEmptyLine,
}

var reasonErr = [nReasons]error{
	rMalformed:   ErrMalformed,
	rTruncated:   ErrTruncated,
	rInvalidUTF8: ErrInvalidUTF8,
	rNotObject:   ErrNotObject,
	rLineTooLong: ErrLineTooLong,
}

// syntaxError is a problem found inside one record: its category (one of
// the Err* sentinels), what was found, and the 0-based byte position inside
// the record.
type syntaxError struct {
	kind error
	what string
	pos  int
}

func (e *syntaxError) Error() string {
	if e.pos < 0 {
		return e.kind.Error() + ": " + e.what
	}
	if e.what == "" {
		return e.kind.Error() + " at byte " + strconv.Itoa(e.pos)
	}
	return e.kind.Error() + ": " + e.what + " at byte " + strconv.Itoa(e.pos)
}

func (e *syntaxError) Unwrap() error { return e.kind }

// ParseError is a malformed record: the input's name, the record's 1-based
// line (NDJSON) or element index (JSON array), the byte offset of the
// problem in the decompressed input, its 1-based byte column, and the
// cause. errors.Is(err, ErrMalformed) (or ErrTruncated, ErrInvalidUTF8,
// ErrNotObject, ErrLineTooLong) tells the category.
//
// For stray data between or after the elements of a JSON array file, Line
// is the index of the element before it and Column is 0.
type ParseError struct {
	File string
	// Line is the 1-based line (NDJSON) or element index (JSON array).
	Line int64
	// Column is the 1-based byte column of the problem in the line
	// (NDJSON) or element (JSON array); 0 when the problem concerns the
	// whole record (too long) or lies outside any element.
	Column int
	// Offset is the byte offset of the problem (or of the record when
	// Column is 0) in the decompressed input.
	Offset int64
	// Array reports that Line is an element index of a JSON array file.
	Array bool
	Err   error
}

func (e *ParseError) Error() string {
	where := "line"
	if e.Array {
		where = "element"
	}
	msg := ""
	if se, ok := e.Err.(*syntaxError); ok {
		// The column already gives the position.
		msg = se.kind.Error()
		if se.what != "" {
			msg += ": " + se.what
		}
	} else if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Column > 0 {
		return fmt.Sprintf("%s: %s %d, column %d (offset %d): %s", e.File, where, e.Line, e.Column, e.Offset, msg)
	}
	return fmt.Sprintf("%s: %s %d (offset %d): %s", e.File, where, e.Line, e.Offset, msg)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }
