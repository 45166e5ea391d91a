package shell

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// maxDepth bounds nested bodies (sh -c 'sh -c ...', base64 in base64).
const maxDepth = 8

// bashBuiltins are the commands bash runs itself, without a new process.
var bashBuiltins = setOf(". : [ alias bg bind break builtin caller cd command compgen complete compopt continue " +
	"declare dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill let " +
	"local logout mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend " +
	"test times trap true type typeset ulimit umask unalias unset wait")

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

var (
	shellNames  = setOf("sh bash dash zsh ksh mksh ash busybox")
	pythonRE    = regexp.MustCompile(`^python[0-9.]*$`)
	codeFlags   = map[string]string{"perl": "-e", "ruby": "-e", "node": "-e", "php": "-r", "nodejs": "-e"}
	decoderArgs = setOf("-d --decode -D")
)

type miner struct {
	res   *Result
	funcs map[string]bool
	// vars holds the shell variables assigned a value known before
	// running (X=/tmp/nmap); later "$X" expands to it. A variable assigned
	// a dynamic value, read, or used as a loop variable is removed.
	vars  map[string]string
	depth int
}

// MinePOSIX parses a POSIX/bash command and lists what it runs. executor
// names the shell that runs the text (sh, bash); it starts every chain.
func MinePOSIX(src, executor string) (*Result, error) {
	m := &miner{res: &Result{}, funcs: map[string]bool{}, vars: map[string]string{}}
	f, err := parsePOSIX(src)
	if err != nil {
		return nil, err
	}
	for i, st := range f.Stmts {
		m.stmt(st, ctx{chain: []string{executor}, group: i})
	}
	return m.res, nil
}

func parsePOSIX(src string) (*syntax.File, error) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	f, err := p.Parse(strings.NewReader(src), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return nil, &SyntaxError{Pos: Pos{int(pe.Pos.Line()), int(pe.Pos.Col())}, Msg: pe.Text}
		}
		var le syntax.LangError
		if errors.As(err, &le) {
			return nil, &SyntaxError{Pos: Pos{int(le.Pos.Line()), int(le.Pos.Col())}, Msg: le.Feature + " is not supported"}
		}
		return nil, &SyntaxError{Pos: Pos{1, 1}, Msg: err.Error()}
	}
	return f, nil
}

// ctx is where a statement runs.
type ctx struct {
	chain []string
	group int
	via   string
	// pos, when set, overrides node positions (nested bodies report the
	// enclosing command's position).
	pos *Pos
}

func (c ctx) at(p syntax.Pos) Pos {
	if c.pos != nil {
		return *c.pos
	}
	return Pos{int(p.Line()), int(p.Col())}
}

func (c ctx) with(shell, via string, p Pos) ctx {
	chain := append(append([]string(nil), c.chain...), shell)
	return ctx{chain: chain, group: c.group, via: via, pos: &p}
}

func (m *miner) warnf(format string, a ...any) {
	m.res.Warnings = append(m.res.Warnings, fmt.Sprintf(format, a...))
}

func (m *miner) stmts(list []*syntax.Stmt, c ctx) {
	for _, s := range list {
		m.stmt(s, c)
	}
}

