package cli

import "github.com/rangehunt/rangehunt/internal/cmd/hunt"

func init() { extraCommands = append(extraCommands, hunt.NewCmd) }
