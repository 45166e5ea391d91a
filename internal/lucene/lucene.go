// Package lucene converts Sigma rules into OpenSearch query_string queries
// (Lucene classic syntax with OpenSearch's extensions such as _exists_ and
// range shorthands).
//
// The writer is a walk over the rule's condition tree. Its default output
// is correct Sigma semantics on rangehunt's index template (keyword fields
// with a lowercase normalizer and a case-preserving ".cased" sub-field):
// values are lower-cased, cased values and regexes query "<field>.cased",
// regexes are translated to Lucene's whole-value RegExp dialect, keyword
// searches are bound to a field list, and every character that could
// change the query's structure is escaped or quoted. With
// Options.PySigmaCompat it prints exactly what pySigma's OpenSearch Lucene
// backend prints instead. docs/lucene.md lists the differences.
package lucene

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// CasedSuffix is the sub-field holding the case-preserving copy of a
// keyword field in rangehunt's index template.
const CasedSuffix = ".cased"

// DefaultKeywordFields are the fields field-less keyword searches are
// bound to when Options.KeywordFields is empty.
var DefaultKeywordFields = []string{"message"}

// Options control the conversion.
type Options struct {
	// PySigmaCompat prints pySigma's rendering (no case handling,
	// unbound keywords, regexes passed through, "-5" unescaped...).
	PySigmaCompat bool
	// KeywordFields are the fields keyword searches are bound to
	// (default DefaultKeywordFields). Ignored with PySigmaCompat.
	KeywordFields []string
}

// ErrUnsupported is the cause of errors about Sigma features that a Lucene
// query cannot express.
var ErrUnsupported = errors.New("not expressible in a Lucene query")

// Convert returns the queries of rule r: one per condition.
func Convert(r *sigma.Rule, opt Options) ([]string, error) {
	if r.Detection == nil {
		return nil, errors.New("rule has no detection")
	}
	w := &writer{opt: opt}
	if len(w.opt.KeywordFields) == 0 {
		w.opt.KeywordFields = DefaultKeywordFields
	}
	searches := make(map[string]*node, len(r.Detection.Searches))
	for _, s := range r.Detection.Searches {
		n, err := searchNode(s)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", s.Name, err)
		}
		searches[s.Name] = n
	}
	var out []string
	for _, c := range r.Detection.Conditions {
		n, err := condNode(r.Detection, c, searches)
		if err != nil {
			return nil, err
		}
		if n == nil {
			return nil, fmt.Errorf("condition %q selects nothing", c.Source)
		}
		w.b.Reset()
		if err := w.write(n); err != nil {
			return nil, err
		}
		out = append(out, w.b.String())
	}
	if len(out) == 0 {
		return nil, errors.New("rule has no condition")
	}
	return out, nil
}

type writer struct {
	opt Options
	b   strings.Builder
}

// needGroup is pySigma's compare_precedence (with the Lucene backend's
// override for null values) inverted, for a backend with parenthesize set:
// every operator node is grouped, leaves are not, except a null value
// ("NOT _exists_:f") and, inside a NOT, an expansion.
func needGroup(outer, inner *node) bool {
	if inner.kind == kNot && inner.args[0].isNull() {
		return false
	}
	if inner.isNull() {
		return true
	}
	if inner.kind == kAnd || inner.kind == kOr || inner.kind == kNot {
		return true
	}
	if _, ok := inner.value.(sigma.Expansion); ok {
		return outer.kind == kNot
	}
	return false
}

func (w *writer) write(n *node) error {
	switch n.kind {
	case kAnd, kOr:
		if n.kind == kOr && w.asIn(n) {
			return w.writeIn(n)
		}
		op := " AND "
		if n.kind == kOr {
			op = " OR "
		}
		for i, a := range n.args {
			if i > 0 {
				w.b.WriteString(op)
			}
			if err := w.writeGrouped(n, a); err != nil {
				return err
			}
		}
		return nil
	case kNot:
		a := n.args[0]
		if a.isNull() {
			w.b.WriteString("_exists_:")
			w.b.WriteString(w.nullField(a.field))
			return nil
		}
		w.b.WriteString("NOT ")
		if a.kind == kAnd || a.kind == kOr || a.kind == kNot {
			w.b.WriteByte('(')
			if err := w.write(a); err != nil {
				return err
			}
			w.b.WriteByte(')')
			return nil
		}
		return w.write(a)
	case kField:
		return w.writeField(n.field, n.value)
	case kKeyword:
		return w.writeKeyword(n.value)
	}
	return fmt.Errorf("internal: unknown node kind %d", n.kind)
}

