package rulegen

import "github.com/rangehunt/rangehunt/internal/shell"

func mineCheck(cmd, exe string) (*shell.Result, error) { return shell.Mine(cmd, exe) }
