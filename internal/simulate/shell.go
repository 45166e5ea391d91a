package simulate

import (
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// A shell plan is what a POSIX shell spawns for a payload: a sequence of
// steps, each one process or a pipeline of processes started together.
// Builtins (cd, echo, export, ...) spawn nothing, except as a pipeline
// stage, where the shell forks a subshell for them; ( ... ) is a forked
// subshell whose children are its body.

type shStep struct {
	procs      []*shProc
	background bool
}

type shProc struct {
	// fork marks a forked subshell: the process keeps its parent's argv
	// and runs body.
	fork bool
	argv []string
	// env holds VAR=value assignments that prefix the command.
	env  []string
	cwd  string
	body []shStep
}

// builtins of dash and bash that never spawn a process.
var builtins = map[string]bool{
	"cd": true, "echo": true, "export": true, "true": true, "false": true, ":": true, "exit": true,
	"set": true, "unset": true, "read": true, "test": true, "[": true, "printf": true, "pwd": true,
	"type": true, "command": true, "source": true, ".": true, "alias": true, "umask": true,
	"wait": true, "shift": true, "trap": true, "eval": true, "return": true, "local": true,
	"history": true, "ulimit": true, "hash": true, "jobs": true, "kill": true,
}

type planner struct {
	cwd  string
	home string
	vars map[string]string
	// procs counts the processes planned so far (shared by clones): loops
	// nested in a short payload could otherwise plan billions.
	procs *int
}

// maxPlanned bounds the processes one payload may plan.
const maxPlanned = 10000

// planShell parses payload with the POSIX/bash grammar and returns the
// processes it spawns. cwd and home are the shell's working directory and
// $HOME.
func planShell(payload, cwd, home string) ([]shStep, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(payload), "")
	if err != nil {
		return nil, fmt.Errorf("payload %q: %w", payload, err)
	}
	p := &planner{cwd: cwd, home: home, vars: map[string]string{"HOME": home}, procs: new(int)}
	return p.stmts(f.Stmts)
}

func (p *planner) clone() *planner {
	q := &planner{cwd: p.cwd, home: p.home, vars: make(map[string]string, len(p.vars)), procs: p.procs}
	for k, v := range p.vars {
		q.vars[k] = v
	}
	return q
}

func (p *planner) stmts(list []*syntax.Stmt) ([]shStep, error) {
	var out []shStep
	for _, st := range list {
		steps, err := p.stmt(st)
		if err != nil {
			return nil, err
		}
		out = append(out, steps...)
	}
	return out, nil
}

func (p *planner) stmt(st *syntax.Stmt) ([]shStep, error) {
	if st.Background {
		// A background job runs in a forked subshell when it is not a
		// simple command; a simple command is forked and exec'd.
		steps, err := p.clone().cmd(st.Cmd)
		if err != nil {
			return nil, err
		}
		if len(steps) == 1 && len(steps[0].procs) == 1 {
			steps[0].background = true
			return steps, nil
		}
		fork := &shProc{fork: true, cwd: p.cwd, body: steps}
		return []shStep{{procs: []*shProc{fork}, background: true}}, nil
	}
	return p.cmd(st.Cmd)
}

