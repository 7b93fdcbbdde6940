// Command lbproxy measures the proxy overhead of an ecsd load balancer
// listener (ELBv2 API, internal/lb data plane) against nginx: one demo app
// backend loaded with wrk directly, through nginx as a reverse proxy and
// through an ecsd listener, with the same wrk settings, at full and at
// moderate load. It reports req/s, p50 and p99 of each path, the ratio of
// ecsd's throughput to nginx's, the p99 each proxy adds, the CPU each
// proxy spent, and whether the target (ecsd ≥ 70% of nginx's
// throughput, p99 added latency < 1 ms at moderate load) was met; that is a
// measurement, not a pass/fail exit status. See bench/lbproxy/README.md.
//
// It needs nginx and wrk on PATH (Debian packages nginx and wrk) and
// installs nothing.
//
//	go run ./bench/lbproxy [-c 32] [-moderate-c 4] [-t 2] [-d 10s] [-nginx-workers auto] [-profile] [-json FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
)

// The target for the listener.
const (
	targetRatio    = 0.70 // ecsd req/s ÷ nginx req/s, at every load point
	targetAddedP99 = 1.0  // ms over direct p99, at moderate load
)

var (
	ecsdBin        = flag.String("ecsd", "", "ecsd binary, for the server and the demo app backend (default: go build ./cmd/ecsd into a temp dir)")
	nginxBin       = flag.String("nginx", "nginx", "nginx command (Debian package nginx)")
	wrkBin         = flag.String("wrk", "wrk", "wrk command (Debian package wrk)")
	threads        = flag.Int("t", 2, "wrk threads (-t), every load point")
	conns          = flag.Int("c", 32, "wrk connections (-c) of the full load point")
	moderateC      = flag.Int("moderate-c", 4, "wrk connections of the moderate load point, where the p99 target applies (0: skip it)")
	duration       = flag.Duration("d", 10*time.Second, "wrk duration (-d) of each measurement, whole seconds")
	warmup         = flag.Duration("warmup", time.Second, "wrk run before each measurement, not counted (0: none)")
	rounds         = flag.Int("rounds", 1, "times every path is measured at every load point, interleaved; the table shows medians")
	paths          = flag.String("paths", "direct,nginx,ecsd", "paths to measure, comma-separated: direct, nginx, ecsd")
	nginxWorkers   = flag.String("nginx-workers", "auto", "nginx worker_processes: auto (one per core, as ecsd's GOMAXPROCS) or a number")
	nginxKeepalive = flag.Int("nginx-keepalive", 64, "nginx upstream keepalive: idle connections to the backend kept per worker")
	profile        = flag.Bool("profile", false, "also profile ecsd's data plane (internal/lb) in this process under wrk at the full load point, and print pprof's top functions")
	profileD       = flag.Duration("profile-d", 5*time.Second, "wrk duration of the -profile run")
	jsonOut        = flag.String("json", "", "also write the figures as JSON to this file")
	keep           = flag.Bool("keep", false, "keep the temp dir (nginx.conf, logs, ecsd data dir, CPU profile) and print its path")
)

// measurement is one wrk run against one path, with the CPU time the
// processes spent during it (% of one core; -1 when not applicable).
type measurement struct {
	Round         int       `json:"round"`
	Wrk           wrkResult `json:"wrk"`
	ProxyCPUPct   float64   `json:"proxy_cpu_pct"`
	BackendCPUPct float64   `json:"backend_cpu_pct"`
	WrkCPUPct     float64   `json:"wrk_cpu_pct"`
	WallS         float64   `json:"wall_s"`
}

// pathResult is one path at one load point: every round and the medians.
type pathResult struct {
	Path   string        `json:"path"`
	URL    string        `json:"url"`
	Runs   []measurement `json:"runs"`
	Median measurement   `json:"median"` // each figure's median over the rounds; errors summed
}

// loadPoint is one wrk connection count.
type loadPoint struct {
	Name    string        `json:"name"` // "full" or "moderate"
	Conns   int           `json:"connections"`
	Command string        `json:"wrk_command"`
	Paths   []*pathResult `json:"paths"`
}

