// Command rollout benchmarks ecsd's service scheduler:
//
//  1. a rolling update of a 1,000-task service on the fake runtime and a fake
//     clock, in process (no HTTP): wall time, scheduler syncs, simulated
//     time, CPU time;
//  2. the cost of one scheduler sync (Services.Sync: load from the store,
//     rollout.Decide, apply) of a service in steady state, as it grows
//     from 10 to 10,000 tasks, split into store reads, decision and commit;
//  3. a real rolling update of the demo app on `ecsd --runtime process
//     --healthy-after 2s`, against the lower bound its start and stop
//     latencies allow.
//
// See bench/README.md.
//
//	go run ./bench/rollout [-tests sim,sync,process] [-json FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/rollout"
)

var (
	tests    = flag.String("tests", "sim,sync,process", "tests to run, comma-separated: sim (1), sync (2), process (3)")
	simTasks = flag.Int("sim-tasks", 1000, "test 1: desiredCount of the simulated service")
	simStep  = flag.Duration("step", 5*time.Second, "test 1: fake clock step between settles")
	sizes    = flag.String("sizes", "10,1000,10000", "test 2: service sizes (tasks)")
	syncTime = flag.Duration("sync-time", 3*time.Second, "test 2: time budget for timing Services.Sync per size (at least 21 runs)")
	idle     = flag.Duration("idle", time.Second, "test 2: how long ecsd's scheduler loop (Services.Run) is left alone with the steady service")
	dir      = flag.String("dir", "", "tests 1–2: parent of the in-process stores' data dirs (default: $TMPDIR or /tmp); the store fsyncs every commit, so the file system matters")

	ecsdBin      = flag.String("ecsd", "", "test 3: ecsd binary (default: CGO_ENABLED=0 go build ./cmd/ecsd into a temp dir)")
	reps         = flag.Int("reps", 3, "test 3: rolling updates measured, each on a fresh ecsd")
	procTasks    = flag.Int("process-tasks", 10, "test 3: desiredCount of the demo app service")
	healthyAfter = flag.Duration("healthy-after", 2*time.Second, "test 3: ecsd --healthy-after")
	poll         = flag.Duration("poll", 20*time.Millisecond, "test 3: DescribeServices polling interval during the rollout")
	probePoll    = flag.Duration("probe-poll", 5*time.Millisecond, "test 3: DescribeTasks polling interval when timing one task's start and stop")
	probes       = flag.Int("probes", 3, "test 3: extra tasks started and stopped one at a time per repetition, for the latencies")
	timeout      = flag.Duration("timeout", 2*time.Minute, "test 3: limit for one deployment to complete")

	jsonOut = flag.String("json", "", "also write the figures as JSON to this file")
	keep    = flag.Bool("keep", false, "keep the temp dir (ecsd logs and data dirs) and print its path")
)

// defaultParams are ecsd's default scheduler timings (healthy 40 s after
// RUNNING, as ECS).
var defaultParams = rollout.Params{}

// report is everything the benchmark measured (the JSON output).
type report struct {
	Started time.Time      `json:"started"`
	Config  map[string]any `json:"config"`
	Sim     *simResult     `json:"sim,omitempty"`
	Sync    []syncResult   `json:"sync,omitempty"`
	Process *processResult `json:"process,omitempty"`
	Notes   []string       `json:"notes"`
}

func main() {
	flag.Parse()
	want := map[string]bool{}
	for t := range strings.SplitSeq(*tests, ",") {
		switch t = strings.TrimSpace(t); t {
		case "sim", "sync", "process":
			want[t] = true
		case "":
		default:
			benchkit.Fatal("rollout", fmt.Errorf("-tests: unknown test %q (sim, sync, process)", t))
		}
	}
	var ns []int
	for s := range strings.SplitSeq(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			benchkit.Fatal("rollout", fmt.Errorf("-sizes: %q is not a positive number", s))
		}
		ns = append(ns, n)
	}
	if *simTasks < 1 || *simStep <= 0 || *reps < 1 || *procTasks < 1 || *poll <= 0 || *probePoll <= 0 || *probes < 1 || *healthyAfter < 0 {
		benchkit.Fatal("rollout", errors.New("need -sim-tasks >= 1, -step > 0, -reps >= 1, -process-tasks >= 1, -poll > 0, -probe-poll > 0, -probes >= 1, -healthy-after >= 0"))
	}
	parent := *dir
	if parent == "" {
		parent = os.TempDir()
	}
	tmp := benchkit.Setup("rollout", *keep) // Ctrl-C / SIGTERM: stop the tasks and ecsd, remove temp files.

	rep := report{Started: time.Now().UTC(), Config: map[string]any{
		"tests": *tests, "sim_tasks": *simTasks, "step": simStep.String(), "sizes": ns, "sync_time": syncTime.String(),
		"idle": idle.String(), "store_parent": parent, "store_fs": fsType(parent), "reps": *reps, "process_tasks": *procTasks,
		"healthy_after": healthyAfter.String(), "poll": poll.String(), "probe_poll": probePoll.String(), "probes": *probes,
		"cpus": runtime.NumCPU(), "go": runtime.Version(), "loadavg_at_start": benchkit.LoadAvg(),
	}}
	if want["sim"] {
		r := simPhase(int32(*simTasks), *simStep, parent)
		rep.Sim = &r
	}
	if want["sync"] {
		for _, n := range ns {
			rep.Sync = append(rep.Sync, syncPhase(n, *syncTime, parent))
		}
	}
	if want["process"] {
		r := processPhase(tmp)
		rep.Process = &r
	}
	rep.Config["loadavg_at_end"] = benchkit.LoadAvg()
	benchkit.WaitIfInterrupted()
	rep.Notes = benchkit.Notes()

	benchkit.Finish("rollout", printReport(rep), *jsonOut, rep)
}

