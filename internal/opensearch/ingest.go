package opensearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
)

// Doc is one event to index: its raw JSON object and where it came from.
type Doc struct {
	File string // the path as given by the user; stored in rangehunt.file
	Line int64  // 1-based line (or array element index)
	Raw  []byte // one JSON object; copied by Add
}

// DocID is the deterministic document id of the event at line of file:
// the first 16 bytes of SHA-256 over the absolute, cleaned path and the
// line, in hex. Re-ingesting a file replaces its documents instead of
// duplicating them, whatever the working directory.
func DocID(file string, line int64) string {
	id, _ := docID(nil, absPath(file), line)
	return id
}

func absPath(file string) string {
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return filepath.Clean(file)
}

// docID computes the id with buf as scratch space (it may be nil) and
// returns the grown buffer for reuse.
func docID(buf []byte, abs string, line int64) (string, []byte) {
	buf = append(buf[:0], abs...)
	buf = append(buf, 0)
	buf = strconv.AppendInt(buf, line, 10)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16]), buf
}

// IngestOptions configure a bulk load.
type IngestOptions struct {
	// Index receives the documents (created with the project's mapping
	// when missing).
	Index string
	// BatchDocs and BatchBytes bound one _bulk request (default 5000
	// documents, 8 MiB).
	BatchDocs  int
	BatchBytes int
	// Workers is the number of concurrent _bulk requests (default 2).
	Workers int
	// OnProgress is called with the number of documents acknowledged
	// (indexed or failed) after each batch. It may be called concurrently.
	OnProgress func(n int)
	// OnFailure is called for every document the server refused for good
	// (mapping errors, for example). It may be called concurrently.
	OnFailure func(ItemFailure)
}

// ItemFailure is one document the server refused.
type ItemFailure struct {
	File   string
	Line   int64
	ID     string
	Status int
	Type   string
	Reason string
}

func (f ItemFailure) Error() string {
	if f.Status == 0 { // the whole request failed
		return fmt.Sprintf("%s:%d: document %s: %s", f.File, f.Line, f.ID, f.Reason)
	}
	return fmt.Sprintf("%s:%d: document %s: HTTP %d %s: %s", f.File, f.Line, f.ID, f.Status, f.Type, f.Reason)
}

// IngestStats are the counters of a bulk load.
type IngestStats struct {
	Added         int64 // documents handed to Add
	Created       int64 // new documents
	Updated       int64 // documents that replaced one with the same id
	Failed        int64 // documents refused for good (see OnFailure)
	ItemRetries   int64 // documents re-sent after a per-item 429/5xx
	Batches       int64 // _bulk requests that succeeded
	FailedBatches int64 // _bulk requests abandoned after all retries
}

// Indexed is Created+Updated.
func (s IngestStats) Indexed() int64 { return s.Created + s.Updated }

// Ingester streams documents into one index with concurrent _bulk
// requests. Use Add from one goroutine, then Close.
type Ingester struct {
	c     *Client
	opts  IngestOptions
	ctx   context.Context
	batch *batch
	work  chan *batch
	// lastFile and lastAbs cache the absolute path of the file being
	// read, lastJSON its name as a JSON string; idBuf is docID's scratch.
	lastFile, lastAbs string
	lastJSON          []byte
	idBuf             []byte
	wg                sync.WaitGroup

	mu    sync.Mutex
	stats IngestStats
	err   error // first batch abandoned after all retries
}

type batch struct {
	buf   bytes.Buffer
	items []batchItem
}

// batchPool recycles batches (their multi-megabyte buffers) between bulk
// requests.
var batchPool = sync.Pool{New: func() any { return &batch{} }}

func putBatch(b *batch) {
	b.buf.Reset()
	b.items = b.items[:0]
	batchPool.Put(b)
}

type batchItem struct {
	file string
	line int64
	id   string
	off  int // start of this item's action line in buf
	end  int // end of its source line (after '\n')
}

// NewIngester starts the bulk workers. The index must exist (EnsureIndex).
func (c *Client) NewIngester(ctx context.Context, opts IngestOptions) (*Ingester, error) {
	if err := checkIndexName(opts.Index); err != nil {
		return nil, err
	}
	if opts.BatchDocs <= 0 {
		opts.BatchDocs = 5000
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 8 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	in := &Ingester{c: c, opts: opts, ctx: ctx, work: make(chan *batch, opts.Workers)}
	for range opts.Workers {
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			for b := range in.work {
				in.send(b)
				putBatch(b)
			}
		}()
	}
	return in, nil
}

