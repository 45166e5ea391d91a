package opensearch

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/opensearch"
)

func init() { verbs = append(verbs, newCmdIngest) }

// IngestOptions are the flags of "opensearch ingest".
type IngestOptions struct {
	IO       *iostreams.IOStreams
	Files    []string
	Index    string
	URL      string
	Config   string
	Insecure bool
	Workers  int
	Batch    int
	NoVerify bool
}

func newCmdIngest(f *cmdutil.Factory) *cobra.Command {
	return NewCmdIngest(f, nil)
}

// NewCmdIngest returns "opensearch ingest"; runF replaces the work in tests.
func NewCmdIngest(f *cmdutil.Factory, runF func(*IngestOptions) error) *cobra.Command {
	opts := &IngestOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "ingest --index NAME FILE...",
		Short: "Bulk-load ECS event files into an OpenSearch index",
		Long: `Read ECS events (NDJSON, gzip NDJSON or a JSON array) and bulk-load them
into an index, created with rangehunt's ECS mapping when missing (keyword
fields lower-cased for case-insensitive matching, with a ".cased"
sub-field). Each event's document id is derived from its file and line, so
loading a file again creates no duplicates. Requests are retried with
backoff on connection errors, 429 and 5xx; documents the server refuses are
reported and counted. At the end the index is refreshed and its document
count for these files is checked against the number indexed.

Connection: --url (default $OPENSEARCH_URL, else the config file, else
http://127.0.0.1:9200). Credentials come only from OPENSEARCH_USERNAME,
OPENSEARCH_PASSWORD, OPENSEARCH_CA_CERT or the config file
(~/.config/rangehunt/opensearch.yaml, or --config). See docs/opensearch.md.`,
		Example: `  rangehunt opensearch ingest --index rangehunt-events out/events.ndjson.gz
  OPENSEARCH_URL=https://search.lab:9200 rangehunt opensearch ingest --index run-42 --workers 4 logs/*.ndjson`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if opts.Index == "" {
				return cmdutil.FlagErrorf("missing --index NAME")
			}
			if opts.Workers < 1 || opts.Batch < 1 {
				return cmdutil.FlagErrorf("--workers and --batch-size must be at least 1")
			}
			if runF != nil {
				return runF(opts)
			}
			return ingestRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Index, "index", "", "index to load into (created with rangehunt's mapping when missing)")
	fl.StringVar(&opts.URL, "url", "", "OpenSearch URL (default: $OPENSEARCH_URL, the config file, or "+opensearch.DefaultURL+")")
	fl.StringVar(&opts.Config, "config", "", "config file with url and credentials (default ~/.config/rangehunt/opensearch.yaml)")
	fl.BoolVar(&opts.Insecure, "insecure", false, "do not verify the server's TLS certificate (unsafe)")
	fl.IntVar(&opts.Workers, "workers", 2, "concurrent bulk requests")
	fl.IntVar(&opts.Batch, "batch-size", 5000, "documents per bulk request")
	fl.BoolVar(&opts.NoVerify, "no-verify", false, "skip the final refresh and document count check")
	return cmd
}

func ingestRun(ctx context.Context, opts *IngestOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := opensearch.Connect(opts.Config, opts.URL, opts.Insecure, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	prog := opts.IO.NewProgress("ingest "+opts.Index, "events", 0)
	st, err := c.LoadFiles(ctx, opts.Files, opensearch.LoadOptions{
		IngestOptions: opensearch.IngestOptions{
			Index:      opts.Index,
			Workers:    opts.Workers,
			BatchDocs:  opts.Batch,
			OnProgress: func(n int) { prog.Add(int64(n)) },
		},
		Log:      opts.IO.ErrOut,
		NoVerify: opts.NoVerify,
	})
	prog.Done()
	out := opts.IO.Out
	fmt.Fprintf(out, "index %s: %d events read from %d files, %d indexed (%d new, %d replaced), %d refused, in %.1fs (%.0f events/s)\n",
		opts.Index, st.Events, st.Files, st.Indexed(), st.Created, st.Updated, st.Failed, st.Elapsed.Seconds(), st.Rate())
	if len(st.Skipped) > 0 {
		var reasons []string
		for k := range st.Skipped {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		for _, k := range reasons {
			fmt.Fprintf(out, "  skipped %d records: %s\n", st.Skipped[k], k)
		}
	}
	if st.ItemRetries > 0 || c.Retries() > 0 {
		fmt.Fprintf(out, "  retried %d requests and %d documents\n", c.Retries(), st.ItemRetries)
	}
	if !opts.NoVerify && err == nil {
		fmt.Fprintf(out, "  verified: the index holds %d documents from these files\n", st.Count)
	}
	if err != nil {
		return fmt.Errorf("ingest into %s: %w", opts.Index, err)
	}
	if st.Failed > 0 {
		return cmdutil.ErrSilent
	}
	return nil
}
