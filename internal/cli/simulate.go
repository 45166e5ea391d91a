package cli

import "github.com/rangehunt/rangehunt/internal/cmd/simulate"

func init() { extraCommands = append(extraCommands, simulate.NewCmd) }