func (m *miner) stmt(s *syntax.Stmt, c ctx) {
	if s == nil {
		return
	}
	for _, r := range s.Redirs {
		m.wordSubst(r.Word, c)
	}
	switch x := s.Cmd.(type) {
	case *syntax.CallExpr:
		m.call(x, s, c)
	case *syntax.BinaryCmd:
		if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
			m.pipeline(flattenPipe(s), c)
			return
		}
		m.stmt(x.X, c)
		m.stmt(x.Y, c)
	case *syntax.Subshell:
		m.sub(func() { m.stmts(x.Stmts, c) })
	case *syntax.Block:
		m.stmts(x.Stmts, c)
	case *syntax.IfClause:
		for cl := x; cl != nil; cl = cl.Else {
			m.stmts(cl.Cond, c)
			m.stmts(cl.Then, c)
		}
	case *syntax.WhileClause:
		m.stmts(x.Cond, c)
		m.stmts(x.Do, c)
	case *syntax.ForClause:
		if wi, ok := x.Loop.(*syntax.WordIter); ok {
			for _, w := range wi.Items {
				m.wordSubst(w, c)
			}
			delete(m.vars, wi.Name.Value)
		}
		m.stmts(x.Do, c)
	case *syntax.CaseClause:
		m.wordSubst(x.Word, c)
		for _, it := range x.Items {
			m.stmts(it.Stmts, c)
		}
	case *syntax.FuncDecl:
		if x.Name != nil {
			m.funcs[x.Name.Value] = true
		}
		m.stmt(x.Body, ctx{chain: c.chain, group: c.group, via: "function", pos: c.pos})
	case *syntax.DeclClause:
		args := []Arg{{Value: x.Variant.Value, Static: true}}
		for _, a := range x.Args {
			if a.Value != nil {
				m.wordSubst(a.Value, c)
			}
			if a.Name != nil {
				args = append(args, Arg{Value: a.Name.Value, Static: true})
				if a.Value != nil {
					m.assign(a)
				}
			}
		}
		m.add(Exec{Args: args, Builtin: true, Chain: c.chain, Pos: c.at(s.Pos()), Group: c.group, Via: c.via})
	case *syntax.TimeClause:
		m.stmt(x.Stmt, c)
	case *syntax.CoprocClause:
		m.stmt(x.Stmt, c)
	case *syntax.TestClause, *syntax.ArithmCmd, *syntax.LetClause:
		syntax.Walk(x, func(n syntax.Node) bool {
			if cs, ok := n.(*syntax.CmdSubst); ok {
				m.stmts(cs.Stmts, ctx{chain: c.chain, group: c.group, via: "command substitution", pos: c.pos})
				return false
			}
			return true
		})
	}
}

func flattenPipe(s *syntax.Stmt) []*syntax.Stmt {
	if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(s.Redirs) == 0 {
		return append(flattenPipe(b.X), flattenPipe(b.Y)...)
	}
	return []*syntax.Stmt{s}
}

// pipeline mines each stage and follows text piped into a shell:
// "echo <b64> | base64 -d | sh" or "echo 'id' | bash".
func (m *miner) pipeline(stages []*syntax.Stmt, c ctx) {
	for _, st := range stages {
		m.sub(func() { m.stmt(st, c) }) // each stage runs in a subshell
	}
	var text string
	have, encoded := false, false
	for _, st := range stages {
		call, ok := st.Cmd.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			have = false
			continue
		}
		args := m.evalArgs(call.Args)
		if !args[0].Static {
			have = false
			continue
		}
		name := baseName(args[0].Value)
		switch {
		case name == "echo" || name == "printf":
			have, encoded = false, false
			var parts []string
			static := true
			for _, a := range args[1:] {
				if !a.Static {
					static = false
				}
				if name == "echo" && len(parts) == 0 && (a.Value == "-n" || a.Value == "-e" || a.Value == "-ne" || a.Value == "-en") {
					continue
				}
				parts = append(parts, a.Value)
			}
			if static && len(parts) > 0 {
				text, have = strings.Join(parts, " "), true
			}
		case name == "base64" && hasAny(args[1:], decoderArgs):
			if !have {
				// base64 -d <<< PAYLOAD
				if w := hereString(st); w != nil {
					if a := m.evalWord(w); a.Static {
						text, have = a.Value, true
					}
				}
			}
			if have {
				dec, err := decodeB64(text)
				if err != nil {
					m.warnf("%s: base64 payload not followed: %v", c.at(st.Pos()), err)
					have = false
					continue
				}
				text, encoded = dec, true
			}
		case shellNames[name] && !hasCodeFlag(args[1:]) && have:
			p := c.at(st.Pos())
			via := "stdin"
			if encoded {
				via = "base64 payload"
			}
			m.nested(text, c.with(name, via, p))
			have = false
		default:
			have = false
		}
	}
}

