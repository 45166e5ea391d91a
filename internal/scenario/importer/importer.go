// Package importer converts what adversary-emulation tools write into
// rangehunt's scenario format: MITRE Caldera operation event logs (joined
// with the operation report for the agents' IP addresses) and
// Invoke-AtomicRedTeam execution logs (CSV and ATTiRe JSON, with commands
// looked up in the Atomic Red Team test definitions).
package importer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/rangehunt/rangehunt/internal/scenario"
)

// Input is one file given to an importer.
type Input struct {
	Name string
	Data []byte
}

// Options control an import.
type Options struct {
	// Name overrides the scenario name (default: from the input).
	Name string
	// Report is Caldera's operation report, for agent IPs and platforms.
	Report *Input
	// Atomics are Atomic Red Team test definitions (atomics/Txxxx.yaml),
	// needed to give CSV execution-log rows their commands.
	Atomics []Input
}

// Result is an imported scenario with what the importer had to guess or
// leave out.
type Result struct {
	Scenario *scenario.Scenario
	Warnings []string
	// Skipped records the input records that gave no procedure, with the
	// reason.
	Skipped []string
}

func (r *Result) warnf(format string, a ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...))
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a procedure-id-safe lower-case name.
func slug(s string) string {
	s = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "_"), "_")
	if len(s) > 48 {
		s = strings.TrimRight(s[:48], "_")
	}
	if s == "" {
		s = "step"
	}
	return s
}

func procID(n int, name string) string { return fmt.Sprintf("%02d_%s", n, slug(name)) }

// tacticIDs converts tactic short names to ids (TA0007), dropping unknown
// names with a warning.
func tacticIDs(res *Result, where string, names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			continue
		}
		t, ok := scenario.TacticByName(n)
		if !ok {
			if t2, ok2 := scenario.TacticByID(n); ok2 {
				t, ok = t2, true
			}
		}
		if !ok {
			res.warnf("%s: unknown ATT&CK tactic %q left out", where, n)
			continue
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t.ID)
		}
	}
	return out
}

var ipv4RE = regexp.MustCompile(`\b(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}(?:/[0-9]{1,2})?\b`)

// targetsIn returns the IPv4 addresses and prefixes a command names,
// minus the executing host's own.
func targetsIn(cmd string, own []string) []string {
	self := map[string]bool{}
	for _, ip := range own {
		self[ip] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range ipv4RE.FindAllString(cmd, -1) {
		if self[m] || seen[m] || strings.HasPrefix(m, "127.") || strings.HasPrefix(m, "0.") {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	return out
}

// platformName maps the tools' platform names to rangehunt's.
func platformName(p string) string {
	switch strings.ToLower(p) {
	case "linux":
		return "linux"
	case "windows":
		return "windows"
	case "darwin", "macos", "osx":
		return "macos"
	}
	return ""
}

// executorName maps the tools' executor names to rangehunt's.
func executorName(e string) (string, bool) {
	switch strings.ToLower(e) {
	case "sh", "":
		return "sh", true
	case "bash":
		return "bash", true
	case "zsh":
		return "zsh", true
	case "psh", "powershell":
		return "psh", true
	case "pwsh":
		return "pwsh", true
	case "cmd", "command_prompt":
		return "cmd", true
	case "python", "python3":
		return "python", true
	}
	return "", false
}

func sortHosts(hs []scenario.Host) {
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
}

func sortStrings(s []string) { sort.Strings(s) }
