// Package rules holds the "rangehunt rules" commands.
package rules

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "rules" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules <command>",
		Short: "Generate and check Sigma rules from attack metadata",
	}
	for _, v := range verbs {
		cmd.AddCommand(v(f))
	}
	return cmd
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