func hereString(st *syntax.Stmt) *syntax.Word {
	for _, r := range st.Redirs {
		if r.Op == syntax.WordHdoc {
			return r.Word
		}
	}
	return nil
}

func decodeB64(s string) (string, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b), nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return "", err
}

func hasAny(args []Arg, set map[string]bool) bool {
	for _, a := range args {
		if a.Static && set[a.Value] {
			return true
		}
	}
	return false
}

func hasCodeFlag(args []Arg) bool {
	for _, a := range args {
		if a.Static && len(a.Value) > 1 && a.Value[0] == '-' && a.Value[1] != '-' && strings.Contains(a.Value, "c") {
			return true
		}
	}
	return false
}

// nested parses text as a shell script run in context c.
func (m *miner) nested(text string, c ctx) {
	if m.depth >= maxDepth {
		m.warnf("%s: nesting deeper than %d not followed", *c.pos, maxDepth)
		return
	}
	f, err := parsePOSIX(text)
	if err != nil {
		m.warnf("%s: %s body not parsed: %v", *c.pos, c.chain[len(c.chain)-1], err)
		return
	}
	m.depth++
	saved := m.vars
	m.vars = map[string]string{} // a new shell: unexported variables are not seen
	defer func() { m.depth--; m.vars = saved }()
	for _, st := range f.Stmts {
		m.stmt(st, c)
	}
}

// wordSubst mines the command substitutions inside a word.
func (m *miner) wordSubst(w *syntax.Word, c ctx) {
	if w == nil {
		return
	}
	syntax.Walk(w, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.CmdSubst:
			m.sub(func() { m.stmts(x.Stmts, ctx{chain: c.chain, group: c.group, via: "command substitution", pos: c.pos}) })
			return false
		case *syntax.ProcSubst:
			m.sub(func() { m.stmts(x.Stmts, ctx{chain: c.chain, group: c.group, via: "process substitution", pos: c.pos}) })
			return false
		}
		return true
	})
}

func (m *miner) add(e Exec) { m.res.Execs = append(m.res.Execs, e) }

// sub runs f in a subshell: variables it assigns do not reach the caller.
func (m *miner) sub(f func()) {
	saved := make(map[string]string, len(m.vars))
	for k, v := range m.vars {
		saved[k] = v
	}
	f()
	m.vars = saved
}

// assign records a variable assignment of the current shell.
func (m *miner) assign(a *syntax.Assign) {
	if a.Name == nil {
		return
	}
	if a.Value == nil || a.Append || a.Index != nil || a.Array != nil {
		if a.Value == nil && a.Array == nil && !a.Append && a.Index == nil && !a.Naked {
			m.vars[a.Name.Value] = "" // X=
			return
		}
		delete(m.vars, a.Name.Value)
		return
	}
	if v := m.evalWord(a.Value); v.Static {
		m.vars[a.Name.Value] = v.Value
	} else {
		delete(m.vars, a.Name.Value)
	}
}

func (m *miner) evalArgs(words []*syntax.Word) []Arg {
	out := make([]Arg, 0, len(words))
	for _, w := range words {
		out = append(out, m.evalWord(w))
	}
	return out
}

func (m *miner) call(x *syntax.CallExpr, s *syntax.Stmt, c ctx) {
	var env []string
	for _, a := range x.Assigns {
		if a.Value != nil {
			m.wordSubst(a.Value, c)
		}
		if a.Name != nil {
			v := ""
			if a.Value != nil {
				v = m.evalWord(a.Value).Value
			}
			env = append(env, a.Name.Value+"="+v)
		}
	}
	for _, w := range x.Args {
		m.wordSubst(w, c)
	}
	if len(x.Args) == 0 {
		for _, a := range x.Assigns {
			m.assign(a) // pure assignment: no program, the shell's variables change
		}
		return
	}
	args := m.evalArgs(x.Args)
	m.exec(args, env, c, c.at(s.Pos()), s)
}

