package cli

import (
	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
)

// extraCommands are top-level commands without verbs: hunt, simulate.
// Each file registers its command in init:
//
//	func init() { extraCommands = append(extraCommands, hunt.NewCmd) }
var extraCommands []func(*cmdutil.Factory) *cobra.Command
