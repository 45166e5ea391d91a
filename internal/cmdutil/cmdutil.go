// Package cmdutil holds what every rangehunt command shares: the factory of
// dependencies and the errors that map to exit codes.
package cmdutil

import (
	"errors"
	"fmt"

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