// Add queues one document. The raw bytes are copied. It returns an error
// only when the context is done or the record is not a JSON object.
func (in *Ingester) Add(d Doc) error {
	if err := in.ctx.Err(); err != nil {
		return err
	}
	raw := bytes.TrimSpace(d.Raw)
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return fmt.Errorf("%s:%d: not a JSON object", d.File, d.Line)
	}
	if bytes.ContainsAny(raw, "\r\n") { // a pretty-printed element of a JSON array
		var cb bytes.Buffer
		if err := json.Compact(&cb, raw); err != nil {
			return fmt.Errorf("%s:%d: %w", d.File, d.Line, err)
		}
		raw = cb.Bytes()
	}
	if in.batch == nil {
		in.batch = batchPool.Get().(*batch)
	}
	b := in.batch
	if d.File != in.lastFile || in.lastAbs == "" {
		in.lastFile, in.lastAbs = d.File, absPath(d.File)
		in.lastJSON, _ = json.Marshal(d.File)
	}
	var id string
	id, in.idBuf = docID(in.idBuf, in.lastAbs, d.Line)
	off := b.buf.Len()
	b.buf.WriteString(`{"index":{"_id":"`)
	b.buf.WriteString(id)
	b.buf.WriteString("\"}}\n")
	writeWithProvenance(&b.buf, raw, in.lastJSON, d.Line, id)
	b.buf.WriteByte('\n')
	b.items = append(b.items, batchItem{file: d.File, line: d.Line, id: id, off: off, end: b.buf.Len()})
	in.mu.Lock()
	in.stats.Added++
	in.mu.Unlock()
	if len(b.items) >= in.opts.BatchDocs || b.buf.Len() >= in.opts.BatchBytes {
		return in.flush()
	}
	return nil
}

// writeWithProvenance writes raw (a compact JSON object) with the
// "rangehunt" provenance object appended as its last member. fileJSON is
// the file name as a JSON string.
func writeWithProvenance(w *bytes.Buffer, raw []byte, fileJSON []byte, line int64, id string) {
	body := bytes.TrimRight(raw[:len(raw)-1], " \t")
	w.Write(body)
	if len(bytes.TrimSpace(body[1:])) > 0 {
		w.WriteByte(',')
	}
	w.WriteString(`"rangehunt":{"file":`)
	w.Write(fileJSON)
	w.WriteString(`,"line":`)
	w.Write(strconv.AppendInt(w.AvailableBuffer(), line, 10))
	w.WriteString(`,"id":"`)
	w.WriteString(id)
	w.WriteString(`"}}`)
}

