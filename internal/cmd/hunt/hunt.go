// Package hunt holds the "rangehunt hunt" command: run Sigma rules over
// ECS logs (files, or OpenSearch through a registered backend) and print
// one JSON line per match.
package hunt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/ecs"
	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

// Options are the hunt command's flags. Backends read what they need.
type Options struct {
	Rules       []string
	Logs        []string
	Pipeline    string
	NoEventKind bool
	Workers     int
	Backend     string

	// OpenSearch backend.
	URL      string
	Index    string
	Since    string
	Until    string
	Config   string
	Insecure bool
	// Tag writes each match's rule labels back onto the matched documents
	// (opensearch backend).
	Tag bool

	// IO gives backends the streams (progress on stderr).
	IO *iostreams.IOStreams
	// Progress is set by the command before the backend is built: nil
	// when progress is off.
	Progress *iostreams.Progress
}

// backends maps --backend names to constructors. Each backend lives in its
// own file and registers itself in init, e.g. opensearch.go:
//
//	func init() { backends["opensearch"] = newOpenSearchBackend }
var backends = map[string]func(*Options) (hunt.Backend, error){
	"file": newFileBackend,
}

// maxSkipsShown bounds the skipped records the file backend prints.
const maxSkipsShown = 20

func newFileBackend(o *Options) (hunt.Backend, error) {
	if len(o.Logs) == 0 {
		return nil, cmdutil.FlagErrorf("--logs is required with --backend file")
	}
	// A file that cannot be read would stop the run after the rules
	// compiled, with an empty summary: check them all first.
	for _, p := range o.Logs {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("logs: %w", err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("logs: %s is a folder (give its files, e.g. %s)", p, filepath.Join(p, "*.ndjson"))
		}
	}
	b := &hunt.FileBackend{Files: o.Logs, Workers: o.Workers}
	// The summary counts skipped records per reason; the first few are
	// shown with their position so that they can be found. The files
	// are read one after the other, on the goroutine that also reports
	// progress, so the counter needs no lock and the progress line can
	// be cleared first.
	shown := 0
	b.Reader.OnSkip = func(pe *ecs.ParseError) {
		if shown < maxSkipsShown {
			shown++
			if o.Progress != nil {
				fmt.Fprint(o.IO.ErrOut, "\r\033[K")
			}
			fmt.Fprintf(o.IO.ErrOut, "skipped: %v\n", pe)
		}
	}
	if o.Progress != nil {
		p := o.Progress
		b.Progress = func(n int64) { p.Add(n) }
	}
	return b, nil
}

func backendNames() string {
	var names []string
	for k := range backends {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

// NewCmd returns the hunt command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "hunt --rules PATH... --logs FILE... [flags]",
		Short: "Run Sigma rules over ECS logs and print every match",
		Long: `Run Sigma rules (files or folders, correlation rules included) over ECS JSON
logs: NDJSON, gzip-compressed NDJSON or a JSON array. Each match is printed
as one JSON line:

  {"rule":{"id","title","level","tags"},"file","line","event":{...}}

Correlation matches carry the correlation's id and title, the group, the
time window and the contributing events' file:line. A summary (events read,
matched and skipped per reason, hits per rule, rules that failed to
compile) goes to stderr, after the first 20 skipped records with their
file, line and column.

Rules are mapped to ECS with --pipeline (default ecs_linux), followed by
the event-kind step (a process_creation rule sees only process start
events) unless --no-event-kind.`,
		Example: `  rangehunt hunt --rules ../shared/sigma/rules/linux --logs events.ndjson
  rangehunt hunt --rules rules/ my-rule.yml --logs logs/*.ndjson.gz b.json --workers 4`,
		// --rules and --logs take several values each (shell globs:
		// --logs logs/*.ndjson), so flags are parsed here.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			rest, help, err := cmdutil.ParseMultiValue(cmd, args, "--rules", "--logs")
			if err != nil {
				return err
			}
			if help {
				return cmd.Help()
			}
			if len(rest) > 0 {
				return cmdutil.FlagErrorf("unexpected argument %q (paths go after --rules or --logs)", rest[0])
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Rules, "rules", nil, "Sigma rule files or folders (repeatable)")
	fl.StringSliceVar(&o.Logs, "logs", nil, "ECS log files (repeatable; file backend)")
	fl.StringVar(&o.Pipeline, "pipeline", "ecs_linux", "field mapping pipeline(s): none, ecs_linux, ecs_windows, FILE; comma-separated to chain")
	fl.BoolVar(&o.NoEventKind, "no-event-kind", false, "do not add the event-kind step to the pipeline")
	fl.IntVar(&o.Workers, "workers", runtime.GOMAXPROCS(0), "matching goroutines (output order does not depend on it)")
	fl.StringVar(&o.Backend, "backend", "file", "where the events are: "+backendNames())
	fl.StringVar(&o.URL, "url", "", "OpenSearch URL (opensearch backend)")
	fl.StringVar(&o.Index, "index", "", "OpenSearch index pattern (opensearch backend)")
	fl.StringVar(&o.Since, "since", "", "only events at or after this time, RFC 3339 (opensearch backend)")
	fl.StringVar(&o.Until, "until", "", "only events before this time, RFC 3339 (opensearch backend)")
	fl.StringVar(&o.Config, "config", "", "OpenSearch config file with url and credentials (default ~/.config/rangehunt/opensearch.yaml)")
	fl.BoolVar(&o.Insecure, "insecure", false, "do not verify OpenSearch's TLS certificate (unsafe)")
	fl.BoolVar(&o.Tag, "tag", false, "write each match's rule tags and ATT&CK ids onto the matched documents (opensearch backend; idempotent)")
	return cmd
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(o.Rules) == 0 {
		return cmdutil.FlagErrorf("--rules is required")
	}
	if o.Workers < 1 {
		return cmdutil.FlagErrorf("--workers must be at least 1, got %d", o.Workers)
	}
	newBackend, ok := backends[o.Backend]
	if !ok {
		return cmdutil.FlagErrorf("unknown --backend %q (want %s)", o.Backend, backendNames())
	}
	rs, err := hunt.LoadRules(o.Rules, hunt.LoadOptions{Pipeline: o.Pipeline, NoEventKind: o.NoEventKind})
	if err != nil {
		// Only the pipeline can fail here (rule errors are in rs.Errors).
		return &cmdutil.FlagError{Err: fmt.Errorf("--pipeline: %w", err)}
	}
	if len(rs.Rules) == 0 {
		for _, e := range rs.Errors {
			fmt.Fprintf(o.IO.ErrOut, "rule error: %s\n", e)
		}
		return fmt.Errorf("no usable rules in %s", strings.Join(o.Rules, ", "))
	}
	if o.Backend == "file" {
		o.Progress = o.IO.NewProgress("hunt", "bytes", totalSize(o.Logs))
	} else {
		o.Progress = o.IO.NewProgress("hunt", "events", 0)
	}
	b, err := newBackend(o)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := hunt.Run(ctx, b, rs, o.IO.Out)
	o.Progress.Done()
	hunt.WriteSummary(o.IO.ErrOut, st, time.Since(start))
	return err
}
