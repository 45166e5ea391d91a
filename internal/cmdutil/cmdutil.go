// Package cmdutil holds what every rangehunt command shares: the factory of
// dependencies and the errors that map to exit codes.
package cmdutil

import (
	"errors"
	"fmt"

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
