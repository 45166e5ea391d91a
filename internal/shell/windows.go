package shell

import (
	"regexp"
	"strings"
)

// cmdBuiltins are the commands cmd.exe runs itself.
var cmdBuiltins = setOf("assoc break call cd chdir cls color copy date del dir echo endlocal erase exit for ftype " +
	"goto if md mkdir mklink move path pause popd prompt pushd rd rem ren rename rmdir set setlocal shift start " +
	"time title type ver verify vol")

// SplitCmdLine splits a Windows command line into argv the way
// CommandLineToArgvW (and the MSVC runtime) does: whitespace separates
// arguments outside double quotes; 2n backslashes before a quote give n
// backslashes and toggle quoting, 2n+1 give n and a literal quote;
// other backslashes are literal; "" inside quotes is a literal quote.
func SplitCmdLine(s string) []string {
	var args []string
	var b strings.Builder
	inArg, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			inArg = true
			if i < len(s) && s[i] == '"' {
				b.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					b.WriteByte('"')
					continue
				}
				i-- // let the quote be handled below
				continue
			}
			b.WriteString(strings.Repeat(`\`, n))
			i--
		case c == '"':
			inArg = true
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			inQuote = !inQuote
		case (c == ' ' || c == '\t' || c == '\n' || c == '\r') && !inQuote:
			if inArg {
				args = append(args, b.String())
				b.Reset()
				inArg = false
			}
		default:
			inArg = true
			b.WriteByte(c)
		}
	}
	if inArg {
		args = append(args, b.String())
	}
	return args
}

// cmdSegment is one simple command of a cmd.exe line.
type cmdSegment struct {
	text string
	col  int
}

// splitCmd splits a cmd.exe line at unquoted & && || | and parentheses,
// removing ^ escapes and redirections.
func splitCmd(src string) ([]cmdSegment, error) {
	var segs []cmdSegment
	var b strings.Builder
	start := 0
	inQuote := false
	depth, literal := 0, 0
	flush := func(next int) {
		t := strings.TrimSpace(stripRedirs(b.String()))
		if t != "" {
			segs = append(segs, cmdSegment{t, start + 1})
		}
		b.Reset()
		start = next
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inQuote {
			b.WriteByte(c)
			if c == '"' {
				inQuote = false
			}
			continue
		}
		switch c {
		case '"':
			inQuote = true
			b.WriteByte(c)
		case '^':
			if i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			}
		case '&', '|':
			if i+1 < len(src) && src[i+1] == c {
				i++
			}
			flush(i + 1)
		case '\n', '\r':
			flush(i + 1)
		case '(':
			// A parenthesis groups commands only where a command starts
			// (also after "do" and "else"); elsewhere, as in
			// "for %i in (a b)", it is text.
			pre := strings.ToLower(strings.TrimSpace(b.String()))
			if pre == "" || strings.HasSuffix(pre, " do") || pre == "else" || strings.HasSuffix(pre, " else") || strings.HasPrefix(pre, "if ") {
				depth++
				flush(i + 1)
			} else {
				literal++
				b.WriteByte(c)
			}
		case ')':
			switch {
			case literal > 0:
				literal--
				b.WriteByte(c)
			case depth > 0:
				depth--
				flush(i + 1)
			default:
				return nil, &SyntaxError{Pos: Pos{1, i + 1}, Msg: "unbalanced ')'"}
			}
		default:
			b.WriteByte(c)
		}
	}
	if inQuote {
		return nil, &SyntaxError{Pos: Pos{1, len(src) + 1}, Msg: "unterminated double quote"}
	}
	if depth > 0 {
		return nil, &SyntaxError{Pos: Pos{1, len(src) + 1}, Msg: "missing ')'"}
	}
	flush(len(src))
	return segs, nil
}

var cmdRedirRE = regexp.MustCompile(`(^|\s)[0-9]?(>>?|<)&?\s*("[^"]*"|[^\s"]+)`)

func stripRedirs(s string) string {
	// Only outside quotes: cut quoted parts out first.
	var out strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			out.WriteString(cmdRedirRE.ReplaceAllString(s, "$1"))
			break
		}
		out.WriteString(cmdRedirRE.ReplaceAllString(s[:i], "$1"))
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			out.WriteString(s[i:])
			break
		}
		out.WriteString(s[i : i+j+2])
		s = s[i+j+2:]
	}
	return out.String()
}

// MineCmd lists what a cmd.exe command line runs (Caldera's cmd executor
// runs it as "cmd.exe /c <line>").
func MineCmd(src string) (*Result, error) {
	res := &Result{}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	lines := strings.Split(src, "\n")
	for ln, line := range lines {
		segs, err := splitCmd(line)
		if err != nil {
			se := err.(*SyntaxError)
			se.Pos.Line = ln + 1
			return nil, se
		}
		for _, s := range segs {
			argv := SplitCmdLine(s.text)
			if len(argv) == 0 {
				continue
			}
			e := Exec{Chain: []string{"cmd"}, Pos: Pos{ln + 1, s.col}, Group: ln}
			first := strings.ToLower(argv[0])
			switch {
			case first == "for":
				// for %i in (...) do <cmd>: the body follows "do".
				if k := indexFold(argv, "do"); k >= 0 && k+1 < len(argv) {
					argv = argv[k+1:]
					e.Via = "for"
				} else {
					e.Args, e.Builtin = toArgs(argv), true
					res.Execs = append(res.Execs, e)
					continue
				}
			case first == "start":
				rest := argv[1:]
				for len(rest) > 0 && strings.HasPrefix(rest[0], "/") {
					rest = rest[1:]
				}
				e.Args, e.Builtin = toArgs(argv[:1]), true
				res.Execs = append(res.Execs, e)
				if len(rest) == 0 {
					continue
				}
				argv = rest
				e = Exec{Chain: []string{"cmd", "start"}, Pos: e.Pos, Group: ln, Via: "start"}
			case first == "if" || first == "rem" || first == "call":
				e.Args, e.Builtin = toArgs(argv), true
				res.Execs = append(res.Execs, e)
				continue
			}
			e.Args = toArgs(argv)
			name := strings.ToLower(argv[0])
			e.Builtin = cmdBuiltins[name] && !strings.ContainsAny(name, `\/.`)
			res.Execs = append(res.Execs, e)
		}
	}
	return res, nil
}

func indexFold(a []string, s string) int {
	for i, x := range a {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// cmdDynRE finds the parts of a cmd.exe word that are only known at run
// time: %VAR% expansions, %i / %%i loop variables and wildcards.
var cmdDynRE = regexp.MustCompile(`%[^%\s]+%|%%?~?[A-Za-z]|[*?]`)

func toArgs(argv []string) []Arg {
	out := make([]Arg, len(argv))
	for i, v := range argv {
		out[i] = Arg{Value: v, Static: true}
		if locs := cmdDynRE.FindAllStringIndex(v, -1); locs != nil {
			out[i].Static = false
			out[i].Prefix = v[:locs[0][0]]
			out[i].Suffix = v[locs[len(locs)-1][1]:]
		}
	}
	return out
}

// psToken is a PowerShell token.
type psToken struct {
	kind  byte // 'w' word, 's' string, 'o' operator ; | { } ( ) & , =, 'v' variable
	text  string
	col   int
	line  int
	quote bool
}

// tokenizePS splits PowerShell source into words, strings (single quotes
// with ” escapes; double quotes with backtick and "" escapes), variables
// and operators.
func tokenizePS(src string) ([]psToken, error) {
	var toks []psToken
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		col := i - lineStart + 1
		switch {
		case c == '\n':
			toks = append(toks, psToken{kind: 'o', text: ";", col: col, line: line})
			line++
			i++
			lineStart = i
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '`' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
			line++
			lineStart = i
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, &SyntaxError{Pos: Pos{line, col}, Msg: "unterminated single-quoted string"}
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, psToken{kind: 's', text: b.String(), col: col, line: line, quote: true})
			i = j + 1
		case c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, &SyntaxError{Pos: Pos{line, col}, Msg: "unterminated double-quoted string"}
				}
				if src[j] == '`' && j+1 < len(src) {
					b.WriteByte(psEscape(src[j+1]))
					j += 2
					continue
				}
				if src[j] == '"' {
					if j+1 < len(src) && src[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, psToken{kind: 's', text: b.String(), col: col, line: line, quote: true})
			i = j + 1
		case strings.IndexByte(";|{}()&,", c) >= 0:
			op, n := string(c), 1
			if (c == '&' || c == '|') && i+1 < len(src) && src[i+1] == c {
				op, n = op+op, 2
			} else if c == '&' {
				op = "call" // the call operator: & 'C:\x.exe' args
			}
			toks = append(toks, psToken{kind: 'o', text: op, col: col, line: line})
			i += n
		case c == '$' && i+1 < len(src) && src[i+1] == '(':
			toks = append(toks, psToken{kind: 'o', text: "(", col: col, line: line})
			i += 2
		case c == '@' && i+1 < len(src) && src[i+1] == '(':
			toks = append(toks, psToken{kind: 'o', text: "(", col: col, line: line})
			i += 2
		case c == '@' && i+1 < len(src) && src[i+1] == '{':
			toks = append(toks, psToken{kind: 'o', text: "@{", col: col, line: line}) // hashtable
			i += 2
		default:
			j := i
			var b strings.Builder
			for j < len(src) && strings.IndexByte(" \t\r\n;|{}()&,'\"", src[j]) < 0 {
				if src[j] == '`' && j+1 < len(src) {
					b.WriteByte(psEscape(src[j+1]))
					j += 2
					continue
				}
				b.WriteByte(src[j])
				j++
			}
			k := byte('w')
			if strings.HasPrefix(b.String(), "$") {
				k = 'v'
			}
			toks = append(toks, psToken{kind: k, text: b.String(), col: col, line: line})
			i = j
		}
	}
	return toks, nil
}

