package flows

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/flow"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

func init() { verbs = append(verbs, newCmdExtract) }

// ExtractOptions are the flags of "flows extract".
type ExtractOptions struct {
	IO              *iostreams.IOStreams
	Inputs          []string
	Output          string
	Format          string
	FlowTimeout     time.Duration
	IdleTimeout     time.Duration
	InactiveTimeout time.Duration
	Workers         int
	Label           string
}

func newCmdExtract(f *cmdutil.Factory) *cobra.Command {
	return NewCmdExtract(f, nil)
}

// NewCmdExtract returns "flows extract"; runF replaces the work in tests.
func NewCmdExtract(f *cmdutil.Factory, runF func(*ExtractOptions) error) *cobra.Command {
	opts := &ExtractOptions{IO: f.IOStreams}
	def := flow.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "extract [flags] -o OUT PCAP...",
		Short: "Turn packet captures into flows with CICFlowMeter features",
		Long: `Read pcap/pcapng captures (merged in time order), group packets into
bidirectional flows and write one row per flow with the CICFlowMeter column
set (see docs/flow-features.md). Timeouts follow packet time, so the output
is the same on every run and for any --workers.`,
		Example: `  rangehunt flows extract -o flows.csv capture.pcap
  rangehunt flows extract --format parquet --label attack -o flows.parquet day1/*.pcapng
  rangehunt flows extract --format jsonl -o - capture.pcap | jq .`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if opts.Output == "" {
				return cmdutil.FlagErrorf("missing -o OUT (use -o - for standard output)")
			}
			if _, err := flow.ParseFormat(opts.Format); err != nil {
				return cmdutil.FlagErrorf("--format: %v", err)
			}
			if opts.FlowTimeout < 0 || opts.IdleTimeout < 0 || opts.InactiveTimeout < 0 {
				return cmdutil.FlagErrorf("timeouts must not be negative (0 turns one off)")
			}
			if opts.Workers < 0 {
				return cmdutil.FlagErrorf("--workers must be >= 0 (0: one per CPU)")
			}
			if runF != nil {
				return runF(opts)
			}
			return extractRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "", "output file (- for standard output)")
	fl.StringVar(&opts.Format, "format", "csv", "output format: csv, jsonl or parquet")
	fl.DurationVar(&opts.FlowTimeout, "flow-timeout", def.FlowTimeout, "end a flow when a packet comes this long after its first packet (0: off)")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", def.IdleTimeout, "activity timeout: gaps longer than this split Active/Idle periods (0: off)")
	fl.DurationVar(&opts.InactiveTimeout, "inactive-timeout", 0, "end a flow after this long without packets (0: off)")
	fl.StringVar(&opts.Label, "label", "", "value of the Label column for every flow (default empty)")
	fl.IntVar(&opts.Workers, "workers", 1, "flow-table shards (0: one per CPU); output is identical for any value")
	return cmd
}

func extractRun(ctx context.Context, opts *ExtractOptions) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	format, _ := flow.ParseFormat(opts.Format)
	fo := flow.Options{
		FlowTimeout:     opts.FlowTimeout,
		IdleTimeout:     opts.IdleTimeout,
		InactiveTimeout: opts.InactiveTimeout,
		Workers:         opts.Workers,
		Format:          format,
	}
	if opts.Label != "" {
		fo.Labeler = flow.ConstLabel(opts.Label)
	}
	if fo.Workers == 0 {
		fo.Workers = runtime.GOMAXPROCS(0)
	}
	var inputs []flow.Input
	var total int64
	for _, name := range opts.Inputs {
		fh, err := os.Open(name)
		if err != nil {
			return err
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil {
			total += st.Size()
		}
		inputs = append(inputs, flow.Input{Name: name, R: fh})
	}
	var w io.Writer = opts.IO.Out
	if opts.Output != "-" {
		out, err := os.Create(opts.Output)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := out.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("closing %s: %w", opts.Output, cerr)
			}
		}()
		w = out
	}
	prog := opts.IO.NewProgress("reading", "bytes", total)
	if prog != nil {
		fo.Progress = prog
	}
	sum, err := flow.Extract(ctx, inputs, w, fo)
	prog.Done()
	if err == nil || sum.Packets > 0 {
		sum.Report(opts.IO.ErrOut)
	}
	return err
}
