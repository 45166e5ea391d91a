// Package cmdutil holds what every rangehunt command shares: the factory of
// dependencies and the errors that map to exit codes.
package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/iostreams"
)

// Factory gives commands their dependencies.
type Factory struct {
	IOStreams *iostreams.IOStreams
}

// FlagError is a usage error: the command prints its usage and exits 2.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a usage error.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ErrSilent makes the command exit 1 without printing anything more: the
// command has already reported what went wrong (lint findings, for example).
var ErrSilent = errors.New("silent error")

// NewGroup returns a command group such as "rangehunt sigma": it holds the
// verbs (each built with f), prints its help when run alone and refuses an
// unknown verb with a usage error (cobra would print the help and exit 0).
func NewGroup(f *Factory, use, short string, verbs []func(*Factory) *cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, v := range verbs {
		cmd.AddCommand(v(f))
	}
	return cmd
}

// ParseMultiValue parses args into cmd's flags, where each of the named
// multi-value flags takes every word after it up to the next flag: "--logs
// a.ndjson b.ndjson" (what a shell glob expands to) gives both files to
// --logs. "--" ends the rewriting. The command sets DisableFlagParsing and
// calls this first in RunE; it returns the remaining arguments, and help
// reports --help (the command then returns cmd.Help()). A parse error is a
// usage error.
func ParseMultiValue(cmd *cobra.Command, args []string, flags ...string) (rest []string, help bool, err error) {
	if err := cmd.Flags().Parse(multiValue(args, flags...)); err != nil {
		return nil, false, &FlagError{Err: err}
	}
	help, _ = cmd.Flags().GetBool("help")
	return cmd.Flags().Args(), help, nil
}

// multiValue rewrites "--rules a b --logs c d" as "--rules=a --rules=b
// --logs=c --logs=d": the words after a multi-value flag, up to the next
// flag, are its values.
func multiValue(args []string, flags ...string) []string {
	var out []string
	cur := ""
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			cur = ""
			for _, f := range flags {
				if a == f {
					cur = f
				}
			}
			if cur == "" {
				out = append(out, a)
			}
			continue
		}
		if cur != "" {
			out = append(out, cur+"="+a)
			continue
		}
		out = append(out, a)
	}
	return out
}
