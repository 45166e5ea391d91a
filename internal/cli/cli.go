// Package cli assembles the rangehunt command tree and maps errors to exit
// codes in one place.
package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
)

// ExitCode is the process exit status.
type ExitCode int

// Exit codes.
const (
	ExitOK    ExitCode = 0
	ExitError ExitCode = 1
	ExitUsage ExitCode = 2
)

// Main runs rangehunt with args and returns the exit code.
func Main(args []string) ExitCode {
	f := &cmdutil.Factory{IOStreams: iostreams.System()}
	return run(f, args)
}

func run(f *cmdutil.Factory, args []string) ExitCode {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, cmdutil.ErrSilent) {
		return ExitError
	}
	var flagErr *cmdutil.FlagError
	if errors.As(err, &flagErr) || isCobraUsageError(err) {
		fmt.Fprintf(f.IOStreams.ErrOut, "error: %v\n\n%s", err, cmd.UsageString())
		return ExitUsage
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "error: %v\n", err)
	return ExitError
}

// NewRootCmd returns the root command with every subcommand registered.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "rangehunt <command> [flags]",
		Short: "Turn cyber-range attack runs into detection content and labelled data",
		Long: `rangehunt correlates the attack metadata of a cyber-range run with its
ECS system logs and network captures: it generates and runs Sigma rules,
converts them for OpenSearch, extracts network flows, and labels data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&f.IOStreams.Quiet, "quiet", "q", false, "do not show progress")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})
	for _, newCmd := range append(commands[:len(commands):len(commands)], extraCommands...) {
		root.AddCommand(newCmd(f))
	}
	return root
}

func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
