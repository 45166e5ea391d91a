package iostreams

import (
	"strings"
	"testing"
)

func TestProgressOnlyOnATerminal(t *testing.T) {
	s, _, _, errOut := Test()
	if p := s.NewProgress("reading", "events", 10); p != nil {
		t.Fatal("progress on a non-terminal stderr")
	}
	s.SetStderrTTY(true)
	s.Quiet = true
	if p := s.NewProgress("reading", "events", 10); p != nil {
		t.Fatal("progress with --quiet")
	}
	s.Quiet = false
	p := s.NewProgress("reading", "events", 10)
	if p == nil {
		t.Fatal("no progress on a terminal")
	}
	p.Add(4)
	p.Done()
	p.Done() // a second Done draws nothing more
	out := errOut.String()
	if !strings.Contains(out, "reading:") || !strings.Contains(out, "10 events") || strings.Count(out, "\n") != 1 {
		t.Errorf("progress output %q", out)
	}
	if !strings.Contains(out, "4/10") {
		t.Errorf("final state missing from %q", out)
	}
}

func TestNilProgressIsSafe(t *testing.T) {
	var p *Progress
	p.Add(1)
	p.Done()
}
