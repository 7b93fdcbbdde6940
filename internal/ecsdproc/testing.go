package ecsdproc

import (
	"context"
	"flag"
	"strconv"
	"time"
)

// TB is the part of testing.TB StartTest uses (so that this package, which
// `ecsd demo` uses too, does not link the testing package into ecsd).
type TB interface {
	Helper()
	TempDir() string
	Fatal(args ...any)
	Cleanup(func())
}

// StartTest starts ecsd for test t (in t.TempDir() unless o.DataDir is
// set) and, when the test ends, stops its tasks and services (StopTasks,
// 30 s at most) and then ecsd itself. A failure to start fails the test,
// with ecsd's log.
func StartTest(t TB, o Options) *Proc {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	p, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p.StopTasks(ctx)
		p.Stop()
	})
	return p
}

// ParallelTests, called in TestMain, lets up to n parallel tests run at
// once (go test's -parallel, which defaults to GOMAXPROCS) unless the
// command line set -parallel: for packages whose tests mostly wait on
// child processes rather than use the CPU.
func ParallelTests(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}
