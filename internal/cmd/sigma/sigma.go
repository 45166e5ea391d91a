// Package sigma holds the "rangehunt sigma" commands.
package sigma

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "sigma" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.NewGroup(f, "sigma <command>", "Lint and convert Sigma rules", verbs)
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