// StripProvenance removes the "rangehunt" object that ingest appended to
// a document's _source, giving back the event as it was read. Sources that
// OpenSearch rewrote (after a partial update) are re-encoded without it.
func StripProvenance(src []byte) []byte {
	const key = `,"rangehunt":{"file":`
	if i := bytes.LastIndex(src, []byte(key)); i >= 0 && bytes.HasSuffix(bytes.TrimSpace(src), []byte(`"}}`)) {
		// appended by writeWithProvenance and stored verbatim
		tail := src[i+1:]
		var p struct {
			Rangehunt json.RawMessage `json:"rangehunt"`
		}
		if json.Unmarshal(append([]byte{'{'}, bytes.TrimSpace(tail)...), &p) == nil {
			out := make([]byte, 0, i+1)
			out = append(out, src[:i]...)
			return append(out, '}')
		}
	}
	if i := bytes.Index(src, []byte(`{"rangehunt":{"file":`)); i == 0 {
		return []byte("{}")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(src, &m); err != nil {
		return src
	}
	if _, ok := m[FieldProvenance]; !ok {
		return src
	}
	delete(m, FieldProvenance)
	out, err := json.Marshal(m)
	if err != nil {
		return src
	}
	return out
}

func (in *Ingester) flush() error {
	b := in.batch
	in.batch = nil
	if b == nil || len(b.items) == 0 {
		return nil
	}
	select {
	case in.work <- b:
		return nil
	case <-in.ctx.Done():
		return in.ctx.Err()
	}
}

// Close sends what is left, waits for every request and returns the
// counters. The error is the first batch abandoned after all retries (its
// documents are counted in Failed) or the context's error.
func (in *Ingester) Close() (IngestStats, error) {
	ferr := in.flush()
	close(in.work)
	in.wg.Wait()
	in.mu.Lock()
	defer in.mu.Unlock()
	err := in.err
	if err == nil {
		err = ferr
	}
	if err == nil {
		err = in.ctx.Err()
	}
	return in.stats, err
}

type bulkResponse struct {
	Errors bool           `json:"errors"`
	Items  []bulkItemLine `json:"items"`
}

// bulkItemLine is one item of a bulk response: an object with one key,
// the action. Decoding it into fixed fields avoids a map per document.
type bulkItemLine struct {
	Index  *bulkItemOutcome `json:"index"`
	Create *bulkItemOutcome `json:"create"`
	Update *bulkItemOutcome `json:"update"`
	Delete *bulkItemOutcome `json:"delete"`
}

func (l bulkItemLine) outcome() bulkItemOutcome {
	for _, o := range []*bulkItemOutcome{l.Index, l.Create, l.Update, l.Delete} {
		if o != nil {
			return *o
		}
	}
	return bulkItemOutcome{}
}

type bulkItemOutcome struct {
	Status int    `json:"status"`
	Result string `json:"result"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

var bulkQuery = url.Values{"filter_path": {"errors,items.*.status,items.*.result,items.*.error.type,items.*.error.reason"}}

// send posts one batch; documents refused with 429 or 5xx are re-sent (in
// a smaller batch) with backoff, the others are counted as failures.
func (in *Ingester) send(b *batch) {
	for attempt := 0; len(b.items) > 0; attempt++ {
		if attempt > 0 {
			if err := in.c.sleep(in.ctx, in.c.backoff(attempt)); err != nil {
				in.abandon(b, err)
				return
			}
		}
		data, err := in.c.request(in.ctx, http.MethodPost, "/"+indexPath(in.opts.Index)+"/_bulk", bulkQuery, b.buf.Bytes())
		if err != nil {
			in.abandon(b, err)
			return
		}
		var resp bulkResponse
		if err := json.Unmarshal(data, &resp); err != nil || len(resp.Items) != len(b.items) {
			if err == nil {
				err = fmt.Errorf("%d items in the response for %d sent", len(resp.Items), len(b.items))
			}
			in.abandon(b, fmt.Errorf("bulk response: %w", err))
			return
		}
		var retry *batch
		var created, updated, failed, acked int64
		for i, line := range resp.Items {
			it := b.items[i]
			o := line.outcome()
			switch {
			case o.Status/100 == 2:
				acked++
				if o.Result == "created" {
					created++
				} else {
					updated++
				}
			case Retryable(o.Status) && attempt < in.c.cfg.MaxRetries:
				if retry == nil {
					retry = &batch{}
				}
				off := retry.buf.Len()
				retry.buf.Write(b.buf.Bytes()[it.off:it.end])
				retry.items = append(retry.items, batchItem{file: it.file, line: it.line, id: it.id, off: off, end: retry.buf.Len()})
			default:
				acked++
				failed++
				f := ItemFailure{File: it.file, Line: it.line, ID: it.id, Status: o.Status}
				if o.Error != nil {
					f.Type, f.Reason = o.Error.Type, o.Error.Reason
				}
				if in.opts.OnFailure != nil {
					in.opts.OnFailure(f)
				}
			}
		}
		in.mu.Lock()
		in.stats.Batches++
		in.stats.Created += created
		in.stats.Updated += updated
		in.stats.Failed += failed
		if retry != nil {
			in.stats.ItemRetries += int64(len(retry.items))
		}
		in.mu.Unlock()
		if in.opts.OnProgress != nil && acked > 0 {
			in.opts.OnProgress(int(acked))
		}
		if retry == nil {
			return
		}
		b = retry
	}
}

func (in *Ingester) abandon(b *batch, err error) {
	in.mu.Lock()
	in.stats.FailedBatches++
	in.stats.Failed += int64(len(b.items))
	if in.err == nil {
		first, last := b.items[0], b.items[len(b.items)-1]
		in.err = fmt.Errorf("bulk of %d documents (%s:%d to %s:%d) abandoned: %w", len(b.items), first.file, first.line, last.file, last.line, err)
	}
	in.mu.Unlock()
	if in.opts.OnFailure != nil {
		for _, it := range b.items {
			in.opts.OnFailure(ItemFailure{File: it.file, Line: it.line, ID: it.id, Reason: err.Error()})
		}
	}
	if in.opts.OnProgress != nil {
		in.opts.OnProgress(len(b.items))
	}
}

// ErrCountMismatch is returned by Verify when the index holds fewer
// documents than were indexed.
var ErrCountMismatch = errors.New("document count mismatch")

// Verify refreshes index and checks that it holds at least want documents
// carrying provenance from the given files (all documents when files is
// empty). It returns the count found.
func (c *Client) Verify(ctx context.Context, index string, files []string, want int64) (int64, error) {
	if err := c.Refresh(ctx, index); err != nil {
		return 0, err
	}
	var q map[string]any
	if len(files) > 0 {
		q = map[string]any{"terms": map[string]any{FieldFile: files}}
	}
	n, err := c.Count(ctx, index, q)
	if err != nil {
		return 0, err
	}
	if n != want {
		return n, fmt.Errorf("%w: index %s holds %d documents from these files, %d were indexed", ErrCountMismatch, index, n, want)
	}
	return n, nil
}
