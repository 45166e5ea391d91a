// Package sigma is rangehunt's Sigma engine front end: the rule model, the
// YAML parser and validator for the Sigma specification v2.1, and the
// condition lexer/parser. Matching lives in internal/match, conversion in
// internal/lucene, field mapping in internal/sigma/pipeline.
//
// Value modifiers are applied at parse time: a detection item holds the
// values it finally compares with (wildcard strings, regexes, CIDR
// prefixes, comparisons, expansions...), so back ends never re-interpret
// modifiers.
package sigma

import (
	"net/netip"
	"time"
)

// Pos is a 1-based line and column in a rule file. The zero Pos means
// "unknown".
type Pos struct {
	Line int
	Col  int
}

// File is the result of parsing one YAML file, which may hold several
// documents: rules, correlation rules and filters, in file order.
type File struct {
	Path         string
	Rules        []*Rule
	Correlations []*Correlation
	Filters      []*Filter
}

// Meta holds the attributes every Sigma document has.
type Meta struct {
	// Path and Doc (0-based index of the YAML document in the file) say
	// where the document came from; Pos is the document's first line.
	Path string
	Doc  int
	Pos  Pos

	Title          string
	ID             string
	Name           string
	Status         string
	Description    string
	License        string
	Author         string
	Date           string
	Modified       string
	Level          string
	Taxonomy       string
	References     []string
	Tags           []string
	FalsePositives []string
	Fields         []string
	Related        []Related
	// Scope limits a filter or rule to named deployments (rarely used).
	Scope []string
}

// Related links a rule to another by id.
type Related struct {
	ID   string
	Type string // derived, obsolete, merged, renamed, similar
}

// Logsource selects the events a rule applies to.
type Logsource struct {
	Category   string
	Product    string
	Service    string
	Definition string
}

// Rule is a detection rule.
type Rule struct {
	Meta
	Logsource Logsource
	Detection *Detection
}

// Detection is a rule's (or filter's) detection section.
type Detection struct {
	// Searches in file order; names are unique.
	Searches []*Search
	// Conditions are OR-linked: a list of conditions in the rule means
	// several queries.
	Conditions []*Condition
}

