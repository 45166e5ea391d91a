// Package opensearch holds the "rangehunt opensearch" commands.
package opensearch

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// NewCmd returns the "opensearch" command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.NewGroup(f, "opensearch <command>", "Load ECS logs into OpenSearch and manage the index template", verbs)
}

// verbs is filled by each verb's file in init, so verbs can be added
// without touching this file.
var verbs []func(*cmdutil.Factory) *cobra.Command
