package sigma

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// itemType is the kind of a condition token.
type itemType uint8

const (
	itemError itemType = iota // lexing error; val is the message
	itemEOF
	itemIdent  // search name or pattern (may hold '*')
	itemNumber // the count of "1 of"
	itemAnd
	itemOr
	itemNot
	itemOf
	itemAll
	itemThem
	itemLParen
	itemRParen
	itemPipe // '|' of a v1 aggregation
	itemNear // v1 "near"
)

var itemNames = map[itemType]string{
	itemError: "error", itemEOF: "end of condition", itemIdent: "identifier", itemNumber: "number",
	itemAnd: "'and'", itemOr: "'or'", itemNot: "'not'", itemOf: "'of'", itemAll: "'all'",
	itemThem: "'them'", itemLParen: "'('", itemRParen: "')'", itemPipe: "'|'", itemNear: "'near'",
}

func (t itemType) String() string { return itemNames[t] }

// keywords are matched case-insensitively, as whole words.
var keywords = map[string]itemType{
	"and": itemAnd, "or": itemOr, "not": itemNot, "of": itemOf,
	"all": itemAll, "them": itemThem, "near": itemNear,
}

// item is one token: its type, its text and its byte offset.
type item struct {
	typ itemType
	pos int
	val string
}

func (i item) describe() string {
	switch i.typ {
	case itemEOF:
		return "end of condition"
	case itemIdent:
		return fmt.Sprintf("identifier %q", i.val)
	case itemNumber:
		return fmt.Sprintf("number %q", i.val)
	}
	return i.typ.String()
}

// stateFn is a lexer state: it consumes input, may emit an item and
// returns the next state (nil stops the lexer).
type stateFn func(*lexer) stateFn

// lexer turns a condition into items. It is pulled synchronously by
// nextItem: states run until one item is ready (no goroutine).
type lexer struct {
	input string
	start int // start of the current item
	pos   int // current position
	state stateFn
	item  item
	ready bool
}

func newLexer(src string) *lexer {
	return &lexer{input: src, state: lexSpace}
}

// nextItem returns the next item; after the end it keeps returning EOF.
func (l *lexer) nextItem() item {
	for !l.ready {
		if l.state == nil {
			return item{typ: itemEOF, pos: len(l.input)}
		}
		l.state = l.state(l)
	}
	l.ready = false
	return l.item
}

func (l *lexer) emit(t itemType) {
	l.item = item{typ: t, pos: l.start, val: l.input[l.start:l.pos]}
	l.ready = true
	l.start = l.pos
}

func (l *lexer) errorf(format string, args ...any) stateFn {
	l.item = item{typ: itemError, pos: l.start, val: fmt.Sprintf(format, args...)}
	l.ready = true
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isIdentByte reports whether c may appear in an identifier or pattern:
// anything but white space, parentheses and the v1 pipe.
func isIdentByte(c byte) bool {
	return !isSpace(c) && c != '(' && c != ')' && c != '|'
}

// lexSpace skips white space and dispatches on the next byte.
func lexSpace(l *lexer) stateFn {
	for l.pos < len(l.input) && isSpace(l.input[l.pos]) {
		l.pos++
	}
	l.start = l.pos
	if l.pos >= len(l.input) {
		l.emit(itemEOF)
		return nil
	}
	switch c := l.input[l.pos]; c {
	case '(':
		l.pos++
		l.emit(itemLParen)
		return lexSpace
	case ')':
		l.pos++
		l.emit(itemRParen)
		return lexSpace
	case '|':
		l.pos++
		l.emit(itemPipe)
		return lexSpace
	default:
		if c >= utf8.RuneSelf {
			r, _ := utf8.DecodeRuneInString(l.input[l.pos:])
			if r == utf8.RuneError {
				return l.errorf("invalid UTF-8 in condition")
			}
		}
		return lexWord
	}
}

// lexWord scans an identifier, a pattern, a number or a keyword.
func lexWord(l *lexer) stateFn {
	for l.pos < len(l.input) && isIdentByte(l.input[l.pos]) {
		l.pos++
	}
	word := l.input[l.start:l.pos]
	if t, ok := keywords[strings.ToLower(word)]; ok {
		l.emit(t)
		return lexSpace
	}
	if isDigits(word) {
		l.emit(itemNumber)
		return lexSpace
	}
	l.emit(itemIdent)
	return lexSpace
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