func printReport(r report) int {
	code := 0
	fmt.Printf("\n%d CPUs, %s; load average at start %s, at end %s (other work on the machine skews the figures)\n",
		r.Config["cpus"], r.Config["go"], r.Config["loadavg_at_start"], r.Config["loadavg_at_end"])
	kv := func(k, v string) { fmt.Printf("  %-34s %s\n", k, v) }

	if s := r.Sim; s != nil {
		fmt.Printf("\n== 1. Rolling update, fake runtime + fake clock, in process: %d tasks, 100/200, no health check ==\n", s.Tasks)
		fmt.Printf("   (store in %s, %s; clock advanced %ds per step, then settled until nothing changes)\n\n", s.DataDir, r.Config["store_fs"], s.StepS)
		show := func(name string, p *phase) {
			if p == nil {
				return
			}
			fmt.Printf("  %s\n", name)
			kv("wall time", fmtMs(p.WallMs))
			kv("CPU time (process, user+sys)", fmt.Sprintf("%s (user %s, sys %s) = %.2f cores", fmtMs(p.CPUUserMs+p.CPUSysMs), fmtMs(p.CPUUserMs), fmtMs(p.CPUSysMs), (p.CPUUserMs+p.CPUSysMs)/max(p.WallMs, 1e-9)))
			kv("simulated time", fmt.Sprintf("%.0fs (%d clock steps)", p.SimulatedS, p.ClockSteps))
			kv("scheduler syncs", fmt.Sprintf("%d (%d started or stopped tasks); %s inside Services.Sync, %s/sync", p.Syncs, p.Steps, fmtMs(p.SyncMs), fmtMs(p.SyncMs/float64(max(p.Syncs, 1)))))
			kv("task runner + fake driver", fmtMs(p.RunnerMs))
			kv("drainer", fmtMs(p.DrainerMs))
			kv("store commits (task records written)", fmt.Sprintf("%d (%d); %s/commit of wall time", p.Commits, p.TaskWrites, fmtMs(p.WallMs/float64(max(p.Commits, 1)))))
			kv("allocated, GC cycles", fmt.Sprintf("%.0f MiB, %d", p.AllocMiB, p.NumGC))
		}
		show("CreateService → COMPLETED (context)", s.Create)
		show("UpdateService → new deployment COMPLETED, one deployment left", s.Rollout)
		if s.SyncAfterNs > 0 {
			fmt.Printf("  one Services.Sync (median of 21): %s with the service steady before the update; %s after the rollout,\n", fmtNs(s.SyncBeforeNs), fmtNs(s.SyncAfterNs))
			fmt.Printf("  with %d task records in the store (the old deployment's STOPPED tasks are kept for an hour)\n", s.StoredTasks)
		}
		if len(s.Events) > 0 {
			fmt.Println("  service events of the rollout (simulated time after the deployment's creation):")
			for _, e := range s.Events {
				fmt.Println("    " + e)
			}
		}
		if s.Error != "" {
			kv("ERROR", s.Error)
			code = 1
		}
	}

	if len(r.Sync) > 0 {
		fmt.Printf("\n== 2. One scheduler sync of a service in steady state (COMPLETED, all RUNNING and healthy) ==\n")
		fmt.Printf("   Services.Sync = read-write transaction: load the service, its task definitions and every task of\n")
		fmt.Printf("   the cluster (JSON-decoded), rollout.Decide, apply (write the service record), commit (fsync).\n")
		fmt.Printf("   load: the same reads, rolled back; commit: Get+Put of the service record alone, committed.\n\n")
		fmt.Printf("  %7s %6s %11s %10s %11s %11s %10s %11s %11s %10s %9s\n", "tasks", "runs", "sync p50", "ns/task", "sync p10", "sync p90", "load p50", "commit p50", "Decide", "Decide mid", "alloc/sync")
		for i := range r.Sync {
			s := &r.Sync[i]
			if s.Error != "" {
				fmt.Printf("  %7d ERROR: %s\n", s.Tasks, s.Error)
				code = 1
				continue
			}
			fmt.Printf("  %7d %6d %11s %10.0f %11s %11s %10s %11s %11s %10s %9s\n", s.Tasks, s.Runs, fmtNs(s.SyncNs.Median), s.SyncNs.Median/float64(s.Tasks),
				fmtNs(s.SyncNs.P10), fmtNs(s.SyncNs.P90), fmtNs(s.LoadNs.Median), fmtNs(s.CommitNs.Median), fmtNs(s.DecideNs), fmtNs(s.DecideMid), fmtBytes(s.SyncAllocB))
		}
		fmt.Println()
		for i := range r.Sync {
			s := &r.Sync[i]
			if s.Error != "" {
				continue
			}
			rest := s.SyncNs.Median - s.LoadNs.Median - s.DecideNs
			load := fmt.Sprintf("%.0f%%", 100*s.LoadNs.Median/s.SyncNs.Median)
			if s.LoadNs.Median > s.SyncNs.Median {
				load = "≈100% (its median is above the sync's: noise)"
			}
			fmt.Printf("  %d tasks: load %s, Decide %.1f%%, rest (apply + commit) %s of a sync; setup %s; task record %d B, service record %d B; steady plan empty: %v\n",
				s.Tasks, load, 100*s.DecideNs/s.SyncNs.Median, pctOrNoise(rest, s.SyncNs.Median),
				fmtMs(s.SetupMs), s.TaskRecordB, s.ServiceRecordB, s.PlanEmpty)
			if s.IdleS > 0 {
				fmt.Printf("  %*s  Services.Run left alone %.1fs with nothing to do: %d syncs (%.0f/s), process CPU %.2f cores\n",
					len(strconv.Itoa(s.Tasks))+6, "", s.IdleS, s.IdleSyncs, float64(s.IdleSyncs)/s.IdleS, s.IdleCPUCores)
			}
		}
		fmt.Println()
		for i := 1; i < len(r.Sync); i++ {
			a, b := &r.Sync[i-1], &r.Sync[i]
			if a.Error != "" || b.Error != "" {
				continue
			}
			size := float64(b.Tasks) / float64(a.Tasks)
			ratio := b.SyncNs.Median / a.SyncNs.Median
			exp := math.Log(ratio) / math.Log(size) // growth ~ size^exp
			verdict := "linear"
			switch {
			case exp > 1.15:
				verdict = "WORSE THAN LINEAR"
			case exp < 0.85:
				verdict = "sub-linear: the fixed cost per sync dominates the small size"
			}
			fmt.Printf("  %d → %d tasks (×%.0f): sync ×%.1f (≈ n^%.2f: %s); load ×%.1f; Decide ×%.1f; Decide mid-rollout ×%.1f\n",
				a.Tasks, b.Tasks, size, ratio, exp, verdict, b.LoadNs.Median/a.LoadNs.Median, b.DecideNs/a.DecideNs, b.DecideMid/a.DecideMid)
		}
		fmt.Println("  (Decide: rollout.Decide alone on the loaded steady state; Decide mid: on BenchmarkDecide's mid-rollout state,")
		fmt.Println("   n tasks with desired n/2 — compare `go test -bench BenchmarkDecide ./internal/rollout/`)")
	}

	if p := r.Process; p != nil {
		code = max(code, printProcess(p))
	}
	benchkit.PrintNotes(r.Notes)
	return code
}

// pctOrNoise shows part/whole as a percentage, or says it is within the
// noise of two medians measured apart.
func pctOrNoise(part, whole float64) string {
	if part < 0.02*whole {
		return "≈0% (within noise)"
	}
	return fmt.Sprintf("%.0f%%", 100*part/whole)
}

func ms3(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

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

func fmtNs(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fs", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fµs", v/1e3)
	default:
		return fmt.Sprintf("%.0fns", v)
	}
}

func fmtBytes(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0fKiB", float64(b)/(1<<10))
	default:
		return fmt.Sprintf("%dB", b)
	}
}

// fsType names the file system holding path (from /proc/self/mountinfo:
// the longest mount point that is a prefix of it).
func fsType(path string) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "?"
	}
	best, kind := "", "?"
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) {
			continue
		}
		mp := f[4]
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/") || mp == "/") && len(mp) >= len(best) {
			best, kind = mp, f[sep+1]
		}
	}
	return kind
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
