package scenario

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/scenario"
)

func init() { verbs = append(verbs, newCmdLint) }

// LintOptions are the flags of "scenario lint".
type LintOptions struct {
	IO    *iostreams.IOStreams
	Paths []string
	JSON  bool
}

func newCmdLint(f *cmdutil.Factory) *cobra.Command { return NewCmdLint(f, nil) }

// NewCmdLint returns "scenario lint"; runF replaces the work in tests.
func NewCmdLint(f *cmdutil.Factory, runF func(*LintOptions) error) *cobra.Command {
	opts := &LintOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "lint [--json] FILE...",
		Short: "Validate attack-metadata (scenario) files",
		Long: `Load scenario files (YAML or JSON, see docs/scenario.md) and report every
problem as "file:line:col: [warning: ]path: message": unknown fields,
technique ids (T1046, T1059.004) and tactic ids (TA0007), end before
start, unknown hosts, duplicate procedure ids, procedures without commands
or times, missing time zone (warning).

The exit status is 1 if any error was found; warnings alone exit 0.`,
		Example: `  rangehunt scenario lint examples/scenario.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("at least one scenario file is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return lintRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the diagnostics as JSON objects, one per line")
	return cmd
}

func lintRun(opts *LintOptions) error {
	errs, warns := 0, 0
	for _, p := range opts.Paths {
		_, ds := scenario.Load(p)
		for _, d := range ds {
			if d.Warning {
				warns++
			} else {
				errs++
			}
			if opts.JSON {
				b, err := json.Marshal(map[string]any{"file": d.File, "line": d.Line, "col": d.Col, "path": d.Path,
					"message": d.Msg, "warning": d.Warning})
				if err != nil {
					return err
				}
				fmt.Fprintln(opts.IO.Out, string(b))
				continue
			}
			fmt.Fprintln(opts.IO.Out, d.Error())
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d files, %d errors, %d warnings\n", len(opts.Paths), errs, warns)
	if errs > 0 {
		return cmdutil.ErrSilent
	}
	return nil
}
