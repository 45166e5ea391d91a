package sigma

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel causes of parse errors, for errors.Is.
var (
	// ErrParse is the category of every error about a rule's content.
	ErrParse = errors.New("sigma parse error")
	// ErrYAML is malformed YAML.
	ErrYAML = errors.New("malformed YAML")
	// ErrUnsupportedV1 is Sigma 1 syntax removed in Sigma 2 (aggregations,
	// near, timeframe, rule collections).
	ErrUnsupportedV1 = errors.New("unsupported since Sigma 2")
	// ErrModifier is an unknown or misused value modifier.
	ErrModifier = errors.New("bad modifier")
	// ErrCondition is a syntax or reference error in a condition.
	ErrCondition = errors.New("bad condition")
	// ErrReference is an unresolved or cyclic reference between documents.
	ErrReference = errors.New("bad reference")
	// ErrLimit is input that exceeds a safety limit (size, nesting, aliases).
	ErrLimit = errors.New("limit exceeded")
	// ErrInternal is a recovered panic: a bug in the parser.
	ErrInternal = errors.New("internal error")
)

// Error is one problem found in a rule file, with its position. Warnings
// (Warning set) report questionable but valid content.
type Error struct {
	File    string
	Pos     Pos
	Msg     string
	Err     error // sentinel cause, for errors.Is; may be nil
	Warning bool
}

// Error formats the problem as "file:line:col: msg".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Pos.Line)
		if e.Pos.Col > 0 {
			fmt.Fprintf(&b, "%d:", e.Pos.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every Error match ErrParse, except recovered panics.
func (e *Error) Is(target error) bool {
	return target == ErrParse && e.Err != ErrInternal
}

// ErrorList is a list of errors and warnings. Its Err method returns nil
// when it holds no error (warnings alone do not count).
type ErrorList []*Error

func (l *ErrorList) add(file string, pos Pos, cause error, warning bool, format string, args ...any) {
	*l = append(*l, &Error{File: file, Pos: pos, Msg: fmt.Sprintf(format, args...), Err: cause, Warning: warning})
}

// Errors returns the entries that are errors, not warnings.
func (l ErrorList) Errors() ErrorList {
	var out ErrorList
	for _, e := range l {
		if !e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns the entries that are warnings.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Sort orders the list by file, line, column and message.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
}

// Error describes the first error and how many more there are.
func (l ErrorList) Error() string {
	errs := l.Errors()
	if len(errs) == 0 {
		errs = l
	}
	switch len(errs) {
	case 0:
		return "no errors"
	case 1:
		return errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", errs[0], len(errs)-1)
}

// Err returns the list as an error if it holds at least one error (not
// only warnings), nil otherwise.
func (l ErrorList) Err() error {
	if len(l.Errors()) == 0 {
		return nil
	}
	return l
}

// Unwrap gives errors.Is/As access to every entry.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
