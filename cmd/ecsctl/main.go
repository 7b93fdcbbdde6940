// Command ecsctl deploys ECS services described by ecspresso-style configs to
// any ECS endpoint: ecsd locally, Amazon ECS in production.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/ecsd/ecsd/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, "ecsctl", version.Version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "ecsctl: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ecsctl <command> [flags]

ecsctl deploys ECS services from ecspresso-style configs to any ECS endpoint.

Commands:
  version   print the version
  help      show this help

The deploy commands (deploy, rollback, status, wait, diff, ...) are not built yet.
`)
}
