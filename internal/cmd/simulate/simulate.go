// Package simulate holds the "rangehunt simulate" command: generate a
// reference cyber-range run (attack metadata, ECS logs, pcaps, truth).
package simulate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/simulate"
)

// Options are the simulate command's flags.
type Options struct {
	IO         *iostreams.IOStreams
	Scenario   string
	Seed       uint64
	Duration   time.Duration
	Hosts      int
	BenignRate float64
	BenignOnly bool
	List       bool
	Out        string
	Start      string
	Force      bool
	Workload   string
}

// NewCmd returns the simulate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command { return newCmd(f, nil) }

func newCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "simulate --out DIR [flags]",
		Short: "Generate a reference cyber-range run: attack metadata, ECS logs, pcaps and ground truth",
		Long: `Generate a seeded, reproducible cyber-range run into DIR:

  scenario.yaml          the attack metadata (hosts, procedures, commands, times)
  logs/<host>.ndjson     ECS process and network events, one file per host
  pcaps/<segment>.pcap   the packets of each network segment
  truth/                 the procedure (or "benign") of every event and packet

The same seed gives byte-identical output. --benign-only leaves the attack
out (training data for anomaly detection). See docs/simulator.md.`,
		Example: `  rangehunt simulate --out demo
  rangehunt simulate --seed 7 --duration 2h --hosts 10 --benign-rate 2 --out big
  rangehunt simulate --benign-only --duration 24h --out normal
  rangehunt simulate --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !o.List {
				if o.Out == "" {
					return cmdutil.FlagErrorf("--out is required")
				}
				if o.Duration <= 0 {
					return cmdutil.FlagErrorf("--duration must be positive, got %v", o.Duration)
				}
				if o.Hosts < 1 {
					return cmdutil.FlagErrorf("--hosts must be at least 1, got %d", o.Hosts)
				}
				if o.BenignRate < 0 {
					return cmdutil.FlagErrorf("--benign-rate must not be negative, got %v", o.BenignRate)
				}
				if o.Start != "" {
					if _, err := time.Parse(time.RFC3339, o.Start); err != nil {
						return cmdutil.FlagErrorf("--start %q: want RFC 3339, e.g. 2026-03-02T08:00:00Z", o.Start)
					}
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return run(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Scenario, "scenario", "florama", "built-in scenario (see --list)")
	fl.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed gives the same output")
	fl.DurationVar(&o.Duration, "duration", simulate.DefaultDuration, "simulated time span")
	fl.IntVar(&o.Hosts, "hosts", simulate.DefaultWorkstations, "number of intranet workstations")
	fl.Float64Var(&o.BenignRate, "benign-rate", simulate.DefaultBenignRate, "benign activities per host and minute")
	fl.BoolVar(&o.BenignOnly, "benign-only", false, "generate the background activity without the attack")
	fl.BoolVar(&o.List, "list", false, "list the built-in scenarios")
	fl.StringVarP(&o.Out, "out", "o", "", "output directory")
	fl.BoolVar(&o.Force, "force", false, "replace the output of an earlier run in --out (its logs/, pcaps/, truth/ and scenario.yaml)")
	fl.StringVar(&o.Workload, "workload", "", "benchmarks only: restrict the background to process or network activity")
	_ = fl.MarkHidden("workload")
	fl.StringVar(&o.Start, "start", "", "start of the run, RFC 3339 (default "+simulate.DefaultStart.Format(time.RFC3339)+")")
	return cmd
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.List {
		for _, s := range simulate.Scenarios() {
			fmt.Fprintf(o.IO.Out, "%s\t%s (needs --duration >= %v)\n", s.Name, s.Description, s.MinDuration)
		}
		return nil
	}
	opts := simulate.Options{Scenario: o.Scenario, Seed: o.Seed, Duration: o.Duration, Workstations: o.Hosts,
		BenignRate: o.BenignRate, BenignOnly: o.BenignOnly, Workload: o.Workload}
	if o.Start != "" {
		opts.Start, _ = time.Parse(time.RFC3339, o.Start)
	}
	if opts.BenignRate == 0 {
		opts.BenignRate = -1 // no background (Options treats 0 as the default)
	}
	if err := prepareOut(o.Out, o.Force); err != nil {
		return err
	}
	prog := o.IO.NewProgress("simulate", "records", 0)
	var last int64
	if prog != nil {
		opts.Progress = func(events, packets int64) {
			prog.Add(events + packets - last)
			last = events + packets
		}
	}
	start := time.Now()
	st, err := simulate.Run(ctx, simulate.DirSink(o.Out), opts)
	prog.Done()
	if err != nil {
		return fmt.Errorf("simulate %s: %w", o.Scenario, err)
	}
	el := time.Since(start).Seconds()
	var names []string
	var total int64
	for n, size := range st.Files {
		names = append(names, n)
		total += size
	}
	sort.Strings(names)
	w := o.IO.Out
	fmt.Fprintf(w, "%s: %d events, %d packets, %d procedures in %.2fs (%.0f records/s), %s in %s\n",
		o.Scenario, st.Events, st.Packets, st.Procedures, el, float64(st.Events+st.Packets)/max(el, 1e-9), human(total), o.Out)
	for _, n := range names {
		fmt.Fprintf(w, "  %-28s %s\n", n, human(st.Files[n]))
	}
	return nil
}

// outputs are the names a run writes at the top of its directory.
var outputs = []string{"logs", "pcaps", "truth", "scenario.yaml"}

// prepareOut refuses to mix a run with an earlier one (a run with fewer
// hosts would leave stale files), unless force removes the earlier one.
func prepareOut(dir string, force bool) error {
	for _, name := range outputs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if !force {
			return fmt.Errorf("%s already holds a run (%s); use --force to replace it or choose another --out", dir, p)
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove earlier run: %w", err)
		}
	}
	return nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strings.TrimSpace(fmt.Sprintf("%d B", n))
}
