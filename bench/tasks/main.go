// Command tasks benchmarks ecsd running real tasks of its demo app: the start
// latency of one task at a time on each runtime (process, docker), and the
// cost of many idle tasks on the process runtime (ecsd's CPU and memory, the
// demo apps' memory, the time to ramp up and to drain). See bench/README.md.
//
//	go run ./bench/tasks [-runtimes process,docker] [-n 40] [-tasks 500] [-idle 10s] [-json FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

var (
	ecsdBin      = flag.String("ecsd", "", "ecsd binary, static (default: CGO_ENABLED=0 go build ./cmd/ecsd into a temp dir)")
	runtimes     = flag.String("runtimes", "process,docker", "runtimes of the start-latency test, comma-separated (empty: skip the test)")
	nStarts      = flag.Int("n", 40, "tasks started one at a time per runtime in the start-latency test")
	nTasks       = flag.Int("tasks", 500, "idle tasks of the capacity test, process runtime (0: skip the test)")
	idle         = flag.Duration("idle", 10*time.Second, "measurement window at the full count in the capacity test")
	poll         = flag.Duration("poll", 5*time.Millisecond, "DescribeTasks (and HTTP) polling interval while waiting for RUNNING")
	stopC        = flag.Int("stop-c", 8, "concurrent StopTask calls when draining")
	taskTimeout  = flag.Duration("task-timeout", time.Minute, "limit for one task (latency) or one batch of 10 (capacity) to be RUNNING and, for latency, STOPPED again")
	image        = flag.String("image", "ecsd/demoapp:bench", "demo app image of the task definition")
	rebuildImage = flag.Bool("rebuild-image", true, "docker: remove -image first, so that the first task builds it from this ecsd binary")
	forceDocker  = flag.Bool("force-docker", false, "run the docker test even if containers of another ecsd are on the engine (ecsd stops them at startup)")
	jsonOut      = flag.String("json", "", "also write the figures as JSON to this file")
	keep         = flag.Bool("keep", false, "keep the temp dir (ecsd logs and data dirs) and print its path")
)

// report is everything the benchmark measured (the JSON output).
type report struct {
	Started  time.Time       `json:"started"`
	Config   map[string]any  `json:"config"`
	Latency  []latencyResult `json:"latency"`
	Capacity *capacityResult `json:"capacity,omitempty"`
	Notes    []string        `json:"notes"`
}

func main() {
	flag.Parse()
	if *nStarts < 1 || *nTasks < 0 || *stopC < 1 || *poll <= 0 || *idle <= 0 {
		benchkit.Fatal("tasks", errors.New("need -n >= 1, -tasks >= 0, -stop-c >= 1, -poll > 0, -idle > 0"))
	}
	tmp := benchkit.Setup("tasks", *keep) // Ctrl-C / SIGTERM: stop the tasks and ecsd, remove temp files.

	rep := report{Started: time.Now().UTC(), Config: map[string]any{
		"runtimes": *runtimes, "n": *nStarts, "tasks": *nTasks, "idle": idle.String(), "poll": poll.String(),
		"stop_c": *stopC, "image": *image, "cpus": runtime.NumCPU(), "mem_total_kib": memTotalKiB(),
		"loadavg_at_start": benchkit.LoadAvg(),
	}}
	// Static (always): the docker runtime puts the binary into the demo image.
	bin, err := benchkit.BuildECSD(benchkit.BuildOpts{Bin: *ecsdBin, Dir: tmp, Say: func(line string) { fmt.Println(line) }})
	if err != nil {
		benchkit.Fatal("tasks", err)
	}
	for rt := range strings.SplitSeq(*runtimes, ",") {
		if rt = strings.TrimSpace(rt); rt != "" {
			rep.Latency = append(rep.Latency, latencyPhase(rt, bin, tmp))
		}
	}
	if *nTasks > 0 {
		c := capacityPhase(bin, tmp)
		rep.Capacity = &c
	}
	benchkit.WaitIfInterrupted()
	rep.Notes = benchkit.Notes()

	benchkit.Finish("tasks", printReport(rep), *jsonOut, rep)
}

