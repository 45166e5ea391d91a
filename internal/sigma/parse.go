package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits on input, so that hostile files fail fast with a clear error.
const (
	// MaxFileSize is the largest rule file accepted (Sigma rules are a
	// few kilobytes; SigmaHQ's largest is under 100 KiB).
	MaxFileSize = 4 << 20
	// MaxAliasNodes bounds the nodes reached through YAML aliases in one
	// file (defeats "billion laughs" alias bombs).
	MaxAliasNodes = 10000
	// MaxDocuments bounds the YAML documents of one file.
	MaxDocuments = 10000
)

// ParseFile reads and parses a rule file. See Parse.
func ParseFile(path string) (*File, ErrorList) {
	data, errs := readRuleFile(path)
	if errs != nil {
		return &File{Path: path}, errs
	}
	return Parse(path, data)
}

// readRuleFile reads a file, at most MaxFileSize+1 bytes (Parse rejects
// larger files).
func readRuleFile(path string) ([]byte, ErrorList) {
	var errs ErrorList
	f, err := os.Open(path)
	if err != nil {
		errs.add(path, Pos{}, err, false, "%v", unwrapPathError(err))
		return nil, errs
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		errs.add(path, Pos{}, err, false, "read: %v", unwrapPathError(err))
		return nil, errs
	}
	return data, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Parse parses all YAML documents of a rule file: rules, correlation
// rules and filters. It returns what parsed (documents with errors are
// left out) and every error and warning, with positions; path is used in
// messages only.
func Parse(path string, data []byte) (*File, ErrorList) {
	f, p := parseData(path, data)
	return f, p.errs
}

// parseData parses a file and returns the parser, which also knows which
// errors belong to which document.
func parseData(path string, data []byte) (file *File, p *parser) {
	file = &File{Path: path}
	p = &parser{path: path, data: data}
	defer func() {
		if r := recover(); r != nil {
			p.errs.add(path, Pos{}, ErrInternal, false, "internal error: %v", r)
		}
	}()
	if len(data) > MaxFileSize {
		p.errs.add(path, Pos{}, ErrLimit, false, "file is %d bytes, larger than the %d-byte limit for rule files", len(data), MaxFileSize)
		return file, p
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		p.errs.add(path, p.posAt(off), ErrYAML, false, "invalid UTF-8 at byte %d", off)
		return file, p
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.yamlError(err)
			break
		}
		if doc >= MaxDocuments {
			p.errs.add(path, Pos{Line: n.Line, Col: n.Column}, ErrLimit, false, "more than %d YAML documents in one file", MaxDocuments)
			break
		}
		p.aliasNodes = 0
		p.docs = append(p.docs, docInfo{start: len(p.errs), pos: docPos(&n)})
		p.document(file, doc, &n)
		p.docs[len(p.docs)-1].end = len(p.errs)
	}
	return file, p
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// yamlParserProblems are the messages of yaml.v3's parser stage (as
// opposed to its scanner), whose line numbers are 0-based.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected key": true,
	"did not find expected node content": true, "found undefined tag handle": true,
	"did not find expected <document start>": true, "did not find expected <stream-start>": true,
	"found duplicate %TAG directive": true, "found duplicate %YAML directive": true,
	"found incompatible YAML document": true,
}

// yamlError turns a yaml.v3 error into positioned errors.
func (p *parser) yamlError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			p.yamlMessage(m)
		}
		return
	}
	p.yamlMessage(err.Error())
}

func (p *parser) yamlMessage(msg string) {
	pos := Pos{}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			pos.Line, _ = strconv.Atoi(m[1])
			// yaml.v3 reports parser (not scanner) errors with a
			// 0-based line: the line where the broken construct starts.
			if yamlParserProblems[m[2]] {
				pos.Line++
			}
		}
		msg = m[2]
	}
	// yaml.v3 gives no line for an unknown alias: find its first use.
	if am := unknownAnchorRE.FindStringSubmatch(msg); am != nil && pos.Line == 0 {
		if i := bytes.Index(p.data, []byte("*"+am[1])); i >= 0 {
			pos = p.posAt(i)
		}
	}
	p.errs.add(p.path, pos, ErrYAML, false, "malformed YAML: %s", msg)
}

