package rules

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/rulegen"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

func init() { verbs = append(verbs, newCmdCheck) }

// CheckOptions are the flags of "rules check".
type CheckOptions struct {
	IO          *iostreams.IOStreams
	Scenario    string
	Rules       []string
	Logs        []string
	Slack       time.Duration
	NoEventKind bool
	JSON        bool
}

func newCmdCheck(f *cmdutil.Factory) *cobra.Command { return NewCmdCheck(f, nil) }

// NewCmdCheck returns "rules check"; runF replaces the work in tests.
func NewCmdCheck(f *cmdutil.Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "check --scenario FILE --rules DIR --logs FILE...",
		Short: "Count each generated rule's matches inside and outside its procedure's window",
		Long: `Run generated rules over ECS logs (NDJSON, .gz, or a JSON array) and report,
per rule, how many events it matches inside its procedure's time window
(from the scenario; the procedure is the rule's folder name) and outside
it. A rule that matches outside is "too broad"; one that matches nothing
inside is "no match". Rules run with pipeline none plus the event-kind step
(process_creation → event.category:process AND event.type:start) unless
--no-event-kind.`,
		Example: `  rangehunt rules check --scenario s.yaml --rules rules/generated --logs events.ndjson.gz
  rangehunt rules check --scenario s.yaml --rules rules/a rules/b --logs logs/*.ndjson --json`,
		// --rules and --logs take several values each (shell globs:
		// --logs logs/*.ndjson), as in hunt, so flags are parsed here.
		// Words after the flags are more log files.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			rest, help, err := cmdutil.ParseMultiValue(cmd, args, "--rules", "--logs")
			if err != nil {
				return err
			}
			if help {
				return cmd.Help()
			}
			opts.Logs = append(opts.Logs, rest...)
			if opts.Scenario == "" || len(opts.Rules) == 0 || len(opts.Logs) == 0 {
				return cmdutil.FlagErrorf("--scenario, --rules and --logs are required")
			}
			if opts.Slack < 0 {
				return cmdutil.FlagErrorf("--slack must not be negative")
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Scenario, "scenario", "", "scenario file")
	cmd.Flags().StringSliceVar(&opts.Rules, "rules", nil, "generated rules (folders or files)")
	cmd.Flags().StringSliceVar(&opts.Logs, "logs", nil, "ECS log files")
	cmd.Flags().DurationVar(&opts.Slack, "slack", 0, "widen each procedure window by this much on both sides")
	cmd.Flags().BoolVar(&opts.NoEventKind, "no-event-kind", false, "do not restrict rules to their event kind")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return cmd
}

func checkRun(ctx context.Context, opts *CheckOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	s, ds := scenario.Load(opts.Scenario)
	if ds.Err() != nil {
		for _, d := range ds {
			fmt.Fprintln(opts.IO.ErrOut, d.Error())
		}
		return cmdutil.ErrSilent
	}
	col, errs := sigma.Load(opts.Rules...)
	for _, e := range errs {
		fmt.Fprintln(opts.IO.ErrOut, e.Error())
	}
	if errs.Err() != nil && (col == nil || len(col.Rules) == 0) {
		return cmdutil.ErrSilent
	}
	var logs []rulegen.LogInput
	for _, p := range opts.Logs {
		// Fail before the run on a missing file; each is opened in turn.
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("logs: %w", err)
		}
		logs = append(logs, rulegen.LogInput{Name: p})
	}
	prog := opts.IO.NewProgress("checking", "files", int64(len(logs)))
	rep, err := rulegen.Check(ctx, s, col.Rules, logs, rulegen.CheckOptions{
		Slack: opts.Slack, NoEventKind: opts.NoEventKind, Progress: func(int) { prog.Add(1) }})
	prog.Done()
	if err != nil {
		return err
	}
	if opts.JSON {
		err = rep.WriteJSON(opts.IO.Out)
	} else {
		err = rep.WriteText(opts.IO.Out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.ErrOut, rep.Summary())
	return nil
}
