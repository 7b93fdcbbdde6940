// Command describeservices is the DescribeServices performance benchmark:
// DescribeServices of 10 services with 1,000 services in the store, run with the
// same closed-loop load generator against ecsd and against moto_server, reporting
// throughput and latency of each and the ratio ecsd/moto.
//
//	go run ./bench/describeservices [-ecsd BIN] [-peer=false] [-c 16] [-d 10s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
)

var (
	ecsdBin     = flag.String("ecsd", "", "ecsd binary (default: go build ./cmd/ecsd into a temp dir)")
	peer        = flag.Bool("peer", true, "also benchmark moto_server as the reference")
	skipEcsd    = flag.Bool("skip-ecsd", false, "benchmark only moto_server (e.g. to check the load generator)")
	motoBin     = flag.String("moto", "moto_server", "moto_server command")
	services    = flag.Int("services", 1000, "services to create in the store")
	seedWorkers = flag.Int("seed-c", 8, "concurrent requests while seeding")
	workers     = flag.Int("c", 16, "concurrent load generator workers (connections)")
	duration    = flag.Duration("d", 10*time.Second, "measured load duration (after warm-up)")
	// ecsd's service scheduler makes a first pass over the 1,000 new services (one
	// durable write each) right after seeding; the warm-up lets it settle so the
	// load measures steady-state reads.
	warmup   = flag.Duration("warmup", 5*time.Second, "warm-up before measuring")
	minRatio = flag.Float64("min-ratio", 50, "required ecsd/moto throughput ratio (exit 1 below it; 0 disables)")
)

// A server is one ECS endpoint under test, started as a child process.
type server struct {
	*benchkit.Proc
	url string
}

func main() {
	flag.Parse()
	if *services < 10 {
		benchkit.Fatal("describeservices", errors.New("-services must be at least 10"))
	}
	tmp := benchkit.Setup("describeservices", false) // Ctrl-C / SIGTERM: stop the servers, remove temp files.

	var targets []target
	if !*skipEcsd {
		bin, err := benchkit.BuildECSD(benchkit.BuildOpts{Bin: *ecsdBin, Dir: tmp, Say: func(line string) { fmt.Println(line) }})
		if err != nil {
			benchkit.Fatal("describeservices", err)
		}
		targets = append(targets, target{"ecsd", func() (server, error) {
			e, err := benchkit.StartECSD(benchkit.ECSDOpts{Bin: bin, Dir: tmp, Args: []string{"--region", region}, Grace: stopGrace})
			if err != nil {
				return server{}, err
			}
			return server{e.Proc, e.Endpoint}, nil
		}})
	}
	if *peer {
		targets = append(targets, target{"moto", func() (server, error) {
			port, err := benchkit.FreePort()
			if err != nil {
				return server{}, err
			}
			p, err := benchkit.StartProc(benchkit.ProcOpts{Name: "moto", Argv: []string{*motoBin, "-H", "127.0.0.1", "-p", port},
				Log: filepath.Join(tmp, "moto.log"), Port: port, Grace: stopGrace})
			if err != nil {
				return server{}, err
			}
			return server{p, "http://127.0.0.1:" + port}, nil
		}})
	}
	if len(targets) == 0 {
		benchkit.Fatal("describeservices", errors.New("nothing to benchmark (-skip-ecsd with -peer=false)"))
	}

	var results []result
	for _, t := range targets {
		r, err := benchOne(t)
		if err != nil {
			benchkit.Fatal("describeservices", err)
		}
		results = append(results, r)
	}
	benchkit.Exit(report(results))
}

// stopGrace is how long a server has to exit on SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// A target is a server to benchmark: its name and how to start it, in its
// own process group (so that Stop reaches the whole tree, e.g. moto behind a
// pyenv shim).
type target struct {
	name  string
	start func() (server, error)
}

// benchOne starts a server, seeds it, runs the load against it and stops it, so
// that only one server is alive while load is measured.
func benchOne(t target) (result, error) {
	s, err := t.start()
	if err != nil {
		return result{}, err
	}
	defer s.Stop()
	fmt.Printf("%s: listening on %s (pid %d)\n", t.name, s.url, s.Pid)
	t0 := time.Now()
	if err := seed(context.Background(), s.url, *services, *seedWorkers); err != nil {
		return result{}, fmt.Errorf("%s: seeding: %w (log: %s)", t.name, err, s.Log)
	}
	fmt.Printf("%s: seeded %d services in %s\n", t.name, *services, time.Since(t0).Round(time.Millisecond))
	fmt.Printf("%s: load %d workers, %s warm-up + %s ...\n", t.name, *workers, *warmup, *duration)
	r, err := load(s.url, *services, *workers, *warmup, *duration)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", t.name, err)
	}
	r.name = t.name
	if r.errors > 0 {
		fmt.Printf("%s: %d errors, first: %s\n", t.name, r.errors, r.firstErr)
	}
	return r, nil
}

func report(rs []result) int {
	fmt.Printf("\nDescribeServices, 10 services per call, %d services in the store, %d workers, %s\n\n",
		*services, *workers, *duration)
	fmt.Printf("%-6s %10s %8s %12s %10s %10s\n", "server", "requests", "errors", "req/s", "p50", "p99")
	for _, r := range rs {
		fmt.Printf("%-6s %10d %8d %12.1f %10s %10s\n", r.name, r.requests, r.errors, r.rps(), fmtDur(r.p50), fmtDur(r.p99))
	}
	code := 0
	for _, r := range rs {
		if r.errors > 0 || r.requests == 0 {
			code = 1
		}
	}
	if len(rs) == 2 && rs[1].rps() > 0 && rs[0].p99 > 0 {
		ratio := rs[0].rps() / rs[1].rps()
		fmt.Printf("\necsd/moto: throughput %.1fx, p99 %.3fx (moto p99 is %.1fx ecsd's)\n",
			ratio, float64(rs[0].p99)/float64(rs[1].p99), float64(rs[1].p99)/float64(rs[0].p99))
		if *minRatio > 0 {
			verdict := "PASS"
			if ratio < *minRatio {
				verdict, code = "FAIL", 1
			}
			fmt.Printf("%s: throughput ratio %.1fx, required >= %gx\n", verdict, ratio, *minRatio)
		}
	}
	return code
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}