func (w *writer) writeGrouped(outer, inner *node) error {
	if !needGroup(outer, inner) {
		return w.write(inner)
	}
	w.b.WriteByte('(')
	if err := w.write(inner); err != nil {
		return err
	}
	w.b.WriteByte(')')
	return nil
}

// asIn is pySigma's decide_convert_condition_as_in_expression: an OR of
// the same field's plain string or number values prints as f:(a OR b).
func (w *writer) asIn(n *node) bool {
	var field string
	for i, a := range n.args {
		if a.kind != kField {
			return false
		}
		if i == 0 {
			field = a.field
		} else if a.field != field {
			return false
		}
		switch v := a.value.(type) {
		case sigma.Number:
		case sigma.String:
			if v.Cased && !w.opt.PySigmaCompat {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (w *writer) writeIn(n *node) error {
	w.b.WriteString(w.field(n.args[0].field, false))
	w.b.WriteString(":(")
	for i, a := range n.args {
		if i > 0 {
			w.b.WriteString(" OR ")
		}
		if err := w.writeValue(a.value); err != nil {
			return err
		}
	}
	w.b.WriteByte(')')
	return nil
}

// writeValue prints a string or number value of an in-list.
func (w *writer) writeValue(v sigma.Value) error {
	switch v := v.(type) {
	case sigma.String:
		if v.Cased && w.opt.PySigmaCompat {
			return errCased
		}
		w.b.WriteString(w.str(v))
	case sigma.Number:
		w.b.WriteString(w.number(v))
	default:
		return fmt.Errorf("internal: in-list value %T", v)
	}
	return nil
}

var errCased = fmt.Errorf("cased: case-sensitive string matching is not supported by pySigma's backend (convert without --pysigma-compat): %w", ErrUnsupported)

func (w *writer) writeField(field string, v sigma.Value) error {
	compat := w.opt.PySigmaCompat
	switch v := v.(type) {
	case sigma.String:
		if v.Cased && compat {
			return errCased
		}
		w.b.WriteString(w.field(field, v.Cased))
		w.b.WriteByte(':')
		w.b.WriteString(w.str(v))
	case sigma.Number:
		w.b.WriteString(w.field(field, false))
		w.b.WriteByte(':')
		w.b.WriteString(w.number(v))
	case sigma.Bool:
		w.b.WriteString(w.field(field, false))
		w.b.WriteByte(':')
		w.b.WriteString(strconv.FormatBool(v.V))
	case sigma.Null:
		w.b.WriteString("NOT _exists_:")
		w.b.WriteString(w.field(field, false))
	case sigma.Exists:
		if !v.Want {
			w.b.WriteString("NOT ")
		}
		w.b.WriteString("_exists_:")
		w.b.WriteString(w.field(field, false))
	case sigma.Regex:
		if compat {
			w.b.WriteString(w.field(field, false))
			w.b.WriteString(":/")
			w.b.WriteString(compatRegex(v))
			w.b.WriteByte('/')
			return nil
		}
		re, err := TranslateRegex(v)
		if err != nil {
			return fmt.Errorf("field %s: regex %q: %w", field, v.Pattern, err)
		}
		w.b.WriteString(w.field(field, true))
		w.b.WriteString(":/")
		w.b.WriteString(re)
		w.b.WriteByte('/')
	case sigma.CIDR:
		pfx := v.Prefix.Masked()
		if compat {
			w.b.WriteString(field)
		} else {
			w.b.WriteString(w.field(field, false))
		}
		w.b.WriteByte(':')
		w.b.WriteString(strings.ReplaceAll(pfx.Addr().String(), ":", `\:`))
		w.b.WriteString(`\/`)
		w.b.WriteString(strconv.Itoa(pfx.Bits()))
	case sigma.Compare:
		w.b.WriteString(w.field(field, false))
		w.b.WriteByte(':')
		w.b.WriteString([...]string{"<", "<=", ">", ">="}[v.Op])
		w.b.WriteString(w.number(v.Num))
	case sigma.Expansion:
		alts := make([]*node, len(v.Alts))
		for i, a := range v.Alts {
			alts[i] = &node{kind: kField, field: field, value: a}
		}
		or := &node{kind: kOr, args: alts}
		if w.asIn(or) {
			return w.writeIn(or)
		}
		return w.write(or)
	case sigma.FieldRef:
		return fmt.Errorf("field %s: fieldref %s: a query_string cannot compare two fields of a document: %w", field, v.Field, ErrUnsupported)
	case sigma.TimePart:
		return fmt.Errorf("field %s: %s modifier: a query_string cannot extract a part of a timestamp: %w", field, v.Unit, ErrUnsupported)
	case sigma.Placeholder:
		return fmt.Errorf("field %s: placeholder %%%s%% has no value (give one with --placeholder %s=v1,v2)", field, v.Name, v.Name)
	default:
		return fmt.Errorf("field %s: value type %T: %w", field, v, ErrUnsupported)
	}
	return nil
}

func (w *writer) writeKeyword(v sigma.Value) error {
	if w.opt.PySigmaCompat {
		switch v := v.(type) {
		case sigma.String:
			if v.Cased {
				return errCased
			}
			w.b.WriteByte('*')
			w.b.WriteString(w.str(v))
			w.b.WriteByte('*')
			return nil
		case sigma.Number:
			w.b.WriteString(w.number(v))
			return nil
		case sigma.Expansion:
			for i, a := range v.Alts {
				if i > 0 {
					w.b.WriteString(" OR ")
				}
				if err := w.writeKeyword(a); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("keyword value %s (%T): %w", v, v, ErrUnsupported)
	}
	// Correct mode: a keyword matches when any of the keyword fields
	// contains it.
	var s sigma.String
	switch v := v.(type) {
	case sigma.String:
		s = v
	case sigma.Number:
		s = sigma.LiteralString(v.Raw)
	case sigma.Bool:
		s = sigma.LiteralString(strconv.FormatBool(v.V))
	case sigma.Expansion:
		w.b.WriteByte('(')
		for i, a := range v.Alts {
			if i > 0 {
				w.b.WriteString(" OR ")
			}
			if err := w.writeKeyword(a); err != nil {
				return err
			}
		}
		w.b.WriteByte(')')
		return nil
	case sigma.Regex:
		re, err := TranslateRegex(sigma.Regex{Pattern: v.Pattern, IgnoreCase: v.IgnoreCase, Multiline: v.Multiline, DotAll: v.DotAll})
		if err != nil {
			return fmt.Errorf("keyword regex %q: %w", v.Pattern, err)
		}
		w.keywordOr(func(f string) { w.b.WriteString(w.field(f, true) + ":/" + re + "/") })
		return nil
	default:
		return fmt.Errorf("keyword value %s (%T): %w", v, v, ErrUnsupported)
	}
	toks := make([]sigma.Token, 0, len(s.Tokens)+2)
	if len(s.Tokens) == 0 || s.Tokens[0].Kind != sigma.AnyChars {
		toks = append(toks, sigma.Token{Kind: sigma.AnyChars})
	}
	toks = append(toks, s.Tokens...)
	if toks[len(toks)-1].Kind != sigma.AnyChars {
		toks = append(toks, sigma.Token{Kind: sigma.AnyChars})
	}
	val := w.str(sigma.String{Tokens: toks, Cased: s.Cased})
	w.keywordOr(func(f string) {
		w.b.WriteString(w.field(f, s.Cased))
		w.b.WriteByte(':')
		w.b.WriteString(val)
	})
	return nil
}

func (w *writer) keywordOr(one func(field string)) {
	fs := w.opt.KeywordFields
	if len(fs) > 1 {
		w.b.WriteByte('(')
	}
	for i, f := range fs {
		if i > 0 {
			w.b.WriteString(" OR ")
		}
		one(f)
	}
	if len(fs) > 1 {
		w.b.WriteByte(')')
	}
}

// field prints a field name. In correct mode a cased comparison goes to
// the case-preserving sub-field.
func (w *writer) field(f string, cased bool) string {
	if w.opt.PySigmaCompat {
		return escapeFieldCompat(f)
	}
	if cased {
		f += CasedSuffix
	}
	return escapeField(f)
}

// nullField prints the field of "not null" (pySigma does not escape it).
func (w *writer) nullField(f string) string {
	if w.opt.PySigmaCompat {
		return f
	}
	return escapeField(f)
}

func (w *writer) str(s sigma.String) string {
	if w.opt.PySigmaCompat {
		return compatString(s)
	}
	return quoteString(s, !s.Cased)
}

func (w *writer) number(n sigma.Number) string {
	text := pyNumber(n)
	if w.opt.PySigmaCompat {
		return text
	}
	return escapeTerm(text)
}

// pyNumber prints a number as Python's str() of pySigma's SigmaNumber.
func pyNumber(n sigma.Number) string {
	if n.IsInt {
		return strconv.FormatInt(n.Int, 10)
	}
	if n.Raw != "" {
		if f, err := strconv.ParseFloat(n.Raw, 64); err == nil && f == n.Float {
			s := strconv.FormatFloat(f, 'f', -1, 64)
			if !strings.Contains(s, ".") {
				s += ".0"
			}
			return s
		}
		return n.Raw
	}
	return strconv.FormatFloat(n.Float, 'g', -1, 64)
}
