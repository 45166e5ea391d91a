// Command rangehunt turns the output of a cyber-range simulation (attack
// metadata, ECS system logs, network captures) into detection content and
// labelled data.
package main

import (
	"os"

	"github.com/rangehunt/rangehunt/internal/cli"
)

func main() {
	os.Exit(int(cli.Main(os.Args[1:])))
}