// exec records one simple command and follows what it runs in turn.
func (m *miner) exec(args []Arg, env []string, c ctx, p Pos, s *syntax.Stmt) {
	e := Exec{Args: args, Env: env, Chain: c.chain, Pos: p, Group: c.group, Via: c.via}
	if !args[0].Static {
		m.add(e)
		return
	}
	argv0 := args[0].Value
	name := baseName(argv0)
	if !strings.Contains(argv0, "/") {
		if m.funcs[argv0] {
			e.Function = true
			m.add(e)
			return
		}
		if bashBuiltins[argv0] {
			e.Builtin = true
			m.add(e)
			m.builtin(argv0, args, c, p)
			return
		}
	}
	switch {
	case shellNames[name]:
		if body, ok := flagValue(args[1:], "c"); ok {
			e.Interpreter, e.Code = name, body.Value
			m.add(e)
			if body.Static {
				m.nested(body.Value, c.with(name, name+" -c", p))
			}
			return
		}
		if s != nil {
			// bash <<'EOF' ... EOF, bash <<< 'cmd'
			for _, r := range s.Redirs {
				if (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) && r.Hdoc != nil {
					if a := evalHdoc(r); a.Static {
						m.add(e)
						m.nested(a.Value, c.with(name, "here-document", p))
						return
					}
				}
				if r.Op == syntax.WordHdoc {
					if a := m.evalWord(r.Word); a.Static {
						m.add(e)
						m.nested(a.Value, c.with(name, "here-string", p))
						return
					}
				}
			}
		}
	case pythonRE.MatchString(name):
		if code, ok := flagValue(args[1:], "c"); ok {
			e.Interpreter, e.Code = "python", code.Value
		}
	case codeFlags[name] != "":
		if code, ok := flagValue(args[1:], strings.TrimPrefix(codeFlags[name], "-")); ok {
			e.Interpreter, e.Code = name, code.Value
		}
	}
	m.add(e)
	m.wrapped(name, args, c, p)
}

// builtin follows builtins that run other commands (exec, command,
// eval) and forgets variables that builtins set at run time.
func (m *miner) builtin(name string, args []Arg, c ctx, p Pos) {
	switch name {
	case "read", "unset", "mapfile", "readarray", "getopts", "printf", "let", "local", "declare", "typeset", "export", "readonly":
		for _, a := range args[1:] {
			v := a.Value
			if i := strings.IndexByte(v, '='); i > 0 {
				v = v[:i]
			}
			delete(m.vars, v)
		}
	}
	switch name {
	case "exec":
		rest := skipOpts(args[1:], setOf("-a"))
		if len(rest) > 0 {
			m.exec(rest, nil, ctx{chain: c.chain, group: c.group, via: "exec", pos: c.pos}, p, nil)
		}
	case "command":
		if hasAny(args[1:], setOf("-v -V")) {
			return
		}
		rest := skipOpts(args[1:], nil)
		if len(rest) > 0 && !bashBuiltins[rest[0].Value] {
			m.exec(rest, nil, ctx{chain: c.chain, group: c.group, via: "command", pos: c.pos}, p, nil)
		}
	case "eval":
		var parts []string
		for _, a := range args[1:] {
			if !a.Static {
				return
			}
			parts = append(parts, a.Value)
		}
		if len(parts) > 0 {
			m.nested(strings.Join(parts, " "), ctx{chain: c.chain, group: c.group, via: "eval", pos: &p})
		}
	}
}