func psEscape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	}
	return c
}

var (
	psKeywords = setOf("foreach if elseif else while for do switch function filter param try catch finally return " +
		"break continue throw trap begin process end in until exit")
	// psAliases are the default aliases of cmdlets (no process).
	psAliases = setOf("% ? ac cat cd chdir clc clear cls copy cp cpi del dir echo epal epcsv erase fl foreach ft fw " +
		"gal gc gcb gci gcim gcm gdr gi gin gjb gl gm gmo gp gps group gsn gsv gtz gu gv gwmi h history icm iex " +
		"ihy ii ipal ipcsv ipmo irm iwmi iwr kill ls measure mi mount move mp mv nal ndr ni nmo nsn nv ogv popd ps " +
		"pushd pwd r rbp rcjb rd rdr ren ri rjb rm rmdir rmo rni rnp rp rsn rv rvpa rwmi sajb sal saps sasv sbp sc " +
		"scb select set shcm si sl sleep sls sort sp spjb spps spsv start stz sujb sv swmi tee trcm type where " +
		"wget curl wjb write")
	psAssignRE = regexp.MustCompile(`^[-+*/%?]?=$`)
	cmdletRE   = regexp.MustCompile(`^[A-Za-z]+-[A-Za-z][A-Za-z0-9]*$`)
)

