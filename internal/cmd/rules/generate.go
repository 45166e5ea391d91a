package rules

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/rulegen"
	"github.com/rangehunt/rangehunt/internal/scenario"
)

func init() { verbs = append(verbs, newCmdGenerate) }

// GenerateOptions are the flags of "rules generate".
type GenerateOptions struct {
	IO           *iostreams.IOStreams
	Scenario     string
	Out          string
	IncludeSetup bool
	Author       string
}

func newCmdGenerate(f *cmdutil.Factory) *cobra.Command { return NewCmdGenerate(f, nil) }

// NewCmdGenerate returns "rules generate"; runF replaces the work in tests.
func NewCmdGenerate(f *cmdutil.Factory, runF func(*GenerateOptions) error) *cobra.Command {
	opts := &GenerateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "generate --scenario FILE --out DIR [--include-setup]",
		Short: "Write Sigma rules from a scenario's own commands",
		Long: `Mine every procedure's commands (POSIX shell, cmd.exe, PowerShell) for the
programs they start and write one Sigma process_creation rule per program:
DIR/<procedure>/<procedure>_<n>.yml. Rules select on ECS fields
(process.executable|endswith, process.args|all, process.command_line for
PowerShell), have deterministic UUIDv5 ids and ATT&CK tags, and a level
from how specific the selection is. Setup procedures are skipped unless
--include-setup. Shell builtins (cd, export, echo) start no process and get
no rule; commands that do not parse are reported with their position.

The rules use ECS field names directly: run them with pipeline "none"
(plus the event-kind step, which hunt applies by default). See docs/rulegen.md.`,
		Example: `  rangehunt rules generate --scenario examples/scenario.yaml --out rules/generated`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Scenario == "" || opts.Out == "" {
				return cmdutil.FlagErrorf("--scenario and --out are required")
			}
			if runF != nil {
				return runF(opts)
			}
			return generateRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Scenario, "scenario", "", "scenario file (YAML or JSON)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "output folder for the rules")
	cmd.Flags().BoolVar(&opts.IncludeSetup, "include-setup", false, "also generate rules for setup procedures")
	cmd.Flags().StringVar(&opts.Author, "author", "", "author written into the rules")
	return cmd
}

func generateRun(opts *GenerateOptions) error {
	s, ds := scenario.Load(opts.Scenario)
	for _, d := range ds {
		fmt.Fprintln(opts.IO.ErrOut, d.Error())
	}
	if ds.Err() != nil {
		return cmdutil.ErrSilent
	}
	res, err := rulegen.Generate(s, rulegen.Options{IncludeSetup: opts.IncludeSetup, Author: opts.Author})
	if err != nil {
		return err
	}
	if err := rulegen.WriteDir(opts.Out, res); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tLEVEL\tCOMMAND")
	for _, r := range res.Rules {
		cmdline := r.Exec.String()
		if len(cmdline) > 80 {
			cmdline = cmdline[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Path, r.Level, cmdline)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	for _, sk := range res.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "skipped: %s\n", sk)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d rules written to %s, %d skipped, %d warnings\n", len(res.Rules), opts.Out, len(res.Skipped), len(res.Warnings))
	return nil
}
