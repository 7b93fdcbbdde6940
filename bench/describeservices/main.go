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
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	name, url string
	cmd       *exec.Cmd
	log       string
	exited    chan struct{}
}

func main() {
	flag.Parse()
	if *services < 10 {
		fatal(errors.New("-services must be at least 10"))
	}
	tmp, err := os.MkdirTemp("", "ecsd-bench-")
	if err != nil {
		fatal(err)
	}
	atExit(func() { os.RemoveAll(tmp) })
	go func() { // Ctrl-C / SIGTERM: stop the servers, remove temp files.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		interrupted.Store(true)
		fmt.Fprintln(os.Stderr, "\ninterrupted")
		exit(130)
	}()

	var targets []target
	if !*skipEcsd {
		bin := ecsdBinary(tmp)
		dataDir := filepath.Join(tmp, "ecsd-data")
		if err := os.Mkdir(dataDir, 0o755); err != nil {
			fatal(err)
		}
		targets = append(targets, target{"ecsd", func(port string) []string {
			return []string{bin, "server", "--listen", "127.0.0.1:" + port, "--data-dir", dataDir, "--region", region}
		}})
	}
	if *peer {
		targets = append(targets, target{"moto", func(port string) []string {
			return []string{*motoBin, "-H", "127.0.0.1", "-p", port}
		}})
	}
	if len(targets) == 0 {
		fatal(errors.New("nothing to benchmark (-skip-ecsd with -peer=false)"))
	}

	var results []result
	for _, t := range targets {
		r, err := benchOne(t, tmp)
		if err != nil {
			fatal(err)
		}
		results = append(results, r)
	}
	exit(report(results))
}

// A target is a server to benchmark: its name and its command line for a port.
type target struct {
	name string
	argv func(port string) []string
}

// ecsdBinary returns -ecsd, or builds ./cmd/ecsd of this module into dir.
func ecsdBinary(dir string) string {
	if *ecsdBin != "" {
		return *ecsdBin
	}
	bin := filepath.Join(dir, "ecsd")
	fmt.Println("building ./cmd/ecsd ...")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ecsd")
	build.Dir = moduleRoot()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fatal(fmt.Errorf("go build ./cmd/ecsd: %w", err))
	}
	return bin
}

// benchOne starts a server, seeds it, runs the load against it and stops it, so
// that only one server is alive while load is measured.
func benchOne(t target, tmp string) (result, error) {
	port := freePort()
	s, err := start(t.name, port, tmp, t.argv(port))
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	t0 := time.Now()
	if err := seed(context.Background(), s.url, *services, *seedWorkers); err != nil {
		return result{}, fmt.Errorf("%s: seeding: %w (log: %s)", s.name, err, s.log)
	}
	fmt.Printf("%s: seeded %d services in %s\n", s.name, *services, time.Since(t0).Round(time.Millisecond))
	fmt.Printf("%s: load %d workers, %s warm-up + %s ...\n", s.name, *workers, *warmup, *duration)
	r, err := load(s.url, *services, *workers, *warmup, *duration)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", s.name, err)
	}
	r.name = s.name
	if r.errors > 0 {
		fmt.Printf("%s: %d errors, first: %s\n", s.name, r.errors, r.firstErr)
	}
	return r, nil
}

// start runs a server in its own process group (so that stop can kill the whole
// tree, e.g. moto behind a pyenv shim) and waits until its port accepts connections.
func start(name, port, tmp string, argv []string) (*server, error) {
	logPath := filepath.Join(tmp, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, url: "http://127.0.0.1:" + port, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(s.exited) }()
	atExit(s.stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			fmt.Printf("%s: listening on %s (pid %d)\n", name, s.url, cmd.Process.Pid)
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited before listening: %s\n%s", name, cmd.ProcessState, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not listening on %s after 30s\n%s", name, port, tail(logPath))
		}
	}
}

// stop sends SIGTERM to the server's process group, then SIGKILL after 5 s.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.exited
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // leftovers of the group, if any
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

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		fatal(errors.New("run from inside the ecsd module, or pass -ecsd BIN"))
	}
	return filepath.Dir(gomod)
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Cleanup: run once, in reverse order, on normal exit, fatal error or signal.
var (
	cleanupMu sync.Mutex
	cleanups  []func()

	interrupted atomic.Bool // errors caused by stopping the servers are not reported
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func exit(code int) {
	cleanupMu.Lock() // never unlocked: a second caller blocks until os.Exit
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

func fatal(err error) {
	if interrupted.Load() {
		exit(130)
	}
	fmt.Fprintln(os.Stderr, "describeservices:", err)
	exit(1)
}