func (p *planner) cmd(c syntax.Command) ([]shStep, error) {
	switch c := c.(type) {
	case nil:
		return nil, nil
	case *syntax.CallExpr:
		proc, err := p.call(c)
		if err != nil || proc == nil {
			return nil, err
		}
		return []shStep{{procs: []*shProc{proc}}}, nil
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt, syntax.OrStmt:
			// Commands are taken to succeed: a && b runs both, a || b
			// runs a only.
			x, err := p.stmt(c.X)
			if err != nil {
				return nil, err
			}
			if c.Op == syntax.OrStmt {
				return x, nil
			}
			y, err := p.stmt(c.Y)
			if err != nil {
				return nil, err
			}
			return append(x, y...), nil
		default: // Pipe, PipeAll
			var stages []*syntax.Stmt
			var flat func(s *syntax.Stmt)
			flat = func(s *syntax.Stmt) {
				if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && len(s.Redirs) == 0 {
					flat(b.X)
					flat(b.Y)
					return
				}
				stages = append(stages, s)
			}
			flat(&syntax.Stmt{Cmd: c})
			step := shStep{}
			for _, s := range stages {
				sub := p.clone()
				if call, ok := s.Cmd.(*syntax.CallExpr); ok {
					proc, err := sub.call(call)
					if err != nil {
						return nil, err
					}
					if proc == nil { // builtin: a forked subshell runs it
						proc = &shProc{fork: true, cwd: p.cwd}
					}
					step.procs = append(step.procs, proc)
					continue
				}
				var body []shStep
				var err error
				if sh, ok := s.Cmd.(*syntax.Subshell); ok {
					// The stage's fork is the subshell: no second fork.
					body, err = sub.stmts(sh.Stmts)
				} else {
					body, err = sub.stmt(s)
				}
				if err != nil {
					return nil, err
				}
				step.procs = append(step.procs, &shProc{fork: true, cwd: p.cwd, body: body})
			}
			return []shStep{step}, nil
		}
	case *syntax.Subshell:
		body, err := p.clone().stmts(c.Stmts)
		if err != nil {
			return nil, err
		}
		return []shStep{{procs: []*shProc{{fork: true, cwd: p.cwd, body: body}}}}, nil
	case *syntax.Block:
		return p.stmts(c.Stmts)
	case *syntax.DeclClause:
		// export, local, declare, readonly: builtins.
		for _, a := range c.Args {
			if a.Name != nil && a.Value != nil {
				v, err := p.literal(a.Value)
				if err != nil {
					return nil, err
				}
				p.vars[a.Name.Value] = v
			}
		}
		return nil, nil
	case *syntax.IfClause:
		// The condition runs; the then-branch is taken.
		cond, err := p.stmts(c.Cond)
		if err != nil {
			return nil, err
		}
		then, err := p.stmts(c.Then)
		if err != nil {
			return nil, err
		}
		return append(cond, then...), nil
	case *syntax.ForClause:
		it, ok := c.Loop.(*syntax.WordIter)
		if !ok {
			return nil, fmt.Errorf("only for-in loops are simulated")
		}
		items, err := p.fields(it.Items)
		if err != nil {
			return nil, err
		}
		var out []shStep
		for _, v := range items {
			if *p.procs > maxPlanned {
				return nil, fmt.Errorf("payload plans more than %d processes", maxPlanned)
			}
			p.vars[it.Name.Value] = v
			body, err := p.stmts(c.Do)
			if err != nil {
				return nil, err
			}
			out = append(out, body...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("shell construct %T is not simulated", c)
}

// call evaluates a simple command; it returns nil for builtins and pure
// assignments, after applying their effect (cd, export, VAR=x).
func (p *planner) call(c *syntax.CallExpr) (*shProc, error) {
	argv, err := p.fields(c.Args)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, a := range c.Assigns {
		v := ""
		if a.Value != nil {
			if v, err = p.literal(a.Value); err != nil {
				return nil, err
			}
		}
		if len(argv) == 0 {
			p.vars[a.Name.Value] = v
		} else {
			env = append(env, a.Name.Value+"="+v)
		}
	}
	if len(argv) == 0 {
		return nil, nil
	}
	if builtins[argv[0]] {
		switch argv[0] {
		case "cd":
			dir := p.home
			if len(argv) > 1 {
				dir = argv[1]
			}
			if !path.IsAbs(dir) {
				dir = path.Join(p.cwd, dir)
			}
			p.cwd = path.Clean(dir)
		case "export":
			for _, a := range argv[1:] {
				if k, v, ok := strings.Cut(a, "="); ok {
					p.vars[k] = v
				}
			}
		}
		return nil, nil
	}
	*p.procs++
	if *p.procs > maxPlanned {
		return nil, fmt.Errorf("payload plans more than %d processes", maxPlanned)
	}
	return &shProc{argv: argv, env: env, cwd: p.cwd}, nil
}

// cfg is the expansion configuration: variables from the planner, no
// command substitution, no globbing (simulated payloads avoid both).
func (p *planner) cfg() *expand.Config {
	return &expand.Config{Env: expand.FuncEnviron(func(name string) string { return p.vars[name] })}
}

// fields expands words as the shell does: quotes removed, parameters
// expanded, unquoted results split, ~ replaced by $HOME.
func (p *planner) fields(words []*syntax.Word) ([]string, error) {
	out, err := expand.Fields(p.cfg(), words...)
	if err != nil {
		return nil, fmt.Errorf("expand: %w", err)
	}
	return out, nil
}

func (p *planner) literal(w *syntax.Word) (string, error) {
	v, err := expand.Literal(p.cfg(), w)
	if err != nil {
		return "", fmt.Errorf("expand: %w", err)
	}
	return v, nil
}
