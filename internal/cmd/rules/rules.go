// Package rules holds the "rangehunt rules" commands.
package rules

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "rules" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.NewGroup(f, "rules <command>", "Generate and check Sigma rules from attack metadata", verbs)
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
