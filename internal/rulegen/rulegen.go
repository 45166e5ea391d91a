// Package rulegen writes Sigma rules from an attack's own commands: per
// procedure of a scenario, per program its commands start, one
// process_creation rule on ECS fields (process.executable, process.args,
// process.command_line) specific to that command line. Check measures how
// many events each rule matches inside and outside its procedure's time
// window.
package rulegen

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/shell"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// MaxValueLen is the longest argument put in a rule. ECS keyword fields
// are indexed with ignore_above: 1024, so a longer value can never match
// in OpenSearch; such arguments are left out (and counted in Rule.Dropped).
const MaxValueLen = 1024

// Options control generation.
type Options struct {
	// IncludeSetup also generates rules for setup procedures (deployment
	// of the attacker's own tools), which are skipped by default.
	IncludeSetup bool
	// Author is written into every rule (default "rangehunt rules generate").
	Author string
}

// Rule is one generated Sigma rule.
type Rule struct {
	// Path is relative to the output folder: <procedure>/<procedure>_<n>.yml.
	Path      string
	Procedure string
	// Command is the index of the procedure command the program came from.
	Command int
	Exec    shell.Exec
	ID      string
	Title   string
	Level   string
	// Dropped lists arguments left out of the selection, with the reason.
	Dropped []string
	// YAML is the rule file's content.
	YAML []byte
	// Sigma is YAML as parsed back by sigma.Parse.
	Sigma *sigma.Rule
}

// Skip is a procedure, command or program for which no rule was written.
type Skip struct {
	Procedure string
	Command   int // -1 for the whole procedure
	Reason    string
}

func (s Skip) String() string {
	if s.Command < 0 {
		return fmt.Sprintf("%s: %s", s.Procedure, s.Reason)
	}
	return fmt.Sprintf("%s: commands[%d]: %s", s.Procedure, s.Command, s.Reason)
}

// Result is what Generate produced.
type Result struct {
	Rules   []Rule
	Skipped []Skip
	// Warnings come from mining (unfollowed payloads, nested bodies that
	// do not parse).
	Warnings []string
}

