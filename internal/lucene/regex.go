package lucene

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"regexp/syntax"

	"github.com/rangehunt/rangehunt/internal/sigma"
)

// TranslateRegex turns a Sigma regular expression (a PCRE subset, searched
// anywhere in the value) into Lucene's RegExp dialect (always matched
// against the whole value): an unanchored start or end gets ".*", '^' and
// '$' at the ends are dropped, \d \s \w and their negations become
// character classes, the i flag becomes case classes ([aA]), (?:...) and
// named groups become plain groups, lazy quantifiers greedy ones (the
// same set of whole-value matches). What Lucene cannot express (anchors
// inside the pattern, \b, lookaround, back-references) is an error
// wrapping ErrUnsupported.
//
// Lucene's '.' also matches a newline; a PCRE '.' without the s flag does
// not. The translation keeps '.', which differs only on multi-line values.
func TranslateRegex(r sigma.Regex) (string, error) {
	flags := r.Flags()
	pat := r.Pattern
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("%w (%w)", err, ErrUnsupported)
	}
	var p rePrinter
	p.both(re)
	if p.err != nil {
		return "", p.err
	}
	return p.b.String(), nil
}

type rePrinter struct {
	b   strings.Builder
	err error
}

func (p *rePrinter) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format+": %w", append(args, ErrUnsupported)...)
	}
}

// both prints ".*" re ".*" where anchors at the ends cancel the ".*".
func (p *rePrinter) both(re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpConcat:
		subs := re.Sub
		if len(subs) == 1 {
			p.both(subs[0])
			return
		}
		p.pre(subs[0])
		for _, s := range subs[1 : len(subs)-1] {
			p.print(s, levelConcat)
		}
		p.post(subs[len(subs)-1])
	case syntax.OpAlternate:
		p.alternate(re.Sub, p.both)
	case syntax.OpCapture:
		p.b.WriteByte('(')
		p.both(re.Sub[0])
		p.b.WriteByte(')')
	case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		p.b.WriteString(".*")
	default:
		p.b.WriteString(".*")
		p.print(re, levelConcat)
		p.b.WriteString(".*")
	}
}

// alternate prints "(a|b|...)", each alternative with print. An
// alternative that prints nothing (an anchor that cancelled its ".*")
// becomes "()", because Lucene's RegExp has no empty alternative:
// "(|.*\/)" matches nothing there.
func (p *rePrinter) alternate(subs []*syntax.Regexp, print func(*syntax.Regexp)) {
	p.b.WriteByte('(')
	for i, s := range subs {
		if i > 0 {
			p.b.WriteByte('|')
		}
		n := p.b.Len()
		print(s)
		if p.b.Len() == n {
			p.b.WriteString("()")
		}
	}
	p.b.WriteByte(')')
}

// pre prints ".*" re, where a leading anchor cancels the ".*".
func (p *rePrinter) pre(re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpBeginText:
		return
	case syntax.OpBeginLine:
		p.b.WriteString("(.*\n)?")
	case syntax.OpConcat:
		if len(re.Sub) > 0 {
			p.pre(re.Sub[0])
			for _, s := range re.Sub[1:] {
				p.print(s, levelConcat)
			}
		}
	case syntax.OpAlternate:
		p.alternate(re.Sub, p.pre)
	case syntax.OpCapture:
		p.b.WriteByte('(')
		p.pre(re.Sub[0])
		p.b.WriteByte(')')
	default:
		p.b.WriteString(".*")
		p.print(re, levelConcat)
	}
}

// post prints re ".*", where a trailing anchor cancels the ".*".
func (p *rePrinter) post(re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpEndText:
		return
	case syntax.OpEndLine:
		p.b.WriteString("(\n.*)?")
	case syntax.OpConcat:
		if n := len(re.Sub); n > 0 {
			for _, s := range re.Sub[:n-1] {
				p.print(s, levelConcat)
			}
			p.post(re.Sub[n-1])
		}
	case syntax.OpAlternate:
		p.alternate(re.Sub, p.post)
	case syntax.OpCapture:
		p.b.WriteByte('(')
		p.post(re.Sub[0])
		p.b.WriteByte(')')
	default:
		p.print(re, levelConcat)
		p.b.WriteString(".*")
	}
}

const (
	levelAlt = iota
	levelConcat
	levelRepeat
	levelAtom
)

