// Command demoapp is a stand-in for the ecsd binary in Docker tests: built
// statically, it goes into the ecsd/demoapp test image as /ecsd.
package main

import (
	"fmt"
	"os"

	"github.com/ecsd/ecsd/internal/demoapp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "demoapp" {
		os.Exit(demoapp.Main(os.Args[2:]))
	}
	fmt.Fprintln(os.Stderr, "usage: ecsd demoapp [check [url]]")
	os.Exit(2)
}
