// Package flows holds the "rangehunt flows" commands.
package flows

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "flows" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.NewGroup(f, "flows <command>", "Extract network flows from packet captures", verbs)
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
