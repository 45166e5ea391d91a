// Package shell mines the programs a command line runs: it parses POSIX
// shell (with mvdan.cc/sh/v3/syntax), cmd.exe and PowerShell command lines
// and lists, per executed program, the executable, the argv the kernel
// sees (ECS process.args), the chain of interpreters that ran it and
// whether it starts a process at all (shell builtins and PowerShell
// cmdlets do not, so they leave no process-start log).
package shell

import (
	"fmt"
	"strings"
)

// Arg is one element of an argv.
type Arg struct {
	// Value is the argument as the program receives it when Static, else
	// the source text (e.g. "$port", "~/.ssh", "*.key").
	Value string
	// Static is set when the value is known before running: no parameter
	// expansion, command substitution, globbing or tilde in it.
	Static bool
	// Prefix and Suffix are the literal text known around the dynamic
	// parts of a non-static argument ("~/.bash_history" has Suffix
	// "/.bash_history").
	Prefix, Suffix string
}

// Pos is a 1-based line and column in the mined command text.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Exec is one program (or builtin) a command runs.
type Exec struct {
	// Args is argv; Args[0] is the program as typed.
	Args []Arg
	// Chain lists the interpreters that ran this program, outermost
	// first, e.g. [sh] for a top-level command, [sh bash] for one in a
	// "bash -c" body, [sh sudo] for "sudo cmd".
	Chain []string
	// Builtin is set for shell builtins and keywords (cd, export, echo in
	// bash, PowerShell cmdlets): they run inside the shell and create no
	// process.
	Builtin bool
	// Function is set for calls of a shell function the command defines.
	Function bool
	// Interpreter and Code are set when the program runs code given on
	// its command line (python -c, perl -e, bash -c): e.g. "python",
	// "import pty;pty.spawn('/bin/sh')".
	Interpreter string
	Code        string
	// Keywords are the significant literal words of Code (cmdlet names,
	// parameters, strings), for rules on an interpreter's command line.
	Keywords []string
	// Env holds the NAME=value assignments of the call (FOO=1 cmd).
	Env []string
	// Pos is where the command starts in the text given to Mine (for
	// commands from a nested body: where the enclosing command starts).
	Pos Pos
	// Group is the index of the top-level statement (command list
	// element separated by ';', '&' or a newline) the program belongs to.
	Group int
	// Via says how the program was reached when not directly: "sh -c",
	// "command substitution", "base64 payload", "sudo", "eval", "stdin".
	Via string
}

// CreatesProcess reports whether running e starts a new program (an
// execve, a process-creation event).
func (e *Exec) CreatesProcess() bool { return !e.Builtin && !e.Function }

// Argv returns the argument values.
func (e *Exec) Argv() []string {
	out := make([]string, len(e.Args))
	for i, a := range e.Args {
		out[i] = a.Value
	}
	return out
}

// Name returns the program's base name ("nmap" for "/tmp/nmap",
// "whoami.exe" for "C:\Windows\System32\whoami.exe"), or "" when argv[0]
// is not static.
func (e *Exec) Name() string {
	if len(e.Args) == 0 || !e.Args[0].Static {
		return ""
	}
	v := e.Args[0].Value
	if i := strings.LastIndexAny(v, `/\`); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// String renders the argv in shell-like notation for messages.
func (e *Exec) String() string {
	parts := make([]string, len(e.Args))
	windows := len(e.Chain) > 0 && (e.Chain[0] == "cmd" || e.Chain[0] == "powershell")
	for i, a := range e.Args {
		switch {
		case a.Static && windows:
			parts[i] = quoteWindows(a.Value)
		case a.Static:
			parts[i] = quote(a.Value)
		default:
			parts[i] = a.Value // source text of an expansion
		}
	}
	return strings.Join(parts, " ")
}

// quoteWindows quotes for a Windows command line (CommandLineToArgvW).
func quoteWindows(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	bs := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			bs++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*bs+1))
		default:
			b.WriteString(strings.Repeat(`\`, bs))
		}
		bs = 0
		b.WriteByte(s[i])
	}
	b.WriteString(strings.Repeat(`\`, 2*bs))
	b.WriteByte('"')
	return b.String()
}

func quote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]{}~#!") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// Result is what Mine found in one command.
type Result struct {
	Execs []Exec
	// Warnings report parts that could not be followed (an unparseable
	// "sh -c" body, a payload that is not valid base64).
	Warnings []string
}

// SyntaxError is a command that does not parse.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

// Mine parses a command written for the given executor and lists what it
// runs. Executors: sh, bash, zsh (POSIX shell parse), cmd (cmd.exe), psh,
// pwsh, powershell (PowerShell), python (the payload is Python code run
// by "python -c"). An empty executor means sh.
func Mine(payload, executor string) (*Result, error) {
	switch strings.ToLower(executor) {
	case "", "sh", "bash", "zsh", "dash", "ksh":
		if executor == "" {
			executor = "sh"
		}
		return MinePOSIX(payload, executor)
	case "cmd", "command_prompt":
		return MineCmd(payload)
	case "psh", "pwsh", "powershell":
		return MinePowerShell(payload, executor)
	case "python":
		return &Result{Execs: []Exec{{
			Args:        []Arg{{Value: "python3", Static: true}, {Value: "-c", Static: true}, {Value: payload, Static: true}},
			Chain:       nil,
			Interpreter: "python",
			Code:        payload,
			Pos:         Pos{1, 1},
		}}}, nil
	}
	return nil, fmt.Errorf("unknown executor %q", executor)
}
