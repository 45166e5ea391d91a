// Package scenario holds the "rangehunt scenario" commands.
package scenario

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "scenario" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.NewGroup(f, "scenario <command>", "Import and validate attack metadata", verbs)
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