func (lp *loadPoint) path(name string) *pathResult {
	for _, p := range lp.Paths {
		if p.Path == name {
			return p
		}
	}
	return nil
}

type report struct {
	Started  time.Time      `json:"started"`
	Config   map[string]any `json:"config"`
	Points   []*loadPoint   `json:"points"`
	Verdict  *verdict       `json:"target,omitempty"`
	Profile  *profileResult `json:"profile,omitempty"`
	EcsdInfo map[string]any `json:"ecsd,omitempty"`
	Notes    []string       `json:"notes"`
}

// verdict is the target, judged on the medians.
type verdict struct {
	Ratios       map[string]float64 `json:"ratios"` // load point → ecsd req/s ÷ nginx req/s
	RatioMet     bool               `json:"ratio_met"`
	AddedP99Ms   float64            `json:"ecsd_added_p99_ms"` // at moderate load (full load without -moderate-c)
	AddedP99At   string             `json:"added_p99_at"`
	AddedP99Met  bool               `json:"added_p99_met"`
	Met          bool               `json:"met"`
	NginxAddedMs float64            `json:"nginx_added_p99_ms"`
}

// target is one path under load: its URL and the processes whose CPU is
// counted as the proxy's.
type target struct {
	name  string
	url   string
	proxy *benchkit.Proc // nil for direct
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `Usage: go run ./bench/lbproxy [flags]

Proxy overhead of an ecsd load balancer listener against nginx: one demo app
backend (ecsd demoapp) loaded by wrk directly, through nginx (reverse proxy,
upstream keep-alive) and through an ecsd ELBv2 listener (private ecsd server,
--runtime fake), with the same wrk settings, at a full and a moderate load
point. Needs nginx and wrk on PATH (Debian: apt-get install -y nginx wrk).
The issue's target (ecsd >= 70%% of nginx's req/s; ecsd's p99 less than 1 ms
above direct at moderate load) is reported, not enforced: the exit status is
1 only if something failed or wrk saw errors.

Flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	want := map[string]bool{}
	var order []string
	for p := range strings.SplitSeq(*paths, ",") {
		switch p = strings.TrimSpace(p); p {
		case "direct", "nginx", "ecsd":
			if !want[p] {
				want[p] = true
				order = append(order, p)
			}
		case "":
		default:
			benchkit.Fatal("lbproxy", fmt.Errorf("-paths: unknown path %q (direct, nginx, ecsd)", p))
		}
	}
	if len(order) == 0 {
		benchkit.Fatal("lbproxy", errors.New("-paths: nothing to measure"))
	}
	if *threads < 1 || *conns < *threads || (*moderateC != 0 && *moderateC < *threads) || *duration < time.Second ||
		*rounds < 1 || *nginxKeepalive < 1 || (*warmup != 0 && *warmup < time.Second) || *profileD < time.Second {
		benchkit.Fatal("lbproxy", errors.New("need -t >= 1, -c and -moderate-c (unless 0) >= -t (wrk's rule), -d >= 1s, -warmup 0 or >= 1s, -rounds >= 1, -nginx-keepalive >= 1, -profile-d >= 1s"))
	}
	if w := *nginxWorkers; w != "auto" {
		if n, err := strconv.Atoi(w); err != nil || n < 1 {
			benchkit.Fatal("lbproxy", fmt.Errorf("-nginx-workers %q: auto or a positive number", w))
		}
	}
	checkTools(want["nginx"])

	tmp := benchkit.Setup("lbproxy", *keep) // Ctrl-C / SIGTERM: stop nginx, ecsd and the backend, remove temp files.

	rep := report{Started: time.Now().UTC(), Config: map[string]any{
		"paths": order, "threads": *threads, "connections": *conns, "moderate_connections": *moderateC,
		"duration": duration.String(), "warmup": warmup.String(), "rounds": *rounds,
		"nginx_workers": *nginxWorkers, "nginx_keepalive": *nginxKeepalive,
		"cpus": runtime.NumCPU(), "go": runtime.Version(), "wrk": wrkVersion(*wrkBin), "loadavg_at_start": benchkit.LoadAvg(),
	}}
	if want["nginx"] {
		rep.Config["nginx"] = nginxVersion(*nginxBin)
	}
	bin, err := benchkit.BuildECSD(benchkit.BuildOpts{Bin: *ecsdBin, Dir: tmp, Say: func(line string) { fmt.Println(line) }})
	if err != nil {
		benchkit.Fatal("lbproxy", err)
	}

	// The backend: one demo app process, output discarded (it logs a line
	// per request).
	bport, err := benchkit.FreePort()
	if err != nil {
		benchkit.Fatal("lbproxy", err)
	}
	backend, err := benchkit.StartProc(benchkit.ProcOpts{Name: "backend", Argv: []string{bin, "demoapp"},
		Env: []string{"PORT=" + bport, "VERSION=v1"}, Port: bport})
	if err != nil {
		benchkit.Fatal("lbproxy", err)
	}
	backendAddr := "127.0.0.1:" + bport
	if err := checkGET("http://"+backendAddr+"/", "v1\n"); err != nil {
		benchkit.Fatal("lbproxy", fmt.Errorf("backend: %w", err))
	}
	fmt.Printf("backend: ecsd demoapp on http://%s/ (pid %d)\n", backendAddr, backend.Pid)

	targets := map[string]target{"direct": {name: "direct", url: "http://" + backendAddr + "/"}}
	if want["nginx"] {
		t, err := startNginx(tmp, backendAddr)
		if err != nil {
			benchkit.Fatal("lbproxy", err)
		}
		targets["nginx"] = t
	}
	var e *ecsdLB
	if want["ecsd"] {
		bp, _ := strconv.Atoi(bport)
		if e, err = startECSDListener(bin, tmp, int32(bp)); err != nil {
			benchkit.Fatal("lbproxy", err)
		}
		if err := checkGET(e.listenerURL, "v1\n"); err != nil {
			benchkit.Fatal("lbproxy", fmt.Errorf("ecsd listener: %w", err))
		}
		targets["ecsd"] = target{name: "ecsd", url: e.listenerURL, proxy: e.Proc}
		// ecsd runs (idle, but for health checks every 5 s) while the other
		// paths are measured: say what that costs.
		st0, _ := benchkit.ReadStat(e.Pid)
		time.Sleep(time.Second)
		st1, _ := benchkit.ReadStat(e.Pid)
		rep.EcsdInfo = map[string]any{"healthy_after_s": e.healthyIn.Seconds(), "idle_cpu_pct": float64(st1.Ticks-st0.Ticks) * 100 / benchkit.ClkTck}
	}

	points := []*loadPoint{{Name: "full", Conns: *conns}}
	if *moderateC > 0 {
		points = append(points, &loadPoint{Name: "moderate", Conns: *moderateC})
	}
	for _, lp := range points {
		lp.Command = *wrkBin + " " + strings.Join(wrkArgs(*threads, lp.Conns, *duration, "URL"), " ")
		for _, name := range order {
			lp.Paths = append(lp.Paths, &pathResult{Path: name, URL: targets[name].url})
		}
	}
	fmt.Printf("load: %s per path, %s warm-up before each, %d round(s)\n", points[0].Command, *warmup, *rounds)
	failed := false
	for round := 1; round <= *rounds && !failed; round++ {
		for _, lp := range points {
			for _, pr := range lp.Paths {
				m, err := measure(targets[pr.Path], backend, lp.Conns)
				if err != nil {
					benchkit.WaitIfInterrupted()
					benchkit.AddNote("%s -c%d round %d: %v", pr.Path, lp.Conns, round, err)
					failed = true
					break
				}
				m.Round = round
				pr.Runs = append(pr.Runs, m)
				fmt.Printf("  round %d  -c%-3d %-6s %9.0f req/s  p50 %-8s p99 %-8s errors %d\n",
					round, lp.Conns, pr.Path, m.Wrk.RPS, fmtMs(m.Wrk.P50Ms), fmtMs(m.Wrk.P99Ms), m.Wrk.errors())
			}
			if failed {
				break
			}
		}
	}
	for _, lp := range points {
		for _, pr := range lp.Paths {
			pr.Median = medianOf(pr.Runs)
		}
	}
	rep.Points = points
	if e != nil {
		rep.EcsdInfo["after_load"] = benchkit.InfoOf(e.Pid)
	}
	if !failed {
		rep.Verdict = judge(points)
	}
	if *profile && !failed {
		fmt.Printf("profile: ecsd's data plane in process, wrk -c%d for %s ...\n", *conns, *profileD)
		p := profilePhase(*wrkBin, backendAddr, tmp, *threads, *conns, *profileD)
		rep.Profile = &p
	}
	for _, p := range []*benchkit.Proc{backend, targets["nginx"].proxy} {
		if p != nil && !p.Alive() {
			benchkit.AddNote("%s exited during the run (%s)", p.Name, p.Cmd.ProcessState)
			failed = true
		}
	}
	rep.Config["loadavg_at_end"] = benchkit.LoadAvg()
	benchkit.WaitIfInterrupted()
	rep.Notes = benchkit.Notes()

	code := printReport(rep)
	if failed {
		code = 1
	}
	if *jsonOut != "" {
		if err := benchkit.WriteJSON(*jsonOut, rep); err != nil {
			fmt.Fprintln(os.Stderr, "lbproxy:", err)
			code = 1
		} else {
			fmt.Printf("JSON written to %s\n", *jsonOut)
		}
	}
	benchkit.Exit(code)
}

// checkTools fails, naming the Debian packages, when wrk (or nginx, if
// measured) is not installed. The benchmark installs nothing itself.
func checkTools(needNginx bool) {
	var missing []string
	if _, err := exec.LookPath(*wrkBin); err != nil {
		missing = append(missing, "wrk")
	}
	if _, err := exec.LookPath(*nginxBin); err != nil && needNginx {
		missing = append(missing, "nginx")
	}
	if len(missing) > 0 {
		benchkit.Fatal("lbproxy", fmt.Errorf("%s not found on PATH: this benchmark needs the Debian packages nginx and wrk "+
			"(apt-get install -y nginx wrk), or -nginx/-wrk pointing at them; -paths direct,ecsd does without nginx",
			strings.Join(missing, " and ")))
	}
}

// checkGET GETs url (no proxy, no keep-alive) and checks for a 200 with
// body want.
func checkGET(url, want string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(b) != want {
		return fmt.Errorf("GET %s: HTTP %d %q, want 200 %q", url, resp.StatusCode, b, want)
	}
	return nil
}

// startNginx writes nginx.conf into TMP/nginx and runs nginx in the
// foreground (daemon off) as a child process.
func startNginx(tmp, backendAddr string) (target, error) {
	dir := filepath.Join(tmp, "nginx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return target{}, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		return target{}, err
	}
	p := nginxParams{Dir: dir, Workers: *nginxWorkers, Backend: backendAddr, Keepalive: *nginxKeepalive, Port: port}
	if os.Geteuid() == 0 {
		// As root nginx would switch its workers to nobody:nobody, a group
		// Debian does not have; keep them with the benchmark's user.
		p.User = "root"
	}
	conf, err := writeNginxConf(p)
	if err != nil {
		return target{}, err
	}
	if err := nginxTest(*nginxBin, dir, conf); err != nil {
		return target{}, err
	}
	proc, err := benchkit.StartProc(benchkit.ProcOpts{Name: "nginx", Argv: nginxArgv(*nginxBin, dir, conf),
		Log: filepath.Join(dir, "stderr.log"), Port: port})
	if err != nil {
		return target{}, fmt.Errorf("%w\n(error.log:)\n%s", err, benchkit.Tail(filepath.Join(dir, "error.log")))
	}
	url := "http://127.0.0.1:" + port + "/"
	if err := checkGET(url, "v1\n"); err != nil {
		return target{}, fmt.Errorf("nginx: %w\n(error.log:)\n%s", err, benchkit.Tail(filepath.Join(dir, "error.log")))
	}
	workers := len(benchkit.Descendants(proc.Pid))
	fmt.Printf("nginx: %s (pid %d, %d workers, conf %s)\n", url, proc.Pid, workers, conf)
	return target{name: "nginx", url: url, proxy: proc}, nil
}

// measure runs the warm-up and one measured wrk run against t, reading the
// CPU time of the proxy (nginx: master and workers) and of the backend
// around the measured run.
func measure(t target, backend *benchkit.Proc, c int) (measurement, error) {
	ctx := context.Background()
	if *warmup > 0 {
		if _, _, _, err := runWrk(ctx, *wrkBin, wrkArgs(*threads, c, *warmup, t.url)); err != nil {
			return measurement{}, err
		}
	}
	proxyTicks := func() uint64 {
		if t.proxy == nil {
			return 0
		}
		return benchkit.TreeTicks(t.proxy.Pid)
	}
	p0, b0 := proxyTicks(), benchkit.TreeTicks(backend.Pid)
	t0 := time.Now()
	r, wrkCPU, _, err := runWrk(ctx, *wrkBin, wrkArgs(*threads, c, *duration, t.url))
	wall := time.Since(t0).Seconds()
	p1, b1 := proxyTicks(), benchkit.TreeTicks(backend.Pid)
	if err != nil {
		return measurement{}, err
	}
	pct := func(ticks uint64) float64 { return float64(ticks) * 100 / benchkit.ClkTck / wall }
	m := measurement{Wrk: r, WallS: wall, ProxyCPUPct: -1, BackendCPUPct: pct(b1 - b0), WrkCPUPct: 100 * wrkCPU.Seconds() / wall}
	if t.proxy != nil {
		m.ProxyCPUPct = pct(p1 - p0)
	}
	if r.errors() > 0 {
		benchkit.AddNote("%s -c%d: wrk saw %d non-2xx/3xx responses and socket errors %s", t.name, c, r.Non2xx, r.SockDetail)
	}
	return m, nil
}

// medianOf takes each figure's median over the rounds (errors are summed).
func medianOf(runs []measurement) measurement {
	if len(runs) == 0 {
		return measurement{}
	}
	med := func(f func(measurement) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	m := measurement{
		Wrk: wrkResult{
			RPS:   med(func(m measurement) float64 { return m.Wrk.RPS }),
			P50Ms: med(func(m measurement) float64 { return m.Wrk.P50Ms }),
			P75Ms: med(func(m measurement) float64 { return m.Wrk.P75Ms }),
			P90Ms: med(func(m measurement) float64 { return m.Wrk.P90Ms }),
			P99Ms: med(func(m measurement) float64 { return m.Wrk.P99Ms }),
		},
		ProxyCPUPct:   med(func(m measurement) float64 { return m.ProxyCPUPct }),
		BackendCPUPct: med(func(m measurement) float64 { return m.BackendCPUPct }),
		WrkCPUPct:     med(func(m measurement) float64 { return m.WrkCPUPct }),
		WallS:         med(func(m measurement) float64 { return m.WallS }),
	}
	for _, r := range runs {
		m.Wrk.Requests += r.Wrk.Requests
		m.Wrk.Non2xx += r.Wrk.Non2xx
		m.Wrk.SockErrors += r.Wrk.SockErrors
	}
	return m
}

// judge applies the target to the medians: ecsd's req/s at least
// 70% of nginx's at every load point, and ecsd's p99 less than 1 ms above
// the direct p99 at moderate load (the full point if there is no moderate
// one). Needs all three paths.
func judge(points []*loadPoint) *verdict {
	v := &verdict{Ratios: map[string]float64{}, RatioMet: true}
	for _, lp := range points {
		e, n := lp.path("ecsd"), lp.path("nginx")
		if e == nil || n == nil || lp.path("direct") == nil || n.Median.Wrk.RPS == 0 {
			return nil
		}
		r := e.Median.Wrk.RPS / n.Median.Wrk.RPS
		v.Ratios[fmt.Sprintf("-c%d", lp.Conns)] = r
		v.RatioMet = v.RatioMet && r >= targetRatio
	}
	lp := points[len(points)-1]
	d := lp.path("direct").Median.Wrk.P99Ms
	v.AddedP99At = fmt.Sprintf("-c%d (%s load)", lp.Conns, lp.Name)
	v.AddedP99Ms = lp.path("ecsd").Median.Wrk.P99Ms - d
	v.NginxAddedMs = lp.path("nginx").Median.Wrk.P99Ms - d
	v.AddedP99Met = v.AddedP99Ms < targetAddedP99
	v.Met = v.RatioMet && v.AddedP99Met
	return v
}

func printReport(r report) int {
	code := 0
	fmt.Printf("\n== Proxy overhead: demo app backend direct, through nginx %s and through an ecsd ELBv2 listener ==\n", orDash(r.Config["nginx"]))
	fmt.Printf("   wrk %s, -t%d -d%s --latency, %s warm-up before each run; %d round(s)%s\n",
		r.Config["wrk"], *threads, *duration, *warmup, *rounds, map[bool]string{true: ", medians", false: ""}[*rounds > 1])
	fmt.Printf("   nginx: worker_processes %s, upstream keepalive %d, HTTP/1.1 to the backend; ecsd: --runtime fake, one ip target\n",
		*nginxWorkers, *nginxKeepalive)
	fmt.Println("   CPU: % of one core over the run, and per request (/proc, 10 ms ticks; nginx = master + workers)")
	for _, lp := range r.Points {
		fmt.Printf("\n-- %s load: -c%d --\n\n", lp.Name, lp.Conns)
		fmt.Printf("  %-7s %10s %9s %9s %9s %7s %18s %18s %7s\n", "path", "req/s", "p50", "p90", "p99", "errors", "proxy CPU", "backend CPU", "wrk CPU")
		for _, pr := range lp.Paths {
			m := pr.Median
			if len(pr.Runs) == 0 {
				fmt.Printf("  %-7s not measured\n", pr.Path)
				continue
			}
			proxy := "-"
			if m.ProxyCPUPct >= 0 {
				proxy = cpuCell(m.ProxyCPUPct, m.Wrk.RPS)
			}
			fmt.Printf("  %-7s %10s %9s %9s %9s %7d %18s %18s %6.0f%%\n", pr.Path, fmtInt(m.Wrk.RPS),
				fmtMs(m.Wrk.P50Ms), fmtMs(m.Wrk.P90Ms), fmtMs(m.Wrk.P99Ms), m.Wrk.errors(),
				proxy, cpuCell(m.BackendCPUPct, m.Wrk.RPS), m.WrkCPUPct)
			if m.Wrk.errors() > 0 {
				code = 1
			}
			if len(pr.Runs) > 1 {
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, run := range pr.Runs {
					lo, hi = min(lo, run.Wrk.RPS), max(hi, run.Wrk.RPS)
				}
				fmt.Printf("  %-7s %10s (req/s over %d rounds: %s – %s)\n", "", "", len(pr.Runs), fmtInt(lo), fmtInt(hi))
			}
		}
		d, n, e := lp.path("direct"), lp.path("nginx"), lp.path("ecsd")
		fmt.Println()
		if e != nil && n != nil && len(e.Runs) > 0 && len(n.Runs) > 0 && n.Median.Wrk.RPS > 0 {
			fmt.Printf("  ecsd ÷ nginx req/s: %.2f", e.Median.Wrk.RPS/n.Median.Wrk.RPS)
			if n.Median.ProxyCPUPct > 0 && e.Median.ProxyCPUPct > 0 {
				fmt.Printf("; CPU per request ecsd ÷ nginx: %.2f", (e.Median.ProxyCPUPct/e.Median.Wrk.RPS)/(n.Median.ProxyCPUPct/n.Median.Wrk.RPS))
			}
			fmt.Println()
		}
		if d != nil && len(d.Runs) > 0 {
			var parts []string
			for _, pr := range []*pathResult{n, e} {
				if pr != nil && len(pr.Runs) > 0 {
					parts = append(parts, fmt.Sprintf("%s %s", pr.Path, fmtDelta(pr.Median.Wrk.P99Ms-d.Median.Wrk.P99Ms)))
				}
			}
			if len(parts) > 0 {
				fmt.Printf("  added p99 over direct: %s\n", strings.Join(parts, ", "))
			}
		}
	}

	fmt.Printf("\n== Target (issue): ecsd ≥ %.0f%% of nginx's throughput, with p99 added latency < %g ms at moderate load ==\n", targetRatio*100, targetAddedP99)
	if v := r.Verdict; v != nil {
		var rs []string
		for _, lp := range r.Points {
			k := fmt.Sprintf("-c%d", lp.Conns)
			rs = append(rs, fmt.Sprintf("%s %.0f%%", k, 100*v.Ratios[k]))
		}
		fmt.Printf("  throughput, ecsd ÷ nginx at every load point: %s → %s\n", strings.Join(rs, ", "), metStr(v.RatioMet))
		fmt.Printf("  ecsd p99 − direct p99 at %s: %s (nginx: %s) → %s\n", v.AddedP99At, fmtDelta(v.AddedP99Ms), fmtDelta(v.NginxAddedMs), metStr(v.AddedP99Met))
		fmt.Printf("  target %s (a measurement: it does not change the exit status)\n", metStr(v.Met))
	} else {
		fmt.Println("  not judged: needs all three paths measured without failure")
	}

	if p := r.Profile; p != nil {
		fmt.Printf("\n== Profile: ecsd's data plane (internal/lb listener → backend) in this process, wrk -c%d %s ==\n", *conns, *profileD)
		if p.Error != "" {
			fmt.Printf("  ERROR: %s\n", p.Error)
			code = 1
		} else {
			fmt.Printf("  %s req/s, p50 %s, p99 %s; this process used %.0f%% of one core\n\n", fmtInt(p.Wrk.RPS), fmtMs(p.Wrk.P50Ms), fmtMs(p.Wrk.P99Ms), p.CPUPct)
			fmt.Println(indent(p.Top, "  "))
			fmt.Println()
			fmt.Println(indent(p.TopCum, "  "))
			if *keep {
				fmt.Printf("\n  profile kept: go tool pprof -http :0 %s\n", p.File)
			}
		}
	}

	if info := r.EcsdInfo; info != nil {
		fmt.Printf("\necsd: target healthy %.1fs after RegisterTargets; idle (health checks only) %.0f%% of one core before the load",
			info["healthy_after_s"], info["idle_cpu_pct"])
		if a, ok := info["after_load"].(benchkit.ProcInfo); ok {
			fmt.Printf("; after it RSS %s, %d threads, %d fds", fmtKiB(a.RSSKiB), a.Threads, a.FDs)
		}
		fmt.Println()
	}
	benchkit.PrintNotes(r.Notes)
	fmt.Printf("\nmachine: %d CPUs, %s, nginx %s, wrk %s; load average at start %s, at end %s "+
		"(wrk, the proxy and the backend share these cores; other work on the machine skews the figures)\n",
		r.Config["cpus"], r.Config["go"], orDash(r.Config["nginx"]), r.Config["wrk"], r.Config["loadavg_at_start"], r.Config["loadavg_at_end"])
	return code
}

func cpuCell(pct, rps float64) string {
	if rps <= 0 {
		return fmt.Sprintf("%.0f%%", pct)
	}
	us := pct / 100 / rps * 1e6
	return fmt.Sprintf("%.0f%% %.1fµs/req", pct, us)
}

func metStr(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

func orDash(v any) any {
	if v == nil {
		return "-"
	}
	return v
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}

func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 1:
		return fmt.Sprintf("%.2fms", v)
	default:
		return fmt.Sprintf("%.0fµs", v*1000)
	}
}

func fmtDelta(v float64) string {
	if v < 0 {
		return "−" + fmtMs(-v)
	}
	return "+" + fmtMs(v)
}

// fmtInt prints a rate with thousands separators.
func fmtInt(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtKiB(k int64) string {
	if k >= 1<<10 {
		return fmt.Sprintf("%.1f MiB", float64(k)/(1<<10))
	}
	return fmt.Sprintf("%d KiB", k)
}
