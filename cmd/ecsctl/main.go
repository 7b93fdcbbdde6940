// Command ecsctl deploys ECS services described by ecspresso-style configs to
// any ECS endpoint: ecsd locally, Amazon ECS in production. See
// internal/cli.
package main

import (
	"os"

	"github.com/ecsd/ecsd/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
