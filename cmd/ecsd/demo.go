package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecsd/ecsd/internal/demo"
)

const demoDescription = `See it work: start a private ecsd (temporary data, cleaned up afterwards), put
a 4-task demo service behind its load balancer with ecsctl, roll it to v2
while requests flow (none fails), deploy a v3 that crashes at start and
watch the circuit breaker roll it back, then print a summary with timings.`

// runDemo is `ecsd demo`: a private ecsd, a load-balanced service rolled
// to v2 and a crashing v3 rolled back, then everything cleaned up.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecsd demo", flag.ContinueOnError)
	runtimeKind := fs.String("runtime", env("ECSD_RUNTIME", "auto"), "how the demo's tasks run: auto, docker or process (env ECSD_RUNTIME)")
	port := fs.Int("port", 8080, "the port the demo's load balancer listener asks for (a free one is used if it is taken)")
	if done, code := parseFlags(fs, args, demoDescription, stdout, stderr); done {
		return code
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "ecsd demo: cannot find my own binary:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, demo.Options{ECSD: self, Runtime: *runtimeKind, ListenerPort: int32(*port), Out: stdout}); err != nil {
		fmt.Fprintln(stderr, "ecsd demo:", err)
		return 1
	}
	return 0
}