// printReport prints the tables and returns the exit status: 1 if a test
// failed.
func printReport(r report) int {
	code := 0
	fmt.Printf("\n%d CPUs, %s RAM, load average at start %s (other work on the machine skews the figures)\n",
		r.Config["cpus"], fmtKiB(r.Config["mem_total_kib"].(int64)), r.Config["loadavg_at_start"])
	fmt.Printf("\n== Start latency: tasks one at a time, DescribeTasks polled every %s ==\n", *poll)
	fmt.Println("(times run from sending RunTask; each is late by up to one poll + one DescribeTasks)")
	fmt.Printf("\n%-8s %-22s %4s %9s %9s %9s %9s %9s\n", "runtime", "metric", "n", "p50", "p90", "p99", "max", "mean")
	for _, l := range r.Latency {
		if l.Skipped != "" {
			fmt.Printf("%-8s skipped: %s\n", l.Runtime, l.Skipped)
			continue
		}
		row := func(name string, s stats) {
			fmt.Printf("%-8s %-22s %4d %9s %9s %9s %9s %9s\n", l.Runtime, name, s.N,
				fmtMs(s.P50), fmtMs(s.P90), fmtMs(s.P99), fmtMs(s.Max), fmtMs(s.Mean))
		}
		row("RunTask call", l.RunTaskCall)
		row("RunTask→RUNNING", l.Running)
		row("RunTask→HTTP 200", l.HTTP)
		row("StopTask→STOPPED", l.Stop)
		if f := l.First; f != nil {
			fmt.Printf("%-8s first task, excluded (%s): RunTask call %s, →RUNNING %s, →HTTP %s, StopTask→STOPPED %s\n",
				l.Runtime, f.Note, fmtMs(f.RunTaskCallMs), fmtMs(f.RunningMs), fmtMs(f.HTTPMs), fmtMs(f.StopMs))
		}
		var seen []string
		for _, st := range []string{ecsmodel.TaskProvisioning, ecsmodel.TaskPending, ecsmodel.TaskActivating, ecsmodel.TaskRunning} {
			seen = append(seen, fmt.Sprintf("%s %d", st, l.StatesSeen[st]))
		}
		fmt.Printf("%-8s statuses polled (tasks): %s; out of order: %d; HTTP answered before RUNNING seen: %d; RUNNING while GET / still failed: %d\n",
			l.Runtime, strings.Join(seen, ", "), l.OutOfOrder, l.HTTPBeforeRunning, l.RunningBeforeHTTP)
		if l.Error != "" {
			fmt.Printf("%-8s ERROR: %s\n", l.Runtime, l.Error)
			code = 1
		}
	}

	if c := r.Capacity; c != nil {
		fmt.Printf("\n== Capacity: idle demo app tasks, process runtime ==\n\n")
		kv := func(k, v string) { fmt.Printf("  %-40s %s\n", k, v) }
		kv("tasks RUNNING at once", fmt.Sprintf("%d of %d", c.Reached, c.Target))
		if c.Error != "" {
			kv("ERROR", c.Error)
			code = 1
		}
		if c.Batches.N > 0 {
			kv("time to reach the count", fmtMs(c.RampMs)+fmt.Sprintf(" (ecsd CPU %.1fs)", c.RampEcsdCPUs))
			kv("batch of 10 → all RUNNING", c.Batches.String()+fmt.Sprintf("; first %s, last %s", fmtMs(c.FirstBatchMs), fmtMs(c.LastBatchMs)))
		}
		if c.ListPages > 0 {
			kv("ListTasks, all pages of 100", fmt.Sprintf("%d ARNs, %d pages, %s, same set as started: %v", c.Listed, c.ListPages, fmtMs(c.ListTasksMs), c.ListedMatch))
			kv("DescribeTasks, all (100 per call)", fmt.Sprintf("%d RUNNING, %s", c.Running, fmtMs(c.DescribeAllMs)))
			kv("GET / answered 200 v1", fmt.Sprintf("%d", c.HTTPOK))
			if !c.ListedMatch || c.Running != c.Reached || c.HTTPOK != c.Reached {
				code = 1
			}
		}
		if c.IdleS > 0 {
			fmt.Printf("\n  %-40s %s\n", fmt.Sprintf("at %d tasks, idle %.1fs:", c.Reached, c.IdleS), "")
			res := 100 / benchkit.ClkTck / c.IdleS // one clock tick over the window
			kv("ecsd CPU (% of one core)", fmt.Sprintf("%.2f%% (resolution %.2f%%)", c.EcsdCPUPct, res))
			kv("ecsd RSS / threads / fds", fmt.Sprintf("%s / %d / %d   (before tasks: %s / %d / %d)",
				fmtKiB(c.EcsdAtCount.RSSKiB), c.EcsdAtCount.Threads, c.EcsdAtCount.FDs,
				fmtKiB(c.EcsdStart.RSSKiB), c.EcsdStart.Threads, c.EcsdStart.FDs))
			kv("demo app processes (ecsd descendants)", fmt.Sprintf("%d", c.DemoProcs))
			n := int64(max(c.DemoProcs, 1))
			kv("demo apps VmRSS total (per process)", fmt.Sprintf("%s (%s)", fmtKiB(c.DemoRSSKiB), fmtKiB(c.DemoRSSKiB/n)))
			kv("demo apps RssAnon total (per process)", fmt.Sprintf("%s (%s)", fmtKiB(c.DemoAnonKiB), fmtKiB(c.DemoAnonKiB/n)))
			kv("demo apps CPU, all (% of one core)", fmt.Sprintf("%.2f%% (resolution %.2f%%)", c.DemoCPUPct, res))
			used := c.MemAvailStart - c.MemAvailCount
			kv("MemAvailable before → at count", fmt.Sprintf("%s → %s (−%s, %s per task)",
				fmtKiB(c.MemAvailStart), fmtKiB(c.MemAvailCount), fmtKiB(used), fmtKiB(used/int64(max(c.Reached, 1)))))
			kv("ecsd.db size", fmtKiB(c.DBKiBAtCount))
		}
		if c.AllStoppedMs > 0 {
			fmt.Printf("\n  %-40s %s\n", fmt.Sprintf("drain (StopTask x%d, %d at a time):", c.Reached, *stopC), "")
			kv("all StopTask calls returned", fmtMs(c.StopCallsMs))
			kv("all tasks STOPPED", fmtMs(c.AllStoppedMs))
			kv("all demo app processes gone", fmtMs(c.ProcsGoneMs))
			kv("ecsd CPU during drain", fmt.Sprintf("%.1fs", c.DrainEcsdCPUs))
			kv("ecsd RSS / threads / fds after drain", fmt.Sprintf("%s / %d / %d", fmtKiB(c.EcsdAfter.RSSKiB), c.EcsdAfter.Threads, c.EcsdAfter.FDs))
			kv("MemAvailable after drain", fmtKiB(c.MemAvailAfter))
			kv("ecsd.db size after drain", fmtKiB(c.DBKiBAfter))
		}
		if c.AfterBatchMs > 0 {
			kv(fmt.Sprintf("batch of 10 with %d STOPPED in store", c.Reached), fmt.Sprintf("%s (first batch, empty store: %s)", fmtMs(c.AfterBatchMs), fmtMs(c.FirstBatchMs)))
		}
	}
	benchkit.PrintNotes(r.Notes)
	return code
}

