package opensearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rangehunt/rangehunt/internal/ecs"
)

// LoadOptions configure LoadFiles.
type LoadOptions struct {
	IngestOptions
	// Log receives one line per skipped record (the first MaxLogged of
	// them) and per refused document; nil discards them.
	Log io.Writer
	// MaxLogged bounds the lines written to Log per kind (default 20).
	MaxLogged int
	// NoVerify skips the final refresh and _count check.
	NoVerify bool
}

// LoadStats summarise LoadFiles.
type LoadStats struct {
	IngestStats
	Files   int
	Read    int64            // records read (NDJSON lines or array elements)
	Events  int64            // well-formed events handed to the bulk loader
	Skipped map[string]int64 // records skipped by the reader, per reason
	Count   int64            // documents from these files found after refresh
	Elapsed time.Duration    // from the first read to the verified count (index creation excluded)
}

// Rate is the indexing rate in events per second.
func (s LoadStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Indexed()) / s.Elapsed.Seconds()
}

// LoadFiles reads ECS event files (NDJSON, gzip NDJSON or a JSON array,
// through internal/ecs) and bulk-loads them into opts.Index, creating the
// index with the project's mapping when missing. Every event gets a
// deterministic id (DocID of its file and line), so loading the same files
// again replaces documents instead of duplicating them. Malformed records
// are skipped and counted; refused documents are counted and logged. At the
// end the index is refreshed and the number of documents from these files
// is checked against the number indexed.
func (c *Client) LoadFiles(ctx context.Context, files []string, opts LoadOptions) (LoadStats, error) {
	st := LoadStats{Skipped: map[string]int64{}}
	start := time.Now()
	if opts.MaxLogged <= 0 {
		opts.MaxLogged = 20
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if _, err := c.EnsureIndex(ctx, opts.Index); err != nil {
		return st, err
	}
	start = time.Now() // the rate is the load's, not the index creation's
	var (
		mu     sync.Mutex
		logged int
	)
	userFail := opts.OnFailure
	opts.OnFailure = func(f ItemFailure) { // called from the bulk workers
		if userFail != nil {
			userFail(f)
		}
		mu.Lock()
		defer mu.Unlock()
		if logged < opts.MaxLogged {
			logged++
			fmt.Fprintf(log, "refused: %v\n", f)
		}
	}
	files = dedup(files)
	in, err := c.NewIngester(ctx, opts.IngestOptions)
	if err != nil {
		return st, err
	}
	var skippedLogged int
	var readErr error
	for _, name := range files {
		r, err := ecs.Open(name, ecs.Options{OnSkip: func(pe *ecs.ParseError) {
			if skippedLogged < opts.MaxLogged {
				skippedLogged++
				fmt.Fprintf(log, "skipped: %v\n", pe)
			}
		}})
		if err != nil {
			readErr = errors.Join(readErr, err)
			continue
		}
		st.Files++
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				readErr = errors.Join(readErr, fmt.Errorf("%s: %w", name, err))
				break
			}
			if err := in.Add(Doc{File: name, Line: rec.Line, Raw: rec.Raw}); err != nil {
				if ctx.Err() != nil {
					r.Close()
					ist, _ := in.Close()
					st.IngestStats = ist
					return st, err
				}
				st.Skipped["not a JSON object"]++
				continue
			}
			st.Events++
		}
		rs := r.Stats()
		st.Read += rs.Read
		for k, v := range rs.Skipped {
			st.Skipped[k] += v
		}
		r.Close()
	}
	ist, err := in.Close()
	st.IngestStats = ist
	st.Elapsed = time.Since(start)
	if err != nil {
		return st, errors.Join(readErr, err)
	}
	if !opts.NoVerify && st.Files > 0 {
		n, err := c.Verify(ctx, opts.Index, files, st.Indexed())
		st.Count = n
		st.Elapsed = time.Since(start)
		if err != nil {
			return st, errors.Join(readErr, err)
		}
	}
	return st, readErr
}

// dedup returns files without repeats, in their first order.
func dedup(files []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