// wrapped follows programs that exec their arguments: sudo, nohup,
// timeout, env, nice, xargs, su -c.
func (m *miner) wrapped(name string, args []Arg, c ctx, p Pos) {
	var rest []Arg
	switch name {
	case "sudo", "doas":
		rest = skipOpts(args[1:], setOf("-u -g -C -D -h -p -r -t -U -T --user --group --chdir --prompt"))
		for len(rest) > 0 && rest[0].Static && isAssign(rest[0].Value) {
			rest = rest[1:]
		}
	case "nohup", "setsid", "stdbuf", "chroot", "strace", "ltrace":
		rest = skipOpts(args[1:], setOf("-o -i -e"))
		if name == "chroot" && len(rest) > 0 {
			rest = rest[1:]
		}
	case "nice", "ionice":
		rest = skipOpts(args[1:], setOf("-n -c -p"))
	case "timeout":
		rest = skipOpts(args[1:], setOf("-k -s --kill-after --signal"))
		if len(rest) > 0 {
			rest = rest[1:] // duration
		}
	case "env":
		rest = skipOpts(args[1:], setOf("-u -C -S --unset --chdir"))
		for len(rest) > 0 && rest[0].Static && isAssign(rest[0].Value) {
			rest = rest[1:]
		}
	case "xargs":
		rest = skipOpts(args[1:], setOf("-I -i -n -P -L -d -E -s -a --max-args --max-procs --delimiter"))
	case "su":
		if body, ok := flagValue(args[1:], "c"); ok && body.Static {
			m.nested(body.Value, c.with("su", "su -c", p))
		}
		return
	case "watch":
		rest = skipOpts(args[1:], setOf("-n -d --interval"))
	default:
		return
	}
	if len(rest) == 0 {
		return
	}
	m.exec(rest, nil, c.with(name, name, p), p, nil)
}

func isAssign(s string) bool {
	i := strings.IndexByte(s, '=')
	if i <= 0 {
		return false
	}
	for _, r := range s[:i] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// skipOpts drops leading options; withArg lists options taking a value.
func skipOpts(args []Arg, withArg map[string]bool) []Arg {
	for len(args) > 0 {
		v := args[0].Value
		if !args[0].Static || v == "" || v[0] != '-' || v == "-" {
			return args
		}
		args = args[1:]
		if v == "--" {
			return args
		}
		if withArg[v] && len(args) > 0 {
			args = args[1:]
		}
	}
	return args
}

// flagValue finds a short flag (possibly grouped: -lc, -ec) and returns
// the argument after the group: the -c body of sh, python, su.
func flagValue(args []Arg, flag string) (Arg, bool) {
	for i, a := range args {
		if !a.Static {
			continue
		}
		v := a.Value
		if v == "--" {
			return Arg{}, false
		}
		if len(v) > 1 && v[0] == '-' && v[1] != '-' && strings.Contains(v[1:], flag) {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return Arg{}, false
		}
		if len(v) == 0 || v[0] != '-' {
			// The first operand ends the options, except for su's user.
			continue
		}
	}
	return Arg{}, false
}

func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// evalWord computes a word's value with quote removal; parts that depend
// on the run (expansions, substitutions, globs, tilde, braces) make it
// non-static.
func (m *miner) evalWord(w *syntax.Word) Arg { return evalWord(w, m.vars) }

func evalWord(w *syntax.Word, vars map[string]string) Arg {
	var b strings.Builder
	static := true
	prefixEnd, suffixStart := -1, 0
	dyn := func(src string) {
		if static {
			prefixEnd = b.Len()
		}
		static = false
		b.WriteString(src)
		suffixStart = b.Len()
	}
	for i, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			v := x.Value
			if i == 0 && (v == "~" || strings.HasPrefix(v, "~/") || (strings.HasPrefix(v, "~") && !strings.Contains(v, "/") && len(w.Parts) == 1)) {
				j := strings.IndexByte(v, '/')
				if j < 0 {
					j = len(v)
				}
				dyn(v[:j])
				v = v[j:]
			}
			u := unescapeLit(v)
			if hasGlob(v) || hasBraceExp(v) {
				dyn(u)
				continue
			}
			b.WriteString(u)
		case *syntax.SglQuoted:
			if x.Dollar {
				b.WriteString(ansiC(x.Value))
			} else {
				b.WriteString(x.Value)
			}
		case *syntax.DblQuoted:
			for _, p := range x.Parts {
				if l, ok := p.(*syntax.Lit); ok {
					b.WriteString(unescapeDbl(l.Value))
					continue
				}
				if v, ok := knownParam(p, vars); ok {
					b.WriteString(v) // quoted: no splitting or globbing
					continue
				}
				dyn(printNode(p))
			}
		case *syntax.ParamExp:
			// Unquoted: the value is split and globbed, so only a value
			// without blanks or glob characters stays one known word.
			if v, ok := knownParam(x, vars); ok && v != "" && !strings.ContainsAny(v, " \t\n*?[") {
				b.WriteString(v)
				continue
			}
			dyn(printNode(part))
		default:
			dyn(printNode(part))
		}
	}
	s := b.String()
	if static {
		return Arg{Value: s, Static: true}
	}
	a := Arg{Value: s}
	if prefixEnd > 0 {
		a.Prefix = s[:prefixEnd]
	}
	if suffixStart < len(s) {
		a.Suffix = s[suffixStart:]
	}
	return a
}