// MinePowerShell lists what a PowerShell script runs. Cmdlets, functions
// and aliases run inside powershell.exe (Builtin); other commands are
// programs. The first Exec is the powershell.exe process itself as
// Caldera's psh executor starts it, with Code set to the script and
// Keywords to its significant words.
func MinePowerShell(src, executor string) (*Result, error) {
	toks, err := tokenizePS(src)
	if err != nil {
		return nil, err
	}
	host := "powershell.exe"
	if executor == "pwsh" {
		host = "pwsh.exe"
	}
	res := &Result{}
	res.Execs = append(res.Execs, Exec{
		Args: []Arg{{Value: host, Static: true}, {Value: "-ExecutionPolicy", Static: true},
			{Value: "Bypass", Static: true}, {Value: "-C", Static: true}, {Value: src, Static: true}},
		Interpreter: "powershell", Code: src, Pos: Pos{1, 1},
	})
	// stack holds the open brackets: 'p' ( ), 'b' { } script block,
	// 'h' @{ } hashtable (whose statements are key = value, not commands).
	var stack []byte
	top := func() byte {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1]
	}
	expectCmd := true
	group := 0
	var cur *Exec
	funcs := map[string]bool{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == 'o' {
			switch t.text {
			case "(":
				stack = append(stack, 'p')
				expectCmd = true
			case "{":
				stack = append(stack, 'b')
				expectCmd = true
			case "@{":
				stack = append(stack, 'h')
				expectCmd = false
			case ")", "}":
				if len(stack) == 0 {
					return nil, &SyntaxError{Pos: Pos{t.line, t.col}, Msg: "unbalanced '" + t.text + "'"}
				}
				popped := top()
				stack = stack[:len(stack)-1]
				expectCmd = popped == 'b'
			case ";":
				expectCmd = top() != 'h'
				if len(stack) == 0 {
					group++
				}
			case "|", "&&", "||":
				expectCmd = true
			case "call":
				expectCmd = true
				continue
			case ",":
				continue // array argument: a,b
			}
			cur = nil
			continue
		}
		if !expectCmd && cur == nil && t.kind == 'w' && top() != 'h' && psAssignRE.MatchString(t.text) {
			expectCmd = true // $x = Get-Process: the value is a pipeline
			continue
		}
		if expectCmd {
			expectCmd = false
			if t.kind == 'w' && psKeywords[strings.ToLower(t.text)] {
				if strings.EqualFold(t.text, "function") && i+1 < len(toks) {
					funcs[strings.ToLower(toks[i+1].text)] = true
					i++
				}
				expectCmd = true
				if strings.EqualFold(t.text, "foreach") || strings.EqualFold(t.text, "if") || strings.EqualFold(t.text, "while") || strings.EqualFold(t.text, "switch") {
					expectCmd = false
				}
				continue
			}
			if t.kind == 'v' || (t.kind == 's' && !(i > 0 && toks[i-1].text == "call")) || isPSNumber(t.text) {
				continue // an expression, not a command
			}
			name := strings.ToLower(t.text)
			base := name
			if k := strings.LastIndexAny(base, `\/`); k >= 0 {
				base = base[k+1:]
			}
			e := Exec{Args: []Arg{{Value: t.text, Static: true}}, Chain: []string{"powershell"}, Pos: Pos{t.line, t.col}, Group: group}
			switch {
			case funcs[name]:
				e.Function = true
			case psAliases[name] || (cmdletRE.MatchString(t.text) && !strings.HasSuffix(base, ".exe")):
				e.Builtin = true
			}
			res.Execs = append(res.Execs, e)
			cur = &res.Execs[len(res.Execs)-1]
			continue
		}
		if cur != nil {
			a := Arg{Value: t.text, Static: t.kind != 'v' && !strings.Contains(t.text, "$")}
			if t.kind == 's' && !t.quote {
				a.Static = true
			}
			cur.Args = append(cur.Args, a)
		}
	}
	if len(stack) != 0 {
		return nil, &SyntaxError{Pos: Pos{1, len(src) + 1}, Msg: "missing closing bracket"}
	}
	// Keywords: significant words of the script for command-line rules.
	seen := map[string]bool{}
	for _, e := range res.Execs[1:] {
		for _, a := range e.Args {
			v := a.Value
			if !a.Static || len(v) < 3 || seen[strings.ToLower(v)] {
				continue
			}
			seen[strings.ToLower(v)] = true
			res.Execs[0].Keywords = append(res.Execs[0].Keywords, v)
		}
	}
	return res, nil
}

func isPSNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