type parser struct {
	path       string
	data       []byte
	lineStarts []int // byte offsets of line starts, built on demand
	errs       ErrorList
	aliasNodes int
	collection Pos // set once a v1 "action:" document is seen
	docs       []docInfo
	nErr       int // errors (not warnings) reported through errorf
}

// docInfo records which errors belong to which document, for lint.
type docInfo struct {
	meta       Meta
	pos        Pos
	kind       docKind
	start, end int // p.errs[start:end]
}

func docPos(n *yaml.Node) Pos {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return nodePos(n.Content[0])
	}
	return nodePos(n)
}

func (p *parser) errorf(pos Pos, cause error, format string, args ...any) {
	p.errs.add(p.path, pos, cause, false, format, args...)
	p.nErr++
}

func (p *parser) warnf(pos Pos, format string, args ...any) {
	p.errs.add(p.path, pos, nil, true, format, args...)
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// posAt converts a byte offset of the file into a line and column.
func (p *parser) posAt(off int) Pos {
	p.buildLines()
	line := 0
	lo, hi := 0, len(p.lineStarts)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if p.lineStarts[mid] <= off {
			line, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	return Pos{Line: line + 1, Col: utf8.RuneCount(p.data[p.lineStarts[line]:min(off, len(p.data))]) + 1}
}

func (p *parser) buildLines() {
	if p.lineStarts != nil {
		return
	}
	p.lineStarts = append(p.lineStarts, 0)
	for i, c := range p.data {
		if c == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
}

// lineText returns line (1-based) of the file without its newline.
func (p *parser) lineText(line int) string {
	p.buildLines()
	if line < 1 || line > len(p.lineStarts) {
		return ""
	}
	start := p.lineStarts[line-1]
	end := len(p.data)
	if line < len(p.lineStarts) {
		end = p.lineStarts[line] - 1
	}
	return strings.TrimRight(string(p.data[start:end]), "\r")
}

// scalarPos returns the position of byte offset off of a scalar's value,
// exact for single-line plain and quoted scalars and for literal blocks;
// otherwise the scalar's own position.
func (p *parser) scalarPos(n *yaml.Node, off int) Pos {
	v := n.Value
	if off > len(v) {
		off = len(v)
	}
	switch n.Style {
	case 0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if n.Style == 0 && strings.IndexByte(v, '\n') < 0 && p.lineHas(n, v) {
			return Pos{Line: n.Line, Col: n.Column + utf8.RuneCountInString(v[:off])}
		}
		if i, ok := p.nodeOffset(n); ok {
			if n.Style != 0 {
				i++ // opening quote
			}
			if i, ok := p.sourceOffset(n, i, off); ok {
				return p.posAt(i)
			}
		}
		return nodePos(n)
	case yaml.FoldedStyle:
		p.buildLines()
		if n.Line < len(p.lineStarts) {
			i := p.lineStarts[n.Line] // the line after the '>' indicator
			for i < len(p.data) && (p.data[i] == ' ' || p.data[i] == '\n') {
				i++
			}
			if i, ok := p.sourceOffset(n, i, off); ok {
				return p.posAt(i)
			}
		}
		return nodePos(n)
	case yaml.LiteralStyle:
		lineIdx := strings.Count(v[:off], "\n")
		lineStart := strings.LastIndexByte(v[:off], '\n') + 1
		line := n.Line + 1 + lineIdx
		// The block's indentation is that of its first non-empty line.
		indent := 0
		for l := n.Line + 1; l <= line; l++ {
			if text := p.lineText(l); strings.TrimSpace(text) != "" {
				indent = len(text) - len(strings.TrimLeft(text, " "))
				break
			}
		}
		return Pos{Line: line, Col: indent + 1 + utf8.RuneCountInString(v[lineStart:off])}
	}
	return nodePos(n)
}

// nodeOffset returns the byte offset of a node's first character.
func (p *parser) nodeOffset(n *yaml.Node) (int, bool) {
	p.buildLines()
	if n.Line < 1 || n.Line > len(p.lineStarts) {
		return 0, false
	}
	i := p.lineStarts[n.Line-1]
	for col := 1; col < n.Column; col++ {
		if i >= len(p.data) || p.data[i] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(p.data[i:])
		i += size
	}
	return i, true
}

// lineHas reports whether a plain single-line scalar's text is in the
// source at its position (so columns can be counted directly).
func (p *parser) lineHas(n *yaml.Node, v string) bool {
	i, ok := p.nodeOffset(n)
	return ok && bytes.HasPrefix(p.data[i:], []byte(v))
}

// sourceOffset maps byte offset off of a scalar's value to a byte offset
// of the file, starting at file offset i (the value's first character) and
// walking the source and the value together: a run of white
// space and line breaks in the source stands for the folded white space
// of the value; quotes and escapes are skipped.
func (p *parser) sourceOffset(n *yaml.Node, i, off int) (int, bool) {
	v := n.Value
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	j := 0
	for j < off {
		if i >= len(p.data) {
			return 0, false
		}
		c := p.data[i]
		switch {
		case c == v[j] && !(n.Style == yaml.DoubleQuotedStyle && c == '\\') && !(n.Style == yaml.SingleQuotedStyle && c == '\''):
			i++
			j++
		case isWS(c) && isWS(v[j]):
			for i < len(p.data) && isWS(p.data[i]) {
				i++
			}
			for j < len(v) && isWS(v[j]) {
				j++
			}
		case n.Style == yaml.SingleQuotedStyle && c == '\'' && i+1 < len(p.data) && p.data[i+1] == '\'' && v[j] == '\'':
			i += 2
			j++
		case n.Style == yaml.DoubleQuotedStyle && c == '\\' && i+1 < len(p.data):
			// One escape sequence stands for one character of the value.
			i += 2
			switch p.data[i-1] {
			case 'x':
				i += 2
			case 'u':
				i += 4
			case 'U':
				i += 8
			}
			_, size := utf8.DecodeRuneInString(v[j:])
			j += size
		default:
			return 0, false
		}
	}
	if j != off || i > len(p.data) {
		return 0, false
	}
	return i, true
}

// resolve follows aliases, counting the nodes reached through them.
func (p *parser) resolve(n *yaml.Node) (*yaml.Node, bool) {
	if n.Kind != yaml.AliasNode {
		return n, true
	}
	target := n.Alias
	if target == nil {
		p.errorf(nodePos(n), ErrYAML, "unknown YAML alias %q", n.Value)
		return nil, false
	}
	p.aliasNodes += countNodes(target, MaxAliasNodes-p.aliasNodes+1)
	if p.aliasNodes > MaxAliasNodes {
		p.errorf(nodePos(n), ErrLimit, "document contains excessive aliasing (more than %d nodes reached through aliases)", MaxAliasNodes)
		return nil, false
	}
	if target.Kind == yaml.AliasNode {
		return p.resolve(target)
	}
	return target, true
}

// countNodes counts the nodes under n, following aliases, stopping once
// the count exceeds limit.
func countNodes(n *yaml.Node, limit int) int {
	count := 1
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, depth int) {
		if count > limit || depth > 100 {
			count = limit + 1
			return
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			walk(n.Alias, depth+1)
			return
		}
		for _, c := range n.Content {
			count++
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return count
}

// pair is one key/value of a YAML mapping.
type pair struct {
	key, val *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting duplicate keys and
// non-scalar keys; ok is false if n is not a mapping.
func (p *parser) mapping(n *yaml.Node, what string) ([]pair, bool) {
	n, ok := p.resolve(n)
	if !ok {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(nodePos(n), ErrParse, "%s must be a map, not %s", what, kindName(n))
		return nil, false
	}
	pairs := make([]pair, 0, len(n.Content)/2)
	var seen map[string]bool
	if len(n.Content) > 2 {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, okk := p.resolve(n.Content[i])
		v, okv := p.resolve(n.Content[i+1])
		if !okk || !okv {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(nodePos(k), ErrParse, "%s: keys must be plain strings, not %s", what, kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			p.errorf(nodePos(k), ErrParse, "%s: YAML merge keys (<<) are not supported", what)
			continue
		}
		if seen != nil {
			if seen[k.Value] {
				p.errorf(nodePos(k), ErrParse, "%s: duplicate key %q", what, k.Value)
				continue
			}
			seen[k.Value] = true
		}
		pairs = append(pairs, pair{k, v})
	}
	return pairs, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "an empty document"
}

// str reads a scalar string attribute.
func (p *parser) str(n *yaml.Node, what string) string {
	n, ok := p.resolve(n)
	if !ok {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(nodePos(n), ErrParse, "%s must be a single value, not %s", what, kindName(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strList reads a list of strings; a single value counts as a list of one.
func (p *parser) strList(n *yaml.Node, what string) []string {
	n, ok := p.resolve(n)
	if !ok {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			c, ok := p.resolve(c)
			if !ok {
				return out
			}
			if c.Kind != yaml.ScalarNode {
				p.errorf(nodePos(c), ErrParse, "%s: entries must be single values, not %s", what, kindName(c))
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	p.errorf(nodePos(n), ErrParse, "%s must be a list, not %s", what, kindName(n))
	return nil
}

// docKind is what a YAML document is.
type docKind uint8

const (
	docRule docKind = iota
	docCorrelation
	docFilter
)

// document parses one YAML document into the file.
func (p *parser) document(file *File, doc int, n *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return // empty document, e.g. after a trailing '---'
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	pairs, ok := p.mapping(n, "a Sigma document")
	if !ok {
		return
	}
	if p.collection.Line > 0 {
		p.errorf(nodePos(n), ErrUnsupportedV1, "document %d belongs to the v1 rule collection started at line %d, unsupported since Sigma 2 (write one complete rule per document)", doc+1, p.collection.Line)
		return
	}
	before := p.nErr
	meta := Meta{Path: p.path, Doc: doc, Pos: nodePos(n)}
	kind := docRule
	var logsource *yaml.Node
	var detection, correlation, filter *yaml.Node
	var detectionKey, generate *yaml.Node
	for _, kv := range pairs {
		k, v := kv.key.Value, kv.val
		switch k {
		case "title":
			meta.Title = p.str(v, k)
		case "id":
			meta.ID = p.str(v, k)
		case "name":
			meta.Name = p.str(v, k)
		case "status":
			meta.Status = p.str(v, k)
		case "description":
			meta.Description = p.str(v, k)
		case "license":
			meta.License = p.str(v, k)
		case "author":
			meta.Author = p.str(v, k)
		case "date":
			meta.Date = p.str(v, k)
		case "modified":
			meta.Modified = p.str(v, k)
		case "level":
			meta.Level = p.str(v, k)
		case "taxonomy":
			meta.Taxonomy = p.str(v, k)
		case "references":
			meta.References = p.strList(v, k)
		case "tags":
			meta.Tags = p.strList(v, k)
		case "falsepositives":
			meta.FalsePositives = p.strList(v, k)
		case "fields":
			meta.Fields = p.strList(v, k)
		case "scope":
			meta.Scope = p.strList(v, k)
		case "related":
			meta.Related = p.related(v)
		case "logsource":
			logsource = v
		case "detection":
			detection, detectionKey = v, kv.key
		case "correlation":
			correlation, kind = v, docCorrelation
		case "filter":
			filter, kind = v, docFilter
		case "generate":
			generate = v
		case "action":
			p.collection = nodePos(kv.key)
			p.errorf(nodePos(kv.key), ErrUnsupportedV1, "v1 rule collection (action: %s) is unsupported since Sigma 2 (write one complete rule per document)", p.str(v, k))
		}
	}
	d := &p.docs[len(p.docs)-1]
	d.meta, d.kind = meta, kind
	if p.collection.Line > 0 {
		return // the v1 collection's first document
	}
	p.validateMeta(&meta, kind, pairs)
	if correlation != nil && filter != nil {
		p.errorf(meta.Pos, ErrParse, "a document cannot be both a correlation and a filter")
		return
	}
	switch kind {
	case docCorrelation:
		c := &Correlation{Meta: meta}
		if detection != nil {
			p.errorf(nodePos(detectionKey), ErrParse, "a correlation rule has no detection section")
		}
		p.correlation(c, correlation)
		if generate != nil {
			v, ok := p.resolve(generate)
			if ok && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
				c.Generate = c.Generate || v.Value == "true"
			} else if ok {
				p.errorf(nodePos(generate), ErrParse, "generate must be true or false")
			}
		}
		if p.nErr == before {
			file.Correlations = append(file.Correlations, c)
		}
	case docFilter:
		f := &Filter{Meta: meta}
		if logsource != nil {
			f.Logsource = p.logsource(logsource)
		} else {
			p.errorf(meta.Pos, ErrParse, "filter has no logsource")
		}
		p.filter(f, filter)
		if p.nErr == before {
			file.Filters = append(file.Filters, f)
		}
	default:
		r := &Rule{Meta: meta}
		if logsource != nil {
			r.Logsource = p.logsource(logsource)
		} else {
			p.errorf(meta.Pos, ErrParse, "rule has no logsource")
		}
		if detection == nil {
			p.errorf(meta.Pos, ErrParse, "rule has no detection")
			return
		}
		r.Detection = p.detection(detection, detectionKey, nil)
		if p.nErr == before && r.Detection != nil {
			file.Rules = append(file.Rules, r)
		}
	}
}

func (p *parser) related(n *yaml.Node) []Related {
	n, ok := p.resolve(n)
	if !ok {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(nodePos(n), ErrParse, "related must be a list of {id, type} maps, not %s", kindName(n))
		return nil
	}
	var out []Related
	for _, c := range n.Content {
		pairs, ok := p.mapping(c, "related entry")
		if !ok {
			continue
		}
		var r Related
		for _, kv := range pairs {
			switch kv.key.Value {
			case "id":
				r.ID = p.str(kv.val, "related id")
			case "type":
				r.Type = p.str(kv.val, "related type")
			}
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) logsource(n *yaml.Node) Logsource {
	var ls Logsource
	pairs, ok := p.mapping(n, "logsource")
	if !ok {
		return ls
	}
	for _, kv := range pairs {
		switch kv.key.Value {
		case "category":
			ls.Category = p.str(kv.val, "logsource category")
		case "product":
			ls.Product = p.str(kv.val, "logsource product")
		case "service":
			ls.Service = p.str(kv.val, "logsource service")
		case "definition":
			ls.Definition = p.str(kv.val, "logsource definition")
		}
	}
	return ls
}

// detection parses a detection section. For filters, skip names keys that
// are not searches (the filter's rules list).
func (p *parser) detection(n, key *yaml.Node, skip map[string]bool) *Detection {
	pairs, ok := p.mapping(n, "detection")
	if !ok {
		return nil
	}
	d := &Detection{}
	var condNode *yaml.Node
	broken := false
	defer func() {
		if broken {
			d.Searches = slices.DeleteFunc(d.Searches, func(s *Search) bool { return s.Groups == nil })
		}
	}()
	for _, kv := range pairs {
		name := kv.key.Value
		switch {
		case skip[name]:
			continue
		case name == "condition":
			condNode = kv.val
			continue
		case name == "timeframe":
			p.errorf(nodePos(kv.key), ErrUnsupportedV1, "v1 aggregation 'timeframe' is unsupported since Sigma 2 (use a correlation rule)")
			continue
		}
		if s := p.search(name, kv.key, kv.val); s != nil {
			d.Searches = append(d.Searches, s)
		} else {
			// Keep the name so that the condition does not report it
			// again as undefined.
			d.Searches = append(d.Searches, &Search{Name: name, Pos: nodePos(kv.key)})
			broken = true
		}
	}
	if condNode == nil {
		pos := nodePos(n)
		if key != nil {
			pos = nodePos(key)
		}
		p.errorf(pos, ErrParse, "detection has no condition")
		return d
	}
	condNode, ok = p.resolve(condNode)
	if !ok {
		return d
	}
	var conds []*yaml.Node
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []*yaml.Node{condNode}
	case yaml.SequenceNode:
		for _, c := range condNode.Content {
			c, ok := p.resolve(c)
			if !ok {
				return d
			}
			conds = append(conds, c)
		}
		if len(conds) == 0 {
			p.errorf(nodePos(condNode), ErrCondition, "condition list is empty")
		}
	default:
		p.errorf(nodePos(condNode), ErrCondition, "condition must be a string or a list of strings, not %s", kindName(condNode))
		return d
	}
	for _, c := range conds {
		if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
			p.errorf(nodePos(c), ErrCondition, "condition must be a string, not %s", kindName(c))
			continue
		}
		if strings.TrimSpace(c.Value) == "" {
			p.errorf(nodePos(c), ErrCondition, "condition is empty")
			continue
		}
		expr, err := ParseCondition(c.Value)
		if err != nil {
			var ce *ConditionError
			if errors.As(err, &ce) {
				p.errorf(p.scalarPos(c, ce.Offset), ce.Err, "%s", ce.Msg)
			} else {
				p.errorf(nodePos(c), ErrCondition, "%v", err)
			}
			continue
		}
		cond := &Condition{Source: c.Value, Pos: nodePos(c), Expr: expr}
		if p.resolveCondition(d, cond, c) {
			d.Conditions = append(d.Conditions, cond)
		}
	}
	if len(d.Conditions) == len(conds) && !broken {
		p.checkUnused(d)
	}
	return d
}

// resolveCondition checks that every identifier names a search and fills
// OfExpr.Names. It reports errors at the identifier's column.
func (p *parser) resolveCondition(d *Detection, cond *Condition, node *yaml.Node) bool {
	ok := true
	Walk(cond.Expr, func(e Expr) bool {
		switch e := e.(type) {
		case *IdentExpr:
			if d.Search(e.Name) == nil {
				p.errorf(p.scalarPos(node, e.Off), ErrCondition, "condition references undefined search %q%s", e.Name, suggestSearch(d, e.Name))
				ok = false
			}
		case *OfExpr:
			e.Names = e.Names[:0]
			for _, s := range d.Searches {
				if e.Them && strings.HasPrefix(s.Name, "_") {
					continue
				}
				if e.Them || matchPattern(e.Pattern, s.Name) {
					e.Names = append(e.Names, s.Name)
				}
			}
			if len(e.Names) == 0 {
				off := e.Off
				if i := strings.Index(cond.Source[e.Off:], e.Pattern); i >= 0 && !e.Them {
					off += i
				}
				if e.Them {
					p.errorf(p.scalarPos(node, off), ErrCondition, "'them' matches no search")
				} else {
					p.errorf(p.scalarPos(node, off), ErrCondition, "pattern %q matches no search", e.Pattern)
				}
				ok = false
			}
		}
		return true
	})
	return ok
}

func suggestSearch(d *Detection, name string) string {
	best, bestD := "", 3
	for _, s := range d.Searches {
		if dist := editDistance(name, s.Name); dist < bestD {
			best, bestD = s.Name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// search parses one named search.
func (p *parser) search(name string, key, n *yaml.Node) *Search {
	s := &Search{Name: name, Pos: nodePos(key)}
	switch n.Kind {
	case yaml.MappingNode:
		g := p.group(n, s)
		if g == nil {
			return nil
		}
		s.Groups = []*Group{g}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(nodePos(key), ErrParse, "search %q is an empty list", name)
			return nil
		}
		var maps, scalars int
		items := make([]*yaml.Node, 0, len(n.Content))
		for _, c := range n.Content {
			c, ok := p.resolve(c)
			if !ok {
				return nil
			}
			items = append(items, c)
			switch c.Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			default:
				p.errorf(nodePos(c), ErrParse, "search %q: a list entry cannot be %s", name, kindName(c))
				return nil
			}
		}
		if maps > 0 && scalars > 0 {
			p.errorf(nodePos(key), ErrParse, "search %q mixes maps and plain values in one list", name)
			return nil
		}
		if maps > 0 {
			for _, c := range items {
				g := p.group(c, s)
				if g == nil {
					return nil
				}
				s.Groups = append(s.Groups, g)
			}
			break
		}
		it := p.item("", nil, nil, key, n)
		if it == nil {
			return nil
		}
		s.Keywords = true
		s.Groups = []*Group{{Pos: nodePos(n), Items: []*Item{it}}}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			p.errorf(nodePos(key), ErrParse, "search %q is empty", name)
			return nil
		}
		it := p.item("", nil, nil, key, n)
		if it == nil {
			return nil
		}
		s.Keywords = true
		s.Groups = []*Group{{Pos: nodePos(n), Items: []*Item{it}}}
	default:
		p.errorf(nodePos(key), ErrParse, "search %q cannot be %s", name, kindName(n))
		return nil
	}
	return s
}

// group parses one map of a search: an AND of field items.
func (p *parser) group(n *yaml.Node, s *Search) *Group {
	pairs, ok := p.mapping(n, "search "+strconv.Quote(s.Name))
	if !ok {
		return nil
	}
	if len(pairs) == 0 {
		p.errorf(nodePos(n), ErrParse, "search %q has an empty map", s.Name)
		return nil
	}
	g := &Group{Pos: nodePos(n), Items: make([]*Item, 0, len(pairs))}
	bad := false
	for _, kv := range pairs {
		field, mods, offs := splitKey(kv.key.Value)
		it := p.itemMods(field, mods, offs, kv.key, kv.val)
		if it == nil {
			bad = true
			continue
		}
		g.Items = append(g.Items, it)
	}
	if bad {
		return nil
	}
	if len(pairs) == 1 && len(g.Items) == 1 && g.Items[0].Field == "" {
		s.Keywords = true
	}
	return g
}

// splitKey splits "field|mod1|mod2" and returns the byte offset of each
// modifier in the key.
func splitKey(key string) (field string, mods []string, offs []int) {
	i := strings.IndexByte(key, '|')
	if i < 0 {
		return key, nil, nil
	}
	field = key[:i]
	rest := key[i+1:]
	off := i + 1
	for {
		j := strings.IndexByte(rest, '|')
		m := rest
		if j >= 0 {
			m = rest[:j]
		}
		mods = append(mods, m)
		offs = append(offs, off)
		if j < 0 {
			break
		}
		rest = rest[j+1:]
		off += j + 1
	}
	return field, mods, offs
}

// itemMods validates the modifiers of a key, then parses its values.
func (p *parser) itemMods(field string, mods []string, offs []int, key, val *yaml.Node) *Item {
	var lower []string
	if len(mods) > 0 {
		lower = make([]string, len(mods))
	}
	for i, m := range mods {
		lm := strings.ToLower(m)
		lower[i] = lm
		if !KnownModifier(lm) {
			pos := p.scalarPos(key, offs[i])
			if m == "" {
				p.errorf(pos, ErrModifier, "empty modifier in %q", key.Value)
			} else if s := suggestModifier(lm); s != "" {
				p.errorf(pos, ErrModifier, "unknown modifier '%s' (did you mean '%s'?)", m, s)
			} else {
				p.errorf(pos, ErrModifier, "unknown modifier '%s'", m)
			}
			return nil
		}
	}
	it := p.item(field, lower, offs, key, val)
	if it != nil {
		it.Modifiers = lower
		for i, m := range lower {
			switch m {
			case "all":
				it.All = true
				if len(it.Values) == 1 {
					p.warnf(p.scalarPos(key, offs[i]), "modifier 'all' on a single value has no effect (the spec does not allow it)")
				}
			case "neq":
				it.Negate = true
			}
		}
	}
	return it
}

// item parses the values of one field (or of a keyword list) and applies
// the modifiers.
func (p *parser) item(field string, mods []string, offs []int, key, n *yaml.Node) *Item {
	it := &Item{Field: field, Pos: nodePos(key), Modifiers: mods}
	var nodes []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		nodes = []*yaml.Node{n}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(nodePos(n), ErrParse, "field %q has an empty list of values", field)
			return nil
		}
		nodes = make([]*yaml.Node, 0, len(n.Content))
		for _, c := range n.Content {
			c, ok := p.resolve(c)
			if !ok {
				return nil
			}
			if c.Kind != yaml.ScalarNode {
				p.errorf(nodePos(c), ErrParse, "field %q: a value cannot be %s", field, kindName(c))
				return nil
			}
			nodes = append(nodes, c)
		}
	default:
		p.errorf(nodePos(n), ErrParse, "field %q: a value cannot be %s", field, kindName(n))
		return nil
	}
	it.Values = make([]Value, 0, len(nodes))
	nulls := 0
	for _, vn := range nodes {
		raw := rawOf(vn)
		if raw.kind == rawNull {
			nulls++
		}
		v, merr := applyModifiers(raw, mods)
		if merr != nil {
			pos := nodePos(vn)
			if merr.mod >= 0 && merr.mod < len(offs) {
				pos = p.scalarPos(key, offs[merr.mod])
			}
			p.errorf(pos, ErrModifier, "%s", merr.msg)
			return nil
		}
		if re, ok := v.(Regex); ok {
			if _, err := re.Compile(); err != nil {
				p.errorf(nodePos(vn), ErrModifier, "invalid regular expression %q: %v", re.Pattern, regexpErr(err))
				return nil
			}
			if c := outsidePCRESubset(re.Pattern); c != "" {
				p.warnf(nodePos(vn), "regular expression uses %s, outside the spec's PCRE subset (. ^ $ * + ? {n,m} [..] | ())", c)
			}
		}
		if raw.kind == rawString && len(mods) == 0 || raw.kind == rawString && indexOf(mods, "expand") < 0 && isPlainString(v) {
			if looksLikePlaceholder(raw.text) {
				p.warnf(nodePos(vn), "value %q looks like a placeholder but has no 'expand' modifier: it is matched literally", raw.text)
			}
		}
		it.Values = append(it.Values, v)
	}
	if nulls > 0 && len(nodes) > 1 {
		p.errorf(nodePos(n), ErrParse, "field %q mixes null into a list of values (the spec requires null in its own selection)", field)
		return nil
	}
	return it
}

func isPlainString(v Value) bool {
	switch v.(type) {
	case String, Expansion:
		return true
	}
	return false
}

// StandardPlaceholders are the placeholder names the Sigma spec defines.
var StandardPlaceholders = []string{"Administrators", "JumpServers", "Workstations", "Servers", "DomainControllers"}

// looksLikePlaceholder reports whether s holds one of the spec's standard
// %placeholders% (Windows variables like %COMSPEC% are ordinary text).
func looksLikePlaceholder(s string) bool {
	if strings.Count(s, "%") < 2 {
		return false
	}
	for _, name := range StandardPlaceholders {
		if i := strings.Index(s, "%"+name+"%"); i >= 0 && (i == 0 || s[i-1] != '\\') {
			return true
		}
	}
	return false
}

func regexpErr(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "error parsing regexp: ")
}

// rawOf reads a scalar's text and YAML type.
func rawOf(n *yaml.Node) rawValue {
	r := rawValue{text: n.Value}
	switch n.ShortTag() {
	case "!!null":
		r.kind = rawNull
	case "!!bool":
		r.kind = rawBool
	case "!!int":
		r.kind = rawInt
	case "!!float":
		r.kind = rawFloat
	default:
		r.kind = rawString
	}
	return r
}
