package cli

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmd/flows"
	"github.com/rangehunt/rangehunt/internal/cmd/opensearch"
	"github.com/rangehunt/rangehunt/internal/cmd/rules"
	"github.com/rangehunt/rangehunt/internal/cmd/scenario"
	"github.com/rangehunt/rangehunt/internal/cmd/sigma"
	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// commands lists the top-level command groups. Single-verb commands (hunt,
// simulate) register themselves in their own files' init, in extraCommands.
var commands = []func(*cmdutil.Factory) *cobra.Command{
	sigma.NewCmd,
	opensearch.NewCmd,
	scenario.NewCmd,
	rules.NewCmd,
	flows.NewCmd,
}