// Generate writes rules for every non-setup procedure of s (all with
// IncludeSetup). A command that does not parse is skipped with its
// position; it never stops the other commands.
func Generate(s *scenario.Scenario, opts Options) (*Result, error) {
	if opts.Author == "" {
		opts.Author = "rangehunt rules generate"
	}
	res := &Result{}
	for i := range s.Procedures {
		p := &s.Procedures[i]
		if p.Setup && !opts.IncludeSetup {
			res.Skipped = append(res.Skipped, Skip{p.ID, -1, "setup procedure (use --include-setup)"})
			continue
		}
		if err := genProcedure(s, p, opts, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

type candidate struct {
	exec    shell.Exec
	command int
}

func genProcedure(s *scenario.Scenario, p *scenario.Procedure, opts Options, res *Result) error {
	platform := s.PlatformOf(p)
	if len(p.Commands) == 0 {
		res.Skipped = append(res.Skipped, Skip{p.ID, -1, "no commands"})
		return nil
	}
	var cands []candidate
	seen := map[string]bool{}
	for ci, c := range p.Commands {
		executor := c.Executor
		if executor == "" {
			executor = "sh"
			if platform == "windows" {
				executor = "psh"
			}
		}
		texts := append([]string{c.Payload}, c.SubCommands...)
		for ti, text := range texts {
			if strings.TrimSpace(text) == "" {
				res.Skipped = append(res.Skipped, Skip{p.ID, ci, "empty command"})
				continue
			}
			mined, err := shell.Mine(text, executor)
			where := ""
			if ti > 0 {
				where = fmt.Sprintf("sub_commands[%d]: ", ti-1)
			}
			if err != nil {
				res.Skipped = append(res.Skipped, Skip{p.ID, ci, fmt.Sprintf("unparseable: %s%v", where, err)})
				continue
			}
			for _, w := range mined.Warnings {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: commands[%d]: %s%s", p.ID, ci, where, w))
			}
			for _, e := range mined.Execs {
				if !e.CreatesProcess() {
					continue
				}
				if e.Interpreter == "powershell" && len(e.Keywords) == 0 {
					continue // powershell host of a script without literal words
				}
				if reason := tooBroad(&e); reason != "" {
					res.Skipped = append(res.Skipped, Skip{p.ID, ci, fmt.Sprintf("too broad: %s%s: %s", where, e.String(), reason)})
					continue
				}
				key := strings.Join(e.Argv(), "\x00")
				if seen[key] {
					continue
				}
				seen[key] = true
				cands = append(cands, candidate{e, ci})
			}
		}
	}
	for n, c := range cands {
		r, err := buildRule(s, p, platform, c, n+1, opts)
		if err != nil {
			return err
		}
		if r == nil {
			res.Skipped = append(res.Skipped, Skip{p.ID, c.command, "too broad: " + c.exec.String() + ": no specific value left"})
			continue
		}
		res.Rules = append(res.Rules, *r)
	}
	return nil
}

// tooBroad rejects programs whose rule would match far more than the
// attack: a bare shell reading a script from stdin (its payload is mined
// instead) or a program not known before running.
func tooBroad(e *shell.Exec) string {
	if len(e.Args) == 0 {
		return "empty argv"
	}
	static := 0
	for _, a := range e.Args[1:] {
		if a.Static && a.Value != "" {
			static++
		}
	}
	name := e.Name()
	if name == "" && static == 0 {
		return "program and arguments are only known at run time"
	}
	if static == 0 && interpreters[strings.ToLower(strings.TrimSuffix(name, ".exe"))] {
		if len(e.Args) == 1 {
			return "bare shell reading its script from stdin (the script's commands are mined instead)"
		}
		return "interpreter whose script and arguments are only known at run time: it would match every run"
	}
	return ""
}

// interpreters run scripts: without a known argument, a rule on one
// matches every interactive or scripted use.
var interpreters = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "busybox": true, "python": true,
	"python2": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true,
	"cmd": true, "powershell": true, "pwsh": true,
}

var (
	ipLikeRE = regexp.MustCompile(`^[0-9a-fA-F:.]+(/[0-9]+)?$`)
	tempRE   = regexp.MustCompile(`^(/tmp/|/var/tmp/|/dev/shm/|[A-Za-z]:\\(Windows\\)?Temp\\|%TEMP%)`)
	urlRE    = regexp.MustCompile(`^[a-z]+://`)
)

func isNotable(v string) bool {
	if ipLikeRE.MatchString(v) && strings.ContainsAny(v, ".:") {
		if _, err := netip.ParseAddr(v); err == nil {
			return true
		}
		if _, err := netip.ParsePrefix(v); err == nil {
			return true
		}
	}
	return tempRE.MatchString(v) || urlRE.MatchString(v)
}

// usable reports whether a value can go into a rule, and why not.
func usable(v string) string {
	switch {
	case v == "":
		return "empty"
	case !utf8.ValidString(v):
		return "not valid UTF-8"
	case len(v) > MaxValueLen:
		return fmt.Sprintf("longer than %d bytes (ECS keyword ignore_above)", MaxValueLen)
	case strings.ContainsRune(v, 0):
		return "contains NUL"
	}
	return ""
}

// escapeValue escapes Sigma's wildcard characters so the value matches
// literally.
func escapeValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(v)
}

// linuxAlternatives lists, for program names that Linux distributions
// install as symlinks or alternatives, the names the kernel reports as the
// executable: "sh" runs /usr/bin/dash on Debian, "python3" runs
// /usr/bin/python3.11, "awk" runs mawk or gawk. process.executable holds the
// resolved path, so a rule on "/sh" alone would never match.
var linuxAlternatives = map[string][]string{
	"sh":      {"sh", "dash", "bash", "busybox"},
	"python":  {"python", "python2", "python2.7", "python3", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13"},
	"python3": {"python3", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13"},
	"awk":     {"awk", "gawk", "mawk", "original-awk", "busybox"},
	"nc":      {"nc", "nc.openbsd", "nc.traditional", "ncat", "netcat"},
	"netcat":  {"netcat", "nc.openbsd", "nc.traditional", "ncat"},
	"vi":      {"vi", "vim", "vim.basic", "vim.tiny", "nvi"},
	"vim":     {"vim", "vim.basic", "vim.tiny"},
	"editor":  {"editor", "nano", "vim.basic", "vim.tiny"},
	"pager":   {"pager", "less", "more"},
}

// executableSuffixes returns the process.executable|endswith values for a
// program name: the name itself, or on Linux every name it may resolve to.
func executableSuffixes(platform, sep, exe string) []string {
	names := []string{exe}
	if platform != "windows" {
		if alts, ok := linuxAlternatives[exe]; ok {
			names = alts
		}
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = sep + n
	}
	return out
}

type selection struct {
	name   string
	field  string
	values []string
	// anyOf makes several values OR-linked (alternative spellings of one
	// thing); otherwise they are AND-linked with |all.
	anyOf bool
}

func buildRule(s *scenario.Scenario, p *scenario.Procedure, platform string, c candidate, n int, opts Options) (*Rule, error) {
	e := c.exec
	r := &Rule{
		Procedure: p.ID,
		Command:   c.command,
		Exec:      e,
		Path:      fmt.Sprintf("%s/%s_%d.yml", p.ID, p.ID, n),
	}
	sep := "/"
	if platform == "windows" {
		sep = `\`
	}
	var sels []selection
	score := 0
	name := e.Name()
	if name != "" && usable(name) == "" {
		exe := name
		if platform == "windows" && !strings.Contains(exe, ".") {
			exe += ".exe"
		}
		sels = append(sels, selection{name: "selection_image", field: "process.executable|endswith", values: executableSuffixes(platform, sep, exe), anyOf: true})
	}
	var args, suffixes, prefixes []string
	have := map[string]bool{}
	if e.Interpreter == "powershell" {
		// Cmdlets create no process: match the host's command line.
		for _, k := range e.Keywords {
			if why := usable(k); why != "" {
				r.Dropped = append(r.Dropped, fmt.Sprintf("%q: %s", k, why))
				continue
			}
			args = append(args, k)
		}
		if len(args) > 0 {
			score += len(args)
			sels = append(sels, selection{name: "selection_cmdline", field: "process.command_line|contains", values: args})
		}
	} else {
		// PowerShell starts a program by its resolved path: the command
		// line (and so process.args[0]) is "C:\Windows\system32\whoami.exe",
		// not the "whoami" typed; the executable selection covers it.
		skipArgv0 := platform == "windows" && len(e.Chain) > 0 && e.Chain[len(e.Chain)-1] == "powershell" &&
			!strings.ContainsAny(e.Args[0].Value, `\/`)
		for i, a := range e.Args {
			if i == 0 && skipArgv0 {
				r.Dropped = append(r.Dropped, fmt.Sprintf("%q: PowerShell passes the resolved path as argv[0]", a.Value))
				continue
			}
			switch {
			case a.Static:
				if why := usable(a.Value); why != "" {
					if a.Value != "" {
						r.Dropped = append(r.Dropped, fmt.Sprintf("%q: %s", a.Value, why))
					}
					continue
				}
				if have[a.Value] {
					continue
				}
				have[a.Value] = true
				args = append(args, a.Value)
				if i > 0 {
					score++
					if isNotable(a.Value) {
						score++
					}
				}
			case len(a.Suffix) >= 3 && usable(a.Suffix) == "":
				suffixes = append(suffixes, a.Suffix)
				score++
			case len(a.Prefix) >= 3 && usable(a.Prefix) == "":
				prefixes = append(prefixes, a.Prefix)
				score++
			default:
				r.Dropped = append(r.Dropped, fmt.Sprintf("%q: only known at run time", a.Value))
			}
		}
		if len(args) > 0 {
			sels = append(sels, selection{name: "selection_args", field: "process.args", values: args})
		}
		if len(suffixes) > 0 {
			sels = append(sels, selection{name: "selection_args_suffix", field: "process.args|endswith", values: suffixes})
		}
		if len(prefixes) > 0 {
			sels = append(sels, selection{name: "selection_args_prefix", field: "process.args|startswith", values: prefixes})
		}
	}
	if e.Code != "" {
		score++
	}
	if len(sels) == 0 {
		return nil, nil // nothing usable left: never write a match-all rule
	}
	switch {
	case e.Via == "command substitution" || e.Via == "process substitution":
		// Helpers that compute a value for the attack's command
		// (which python, hostname) are ordinary on their own.
		r.Level = "low"
	case score >= 3:
		r.Level = "high"
	case score >= 1:
		r.Level = "medium"
	default:
		r.Level = "low"
	}

	cmdline := e.String()
	if e.Interpreter == "powershell" {
		cmdline = e.Code
	}
	canon := strings.Join(e.Argv(), "\x00")
	r.ID = NewV5(Namespace, s.Name+"\n"+p.ID+"\n"+canon).String()
	procName := p.Name
	if procName == "" {
		procName = p.ID
	}
	r.Title = truncate(oneLine(fmt.Sprintf("%s: %s", procName, cmdline)), 100)

	var desc strings.Builder
	fmt.Fprintf(&desc, "Detects the process start of %q, run by procedure %s (%s) of scenario %s on host %s.",
		truncate(oneLine(cmdline), 300), p.ID, procName, s.Name, p.Host)
	if len(e.Chain) > 0 {
		fmt.Fprintf(&desc, " Interpreter chain: %s.", strings.Join(e.Chain, " > "))
	}
	if e.Via != "" {
		fmt.Fprintf(&desc, " Reached via %s.", e.Via)
	}
	desc.WriteString(" Generated by rangehunt from the attack's own commands; uses ECS field names (pipeline none).")

	tags := tagsOf(p)
	fps := []string{"Administrators or scripts running the same command line"}
	if r.Level == "low" {
		fps = append(fps, oneLine(fmt.Sprintf("Ordinary use of %s with the same arguments", name)))
	}
	doc := mapping(
		"title", scalar(r.Title),
		"id", scalar(r.ID),
		"status", scalar("experimental"),
		"description", scalar(desc.String()),
		"author", scalar(opts.Author),
	)
	if !p.Start.IsZero() {
		appendKV(doc, "date", scalar(p.Start.UTC().Format("2006-01-02")))
	}
	if len(tags) > 0 {
		appendKV(doc, "tags", seq(tags))
	}
	appendKV(doc, "logsource", mapping("product", scalar(platform), "category", scalar("process_creation")))
	det := mapping()
	for _, sel := range sels {
		field := sel.field
		vals := make([]string, len(sel.values))
		for i, v := range sel.values {
			vals[i] = escapeValue(v)
		}
		var val *yaml.Node
		if len(vals) == 1 {
			val = scalar(vals[0])
		} else {
			if !sel.anyOf {
				field += "|all"
			}
			val = seq(vals)
		}
		appendKV(det, sel.name, mapping(field, val))
	}
	appendKV(det, "condition", scalar("all of selection_*"))
	appendKV(doc, "detection", det)
	appendKV(doc, "falsepositives", seq(fps))
	appendKV(doc, "level", scalar(r.Level))

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(4)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("rule %s: encode: %w", r.Path, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rule %s: encode: %w", r.Path, err)
	}
	r.YAML = buf.Bytes()
	f, errs := sigma.Parse(r.Path, r.YAML)
	if err := errs.Err(); err != nil {
		return nil, fmt.Errorf("rule %s: generated rule does not parse (a rangehunt bug): %w", r.Path, err)
	}
	if len(f.Rules) != 1 {
		return nil, fmt.Errorf("rule %s: generated file holds %d rules", r.Path, len(f.Rules))
	}
	r.Sigma = f.Rules[0]
	return r, nil
}

func tagsOf(p *scenario.Procedure) []string {
	var tags []string
	for _, t := range p.Tactics {
		if tc, ok := scenario.TacticByID(t); ok {
			tags = append(tags, "attack."+tc.Short)
		}
	}
	for _, t := range p.Techniques {
		if scenario.ValidTechniqueID(t) {
			tags = append(tags, "attack."+strings.ToLower(t))
		}
	}
	return tags
}

// oneLine makes command text fit a title or description: valid UTF-8,
// no control characters, single spaces.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func scalar(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	// yaml.v3 may emit block scalars for multi-line text that do not read
	// back the same (e.g. "\n0"); double quotes are always exact.
	if strings.ContainsAny(v, "\n\r\t") || strings.TrimSpace(v) != v {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func seq(vals []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, v := range vals {
		n.Content = append(n.Content, scalar(v))
	}
	return n
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		appendKV(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

func appendKV(m *yaml.Node, k string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
}

// WriteDir writes the rules below dir and removes earlier generated files
// (<procedure>_<n>.yml) of the same procedures that this run did not
// write, so regenerating leaves exactly the current rules.
func WriteDir(dir string, res *Result) error {
	written := map[string]bool{}
	procs := map[string]bool{}
	for _, r := range res.Rules {
		p := filepath.Join(dir, filepath.FromSlash(r.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("rules %s: %w", dir, err)
		}
		if err := os.WriteFile(p, r.YAML, 0o644); err != nil {
			return fmt.Errorf("rule %s: %w", p, err)
		}
		written[p] = true
		procs[r.Procedure] = true
	}
	names := make([]string, 0, len(procs))
	for p := range procs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, proc := range names {
		old, _ := filepath.Glob(filepath.Join(dir, proc, proc+"_*.yml"))
		for _, o := range old {
			if !written[o] {
				if err := os.Remove(o); err != nil {
					return fmt.Errorf("remove stale rule %s: %w", o, err)
				}
			}
		}
	}
	return nil
}