func level(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpAlternate:
		return levelAlt
	case syntax.OpConcat:
		return levelConcat
	case syntax.OpLiteral:
		if len(re.Rune) > 1 {
			return levelConcat
		}
		return levelAtom
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return levelRepeat
	}
	return levelAtom
}

// print writes re in Lucene syntax, in parentheses when its level is
// lower than the context's.
func (p *rePrinter) print(re *syntax.Regexp, ctx int) {
	if p.err != nil {
		return
	}
	paren := level(re) < ctx
	if paren {
		p.b.WriteByte('(')
	}
	switch re.Op {
	case syntax.OpNoMatch:
		p.b.WriteByte('#')
	case syntax.OpEmptyMatch:
		p.b.WriteString("()")
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && unicode.SimpleFold(r) != r {
				p.b.WriteByte('[')
				for f := r; ; {
					p.classRune(f)
					f = unicode.SimpleFold(f)
					if f == r {
						break
					}
				}
				p.b.WriteByte(']')
				continue
			}
			p.literal(r)
		}
	case syntax.OpCharClass:
		p.class(re.Rune)
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		p.b.WriteByte('.')
	case syntax.OpBeginLine, syntax.OpBeginText:
		p.fail("'^' inside the pattern (Lucene regexes match the whole value)")
	case syntax.OpEndLine, syntax.OpEndText:
		p.fail("'$' inside the pattern (Lucene regexes match the whole value)")
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		p.fail(`word boundary \b or \B`)
	case syntax.OpCapture:
		p.b.WriteByte('(')
		p.print(re.Sub[0], levelAlt)
		p.b.WriteByte(')')
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		p.print(re.Sub[0], levelAtom)
		p.b.WriteByte(map[syntax.Op]byte{syntax.OpStar: '*', syntax.OpPlus: '+', syntax.OpQuest: '?'}[re.Op])
	case syntax.OpRepeat:
		p.print(re.Sub[0], levelAtom)
		p.b.WriteByte('{')
		p.b.WriteString(strconv.Itoa(re.Min))
		if re.Max != re.Min {
			p.b.WriteByte(',')
			if re.Max >= 0 {
				p.b.WriteString(strconv.Itoa(re.Max))
			}
		}
		p.b.WriteByte('}')
	case syntax.OpConcat:
		for _, s := range re.Sub {
			p.print(s, levelConcat)
		}
	case syntax.OpAlternate:
		for i, s := range re.Sub {
			if i > 0 {
				p.b.WriteByte('|')
			}
			p.print(s, levelConcat)
		}
	default:
		p.fail("regex construct %s", re.Op)
	}
	if paren {
		p.b.WriteByte(')')
	}
}

// literal writes one rune outside a class: every ASCII punctuation char is
// escaped (Lucene's reserved set plus the ALL-flags operators # @ & ~ < >);
// letters and digits never are (\d \w \s are classes in Lucene 9).
func (p *rePrinter) literal(r rune) {
	if r < utf8.RuneSelf && r > ' ' && !isAlnum(byte(r)) {
		p.b.WriteByte('\\')
	}
	p.b.WriteRune(r)
}

func (p *rePrinter) classRune(r rune) {
	p.literal(r)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// class writes a character class given as sorted lo-hi rune pairs; a class
// reaching the end of Unicode from 0 is written negated.
func (p *rePrinter) class(ranges []rune) {
	if len(ranges) == 2 && ranges[0] == 0 && ranges[1] == unicode.MaxRune {
		p.b.WriteByte('.')
		return
	}
	neg := len(ranges) > 0 && ranges[0] == 0 && ranges[len(ranges)-1] == unicode.MaxRune
	if neg {
		// complement
		var c []rune
		next := rune(0)
		for i := 0; i < len(ranges); i += 2 {
			if ranges[i] > next {
				c = append(c, next, ranges[i]-1)
			}
			next = ranges[i+1] + 1
		}
		ranges = c
	}
	p.b.WriteByte('[')
	if neg {
		p.b.WriteByte('^')
	}
	for i := 0; i < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		p.classRune(lo)
		if hi != lo {
			if hi > lo+1 {
				p.b.WriteByte('-')
			}
			p.classRune(hi)
		}
	}
	p.b.WriteByte(']')
}
