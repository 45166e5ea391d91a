package hunt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/match"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// FileBackend runs rules over ECS log files (NDJSON, gzip-compressed
// NDJSON, JSON arrays: whatever ecs.Open reads) with the embedded
// evaluator.
type FileBackend struct {
	Files []string
	// Workers is the number of matching goroutines (≤ 1: match on the
	// reading goroutine). Output order does not depend on it.
	Workers int
	// Reader configures ecs.Open.
	Reader ecs.Options
	// Progress, when set, is told the bytes read as the run goes.
	Progress func(bytes int64)
}

// batch is a run of consecutive records of one file handed to a worker.
type batch struct {
	seq  int
	file string
	data []byte
	recs []rec
	// results, filled by the worker
	hits    []hit
	undecod int64
}

type rec struct {
	off, end int
	line     int64
}

type hit struct {
	rec  int
	rule int
}

const (
	batchRecords = 512
	batchBytes   = 1 << 20
)

// batchPool recycles batches (their 1 MB buffers): Match.Event aliases a
// batch and is valid only during the emit call.
var batchPool = sync.Pool{New: func() any {
	return &batch{data: make([]byte, 0, batchBytes+64<<10), recs: make([]rec, 0, batchRecords)}
}}

func newBatch(seq int, file string) *batch {
	b := batchPool.Get().(*batch)
	b.seq, b.file = seq, file
	b.data, b.recs, b.hits, b.undecod = b.data[:0], b.recs[:0], b.hits[:0], 0
	return b
}

// Run implements Backend.
func (b *FileBackend) Run(ctx context.Context, rules []*sigma.Rule, emit func(Match) error) (Stats, error) {
	set, errs := match.Compile(rules)
	st := Stats{Skipped: map[string]int64{}}
	for _, e := range errs {
		st.RuleErrors = append(st.RuleErrors, trimErr(e))
	}
	if set == nil {
		return st, errors.New("rule set cannot be compiled")
	}
	st.Rules = len(set.Rules)
	workers := b.Workers
	if workers < 1 {
		workers = 1
	}
	// output delivers one batch's matches in order.
	output := func(bt *batch) error {
		defer batchPool.Put(bt)
		st.AddSkip("undecodable event", bt.undecod)
		last := -1
		for _, h := range bt.hits {
			r := bt.recs[h.rec]
			if h.rec != last {
				st.Matched++
				last = h.rec
			}
			rule := set.Rules[h.rule].Rule
			m := Match{
				Rule:     RefOf(&rule.Meta),
				EventRef: EventRef{File: bt.file, Line: r.line},
				Event:    bt.data[r.off:r.end],
				Source:   rule,
			}
			if err := emit(m); err != nil {
				return err
			}
		}
		return nil
	}
	var rs Stats
	var err error
	if workers == 1 {
		m := set.NewMatcher()
		rs, err = b.read(ctx, func(bt *batch) error {
			matchBatch(m, bt)
			return output(bt)
		})
	} else {
		rs, err = b.runParallel(ctx, set, workers, output)
	}
	st.Read, st.Events, st.Bytes = rs.Read, rs.Events, rs.Bytes
	for k, v := range rs.Skipped {
		st.AddSkip(k, v)
	}
	return st, err
}

func (b *FileBackend) runParallel(ctx context.Context, set *match.Set, workers int, output func(*batch) error) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *batch, workers*2)
	done := make(chan *batch, workers*2)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := set.NewMatcher()
			for bt := range jobs {
				matchBatch(m, bt)
				select {
				case done <- bt:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// tokens bound the batches in flight (memory stays constant even when
	// one worker lags behind the others).
	tokens := make(chan struct{}, workers*4)
	var readErr error
	var rs Stats
	go func() {
		rs, readErr = b.read(ctx, func(bt *batch) error {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- bt:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(jobs)
		wg.Wait()
		close(done)
	}()
	// Re-order: emit batches strictly by sequence number.
	pending := map[int]*batch{}
	next := 0
	var outErr error
	for bt := range done {
		if outErr != nil {
			continue
		}
		pending[bt.seq] = bt
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-tokens
			if err := output(p); err != nil {
				outErr = err
				cancel()
				break
			}
		}
	}
	if outErr != nil {
		return rs, outErr
	}
	return rs, readErr
}

func matchBatch(m *match.Matcher, bt *batch) {
	var idx []int
	for i, r := range bt.recs {
		var err error
		idx, err = m.Match(bt.data[r.off:r.end], idx[:0])
		if err != nil {
			bt.undecod++
			continue
		}
		for _, ri := range idx {
			bt.hits = append(bt.hits, hit{rec: i, rule: ri})
		}
	}
}

// read reads the files in order and hands batches of records to fn. It
// returns the readers' statistics.
func (b *FileBackend) read(ctx context.Context, fn func(*batch) error) (Stats, error) {
	seq := 0
	st := Stats{}
	for _, path := range b.Files {
		r, err := ecs.Open(path, b.Reader)
		if err != nil {
			return st, fmt.Errorf("logs: %w", err)
		}
		var lastBytes int64
		bt := newBatch(seq, path)
		flush := func() error {
			if len(bt.recs) == 0 {
				return nil
			}
			seq++
			cur := bt
			bt = newBatch(seq, path)
			return fn(cur)
		}
		for {
			if err := ctx.Err(); err != nil {
				r.Close()
				return st, err
			}
			rc, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return st, fmt.Errorf("logs: %s: %w", path, err)
			}
			off := len(bt.data)
			bt.data = append(bt.data, rc.Raw...)
			bt.recs = append(bt.recs, rec{off: off, end: len(bt.data), line: rc.Line})
			if len(bt.recs) >= batchRecords || len(bt.data) >= batchBytes {
				if b.Progress != nil {
					s := r.Stats()
					b.Progress(s.Bytes - lastBytes)
					lastBytes = s.Bytes
				}
				if err := flush(); err != nil {
					r.Close()
					return st, err
				}
			}
		}
		if err := flush(); err != nil {
			r.Close()
			return st, err
		}
		batchPool.Put(bt) // the empty batch flush left
		s := r.Stats()
		if b.Progress != nil {
			b.Progress(s.Bytes - lastBytes)
		}
		r.Close()
		st.Read += s.Read
		st.Events += s.Events
		st.Bytes += s.Bytes
		for k, v := range s.Skipped {
			st.AddSkip(k, v)
		}
	}
	return st, nil
}