// knownParam returns the value of a plain $NAME / ${NAME} expansion of a
// variable with a known value.
func knownParam(p syntax.WordPart, vars map[string]string) (string, bool) {
	pe, ok := p.(*syntax.ParamExp)
	if !ok || vars == nil || pe.Param == nil || pe.Excl || pe.Length || pe.Width || pe.Index != nil ||
		pe.Slice != nil || pe.Repl != nil || pe.Names != 0 || pe.Exp != nil || pe.NestedParam != nil {
		return "", false
	}
	v, ok := vars[pe.Param.Value]
	return v, ok
}

func evalHdoc(r *syntax.Redirect) Arg {
	if r.Word != nil {
		// A quoted delimiter ('EOF') disables expansion in the body.
		for _, p := range r.Word.Parts {
			if _, ok := p.(*syntax.Lit); !ok {
				var b strings.Builder
				for _, hp := range r.Hdoc.Parts {
					if l, ok := hp.(*syntax.Lit); ok {
						b.WriteString(l.Value)
					}
				}
				return Arg{Value: b.String(), Static: true}
			}
		}
	}
	var b strings.Builder
	for _, hp := range r.Hdoc.Parts {
		l, ok := hp.(*syntax.Lit)
		if !ok {
			return Arg{Value: printNode(r.Hdoc)}
		}
		b.WriteString(l.Value)
	}
	return Arg{Value: b.String(), Static: true}
}

func printNode(n syntax.Node) string {
	var b strings.Builder
	if err := syntax.NewPrinter().Print(&b, n); err != nil {
		return "?"
	}
	return b.String()
}

// hasGlob reports unescaped pathname-expansion characters in an unquoted
// literal.
func hasGlob(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		case '[':
			if strings.IndexByte(v[i:], ']') > 0 {
				return true
			}
		}
	}
	return false
}

var braceRE = regexp.MustCompile(`\{[^{}]*(,|\.\.)[^{}]*\}`)

func hasBraceExp(v string) bool { return braceRE.MatchString(v) }

// unescapeLit removes backslashes of an unquoted literal.
func unescapeLit(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			if v[i] == '\n' {
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// unescapeDbl removes the backslashes that escape $ ` " \ and newline in
// double quotes.
func unescapeDbl(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("$`\"\\\n", v[i+1]) >= 0 {
			i++
			if v[i] == '\n' {
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// ansiC decodes the escapes of $'...'.
func ansiC(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 >= len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'x':
			j := i + 1
			for j < len(v) && j < i+3 && strings.IndexByte("0123456789abcdefABCDEF", v[j]) >= 0 {
				j++
			}
			if n, err := strconv.ParseUint(v[i+1:j], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i = j - 1
			} else {
				b.WriteString(`\x`)
			}
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