// stats summarises durations, in milliseconds (nearest-rank percentiles).
type stats struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(ds)))) - 1
		return ms(ds[max(i, 0)])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return stats{N: len(ds), P50: rank(50), P90: rank(90), P99: rank(99), Max: ms(ds[len(ds)-1]), Mean: ms(sum / time.Duration(len(ds)))}
}

func (s stats) String() string {
	return fmt.Sprintf("n %d, p50 %s, p90 %s, p99 %s, max %s", s.N, fmtMs(s.P50), fmtMs(s.P90), fmtMs(s.P99), fmtMs(s.Max))
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func fmtDur(d time.Duration) string { return fmtMs(ms(d)) }

func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 1:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.0fµs", v*1000)
	}
}

func fmtKiB(k int64) string {
	switch {
	case k < 0:
		return fmt.Sprintf("-%s", fmtKiB(-k))
	case k >= 1<<20:
		return fmt.Sprintf("%.2f GiB", float64(k)/(1<<20))
	case k >= 1<<10:
		return fmt.Sprintf("%.1f MiB", float64(k)/(1<<10))
	default:
		return fmt.Sprintf("%d KiB", k)
	}
}

func memTotalKiB() int64 {
	b, _ := os.ReadFile("/proc/meminfo")
	return benchkit.FieldOf(b, "MemTotal")
}
