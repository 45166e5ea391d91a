package sigma

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

func init() { verbs = append(verbs, newCmdLint) }

// LintOptions are the flags of "sigma lint".
type LintOptions struct {
	IO         *iostreams.IOStreams
	Paths      []string
	JSON       bool
	NoWarnings bool
}

func newCmdLint(f *cmdutil.Factory) *cobra.Command { return NewCmdLint(f, nil) }

// NewCmdLint returns "sigma lint"; runF replaces the work in tests.
func NewCmdLint(f *cmdutil.Factory, runF func(*LintOptions) error) *cobra.Command {
	opts := &LintOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "lint [--json] PATH...",
		Short: "Check Sigma rule files for errors and questionable content",
		Long: `Parse and validate Sigma rules, correlation rules and filters (Sigma
specification v2.1): YAML syntax, detection structure, value modifiers,
conditions, regexes, correlation attributes, and the references between
documents (duplicate ids, unknown or cyclic references). Folders are
searched recursively for *.yml and *.yaml files.

Each problem is printed as "path:line:col: error: message" (or
"warning:"). With --json, one JSON object per document is printed instead:
{"path", "doc", "kind", "id", "title", "errors": [{"line", "col",
"message"}], "warnings": [...]}. A summary goes to standard error.

The exit status is 1 if any error was found; warnings alone exit 0.`,
		Example: `  rangehunt sigma lint rules/
  rangehunt sigma lint --json my_rule.yml | jq 'select(.errors != [])'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("at least one file or folder is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return lintRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per document")
	cmd.Flags().BoolVar(&opts.NoWarnings, "no-warnings", false, "print errors only (the summary still counts warnings)")
	return cmd
}

func lintRun(ctx context.Context, opts *LintOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	prog := opts.IO.NewProgress("linting", "files", 0)
	rep, err := sigma.Lint(ctx, opts.Paths, sigma.LintOptions{Progress: func(int) { prog.Add(1) }})
	prog.Done()
	if err != nil {
		return err
	}
	if opts.JSON {
		err = rep.WriteJSON(opts.IO.Out)
	} else {
		err = rep.WriteText(opts.IO.Out, !opts.NoWarnings)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d files, %d rules, %d errors, %d warnings\n", rep.Files, rep.Rules, rep.Errors, rep.Warnings)
	if rep.Errors > 0 {
		return cmdutil.ErrSilent
	}
	return nil
}
