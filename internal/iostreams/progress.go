package iostreams

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress draws a one-line progress indicator on a terminal. All methods are
// safe for concurrent use and are no-ops on a nil *Progress, so callers can
// pass nil when progress is off.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	unit    string
	total   int64 // 0 when unknown
	done    int64
	start   time.Time
	last    time.Time
	stopped bool
}

// NewProgress returns a progress indicator writing to s.ErrOut, or nil when
// progress is not wanted (not a terminal, or --quiet). total may be 0 when
// the amount of work is unknown.
func (s *IOStreams) NewProgress(label, unit string, total int64) *Progress {
	if !s.ShowProgress() {
		return nil
	}
	now := time.Now()
	return &Progress{w: s.ErrOut, label: label, unit: unit, total: total, start: now}
}

// Add records n more units of work done.
func (p *Progress) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *Progress) draw(now time.Time) {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	if p.total > 0 {
		pct := 100 * float64(p.done) / float64(p.total)
		fmt.Fprintf(p.w, "\r\033[K%s: %5.1f%% %d/%d %s (%.0f/s)", p.label, pct, p.done, p.total, p.unit, rate)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d %s (%.0f/s)", p.label, p.done, p.unit, rate)
}

// Done draws the final state and ends the line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}