// Search returns the search with the given name, or nil.
func (d *Detection) Search(name string) *Search {
	for _, s := range d.Searches {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Search is one named detection identifier. It matches when any of its
// groups matches (a list of maps is OR-linked); a group matches when all
// of its items match (a map is AND-linked).
type Search struct {
	Name   string
	Pos    Pos
	Groups []*Group
	// Keywords is true for field-less searches: a list of values (or a
	// map with the single key '|all') matched against the whole event.
	// Such a search has one group with one item whose Field is "".
	Keywords bool
}

// Group is an AND of items: one YAML map of a search.
type Group struct {
	Pos   Pos
	Items []*Item
}

// Item is one "field|modifiers: values" entry after modifiers are applied.
type Item struct {
	// Field is the field name as written (after a pipeline: as mapped);
	// "" for keyword searches.
	Field string
	// Modifiers as written, in order, lower case (for display and lint).
	Modifiers []string
	// Values are OR-linked, or AND-linked when All is set.
	Values []Value
	All    bool
	// Negate is set by the neq modifier: the item matches when the field
	// differs from every value.
	Negate bool
	Pos    Pos
}

// Value is one value to compare a field with. The concrete types are
// String, Regex, CIDR, Number, Bool, Null, Exists, Compare, FieldRef,
// TimePart, Expansion and Placeholder.
type Value interface {
	// String renders the value in Sigma's own notation, for messages.
	String() string
	sigmaValue()
}

// TokenKind tells what a String token is.
type TokenKind uint8

// String token kinds.
const (
	Literal  TokenKind = iota // literal text
	AnyChars                  // unescaped '*': any run of characters, also none
	AnyChar                   // unescaped '?': exactly one character
)

// Token is a piece of a String: literal text or a wildcard.
type Token struct {
	Kind TokenKind
	Text string // the literal text, with escapes resolved; empty for wildcards
}

// String is a string value with its wildcards resolved into tokens.
// Matching is case-insensitive unless Cased is set. Adjacent literal
// tokens are merged, so "a\*b" is one Literal token "a*b".
type String struct {
	Tokens []Token
	Cased  bool
}

// Regex is a regular expression value (the re modifier). Sigma regexes are
// case-sensitive unless IgnoreCase (re|i) is set.
type Regex struct {
	Pattern    string
	IgnoreCase bool // i
	Multiline  bool // m
	DotAll     bool // s
}

// Flags returns the regex's flags as written after the re modifier and in
// an inline group: a subset of "ims", in that order.
func (r Regex) Flags() string {
	var b [3]byte
	n := 0
	if r.IgnoreCase {
		b[n] = 'i'
		n++
	}
	if r.Multiline {
		b[n] = 'm'
		n++
	}
	if r.DotAll {
		b[n] = 's'
		n++
	}
	return string(b[:n])
}

// CIDR is an IPv4 or IPv6 network (the cidr modifier).
type CIDR struct {
	Prefix netip.Prefix
}

// Number is a numeric value as written in the rule.
type Number struct {
	Raw   string // as written, e.g. "4624", "-5", "1.5"
	Float float64
	Int   int64
	IsInt bool
}

// Bool is a boolean value.
type Bool struct{ V bool }

// Null matches a field that is absent or null.
type Null struct{}

// Exists is the exists modifier: the field is present (Want) or absent.
type Exists struct{ Want bool }

// CompareOp is a numeric comparison.
type CompareOp uint8

// Comparison operators.
const (
	LT CompareOp = iota
	LTE
	GT
	GTE
)

// Compare is a numeric comparison (lt, lte, gt, gte).
type Compare struct {
	Op  CompareOp
	Num Number
}

// FieldRef compares the field with another field of the same event (the
// fieldref modifier).
type FieldRef struct{ Field string }

// TimeUnit is a part of a timestamp for the time modifiers.
type TimeUnit uint8

// Time units of the minute..year modifiers.
const (
	Minute TimeUnit = iota
	Hour
	Day
	Week
	Month
	Year
)

// TimePart compares one part of a timestamp field with a number.
type TimePart struct {
	Unit TimeUnit
	Num  Number
}

// Expansion is a set of alternatives that all stand for one written value
// (windash permutations, base64offset shifts, expanded placeholders): it
// matches when any alternative matches.
type Expansion struct{ Alts []Value }

// Placeholder is an unexpanded %name% of the expand modifier. Back ends
// reject rules that still hold one; pipeline.ExpandPlaceholders replaces
// it with the user's values.
type Placeholder struct {
	Name string
	// Prefix and Suffix are tokens around the placeholder in the value,
	// e.g. "*" in "%Servers%*".
	Prefix, Suffix []Token
}

func (String) sigmaValue()      {}
func (Regex) sigmaValue()       {}
func (CIDR) sigmaValue()        {}
func (Number) sigmaValue()      {}
func (Bool) sigmaValue()        {}
func (Null) sigmaValue()        {}
func (Exists) sigmaValue()      {}
func (Compare) sigmaValue()     {}
func (FieldRef) sigmaValue()    {}
func (TimePart) sigmaValue()    {}
func (Expansion) sigmaValue()   {}
func (Placeholder) sigmaValue() {}

// Condition is one entry of a rule's condition.
type Condition struct {
	Source string // as written
	Pos    Pos    // of the YAML scalar
	Expr   Expr
}

// Expr is a node of a condition's syntax tree. Offsets are byte offsets
// into Condition.Source.
type Expr interface {
	// Offset is the node's first byte in the condition text.
	Offset() int
	// String prints the expression so that it parses back to the same tree.
	String() string
	sigmaExpr()
}

// AndExpr is "L and R".
type AndExpr struct {
	L, R Expr
	Off  int
	// Paren is set when the author wrote the expression in parentheses.
	// It changes no meaning; writers that mirror the author's grouping
	// (the pySigma-compatible Lucene output) use it.
	Paren bool
}

// OrExpr is "L or R".
type OrExpr struct {
	L, R  Expr
	Off   int
	Paren bool // see AndExpr.Paren
}

// NotExpr is "not X".
type NotExpr struct {
	X   Expr
	Off int
}

// IdentExpr names one search.
type IdentExpr struct {
	Name string
	Off  int
}

// OfExpr is "1 of pattern", "all of pattern", "1 of them", "all of them".
type OfExpr struct {
	All     bool   // all of (otherwise 1 of)
	Pattern string // the pattern as written; "them" for them
	Them    bool
	// Names are the searches the pattern matched, in file order; filled
	// by the parser ("them" excludes names starting with '_').
	Names []string
	Off   int
}

func (e *AndExpr) Offset() int   { return e.Off }
func (e *OrExpr) Offset() int    { return e.Off }
func (e *NotExpr) Offset() int   { return e.Off }
func (e *IdentExpr) Offset() int { return e.Off }
func (e *OfExpr) Offset() int    { return e.Off }

func (*AndExpr) sigmaExpr()   {}
func (*OrExpr) sigmaExpr()    {}
func (*NotExpr) sigmaExpr()   {}
func (*IdentExpr) sigmaExpr() {}
func (*OfExpr) sigmaExpr()    {}

// CorrelationType is the kind of a correlation rule.
type CorrelationType string

// Correlation types of Sigma v2.1.
const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
	ValueSum        CorrelationType = "value_sum"
	ValueAvg        CorrelationType = "value_avg"
	ValuePercentile CorrelationType = "value_percentile"
)

// Correlation is a correlation rule over the matches of other rules.
type Correlation struct {
	Meta
	Type CorrelationType
	// Rules are the referenced rules' ids or names, as written.
	Rules    []string
	GroupBy  []string
	Timespan time.Duration
	// Condition is empty for temporal types without a condition.
	Condition CorrelationCondition
	// Aliases map an alias field to each referenced rule's own field.
	Aliases  []Alias
	Generate bool
}

// CorrelationCondition is the threshold a group must meet.
type CorrelationCondition struct {
	// Field is the field counted/summed (value_* types).
	Field string
	// Ops are AND-linked: {gte 10} or a range {gt 5, lte 10}.
	Ops []CorrelationOp
	// Percentile for value_percentile (0..100).
	Percentile float64
}

// CorrelationOp is one comparison of a correlation condition.
type CorrelationOp struct {
	Op    string // gt, gte, lt, lte, eq, neq
	Value float64
}

// Alias is one entry of a correlation's aliases section.
type Alias struct {
	Name string
	// Fields maps a referenced rule (id or name) to its field.
	Fields map[string]string
}

// Filter is a Sigma filter document: extra conditions applied to the
// referenced rules.
type Filter struct {
	Meta
	Logsource Logsource
	Rules     []string
	Detection *Detection
}
