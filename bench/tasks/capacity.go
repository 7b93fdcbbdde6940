package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// capacityResult is the capacity test: many idle demo app tasks on the
// process runtime.
type capacityResult struct {
	Target  int    `json:"target_tasks"`
	Reached int    `json:"reached_tasks"` // RUNNING at once
	Error   string `json:"error,omitempty"`

	// Ramp: RunTask count 10, then DescribeTasks until the batch is RUNNING.
	RampMs        float64 `json:"ramp_ms"`
	Batches       stats   `json:"batch"` // per batch of 10
	FirstBatchMs  float64 `json:"first_batch_ms"`
	LastBatchMs   float64 `json:"last_batch_ms"`
	RampEcsdCPUs  float64 `json:"ramp_ecsd_cpu_s"` // ecsd CPU seconds spent during the ramp
	ListTasksMs   float64 `json:"listtasks_all_pages_ms"`
	ListPages     int     `json:"listtasks_pages"`
	Listed        int     `json:"listtasks_arns"`
	ListedMatch   bool    `json:"listtasks_match"` // exactly the started tasks
	DescribeAllMs float64 `json:"describetasks_all_ms"`
	Running       int     `json:"describetasks_running"`
	HTTPOK        int     `json:"http_ok"`

	// Idle window at the full count.
	IdleS         float64           `json:"idle_s"`
	EcsdCPUPct    float64           `json:"ecsd_cpu_pct"` // % of one core
	DemoCPUPct    float64           `json:"demo_cpu_pct"` // all demo app processes, % of one core
	DemoProcs     int               `json:"demo_procs"`
	DemoRSSKiB    int64             `json:"demo_rss_total_kib"`  // VmRSS: counts the shared binary pages in every process
	DemoAnonKiB   int64             `json:"demo_anon_total_kib"` // RssAnon: the private part
	EcsdStart     benchkit.ProcInfo `json:"ecsd_before_tasks"`
	EcsdAtCount   benchkit.ProcInfo `json:"ecsd_at_count"`
	EcsdAfter     benchkit.ProcInfo `json:"ecsd_after_drain"`
	DBKiBAtCount  int64             `json:"db_kib_at_count"`
	DBKiBAfter    int64             `json:"db_kib_after_drain"`
	MemAvailStart int64             `json:"memavailable_before_kib"`
	MemAvailCount int64             `json:"memavailable_at_count_kib"`
	MemAvailAfter int64             `json:"memavailable_after_drain_kib"`

	// Drain: StopTask every task, -stop-c at a time.
	StopCallsMs   float64 `json:"drain_stoptask_calls_ms"`
	AllStoppedMs  float64 `json:"drain_all_stopped_ms"`
	ProcsGoneMs   float64 `json:"drain_procs_gone_ms"`
	DrainEcsdCPUs float64 `json:"drain_ecsd_cpu_s"`

	// One more batch of 10 after the drain, with every task of the test
	// still in the store as STOPPED, against FirstBatchMs on an empty store.
	AfterBatchMs float64 `json:"after_drain_batch_ms"`
}

// capacityPhase runs -tasks idle demo app tasks on a fresh process-runtime
// ecsd, measures it idle, then drains it.
func capacityPhase(bin, tmp string) (res capacityResult) {
	res.Target = *nTasks
	res.MemAvailStart = benchkit.MemAvailableKiB()
	e, err := startECSD("process/capacity", "process", bin, tmp)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer e.Stop()
	pid := e.Pid
	res.EcsdStart = benchkit.InfoOf(pid)
	fail := func(err error) capacityResult {
		res.Error = err.Error()
		benchkit.WaitIfInterrupted() // the error is the clean-up's doing
		fmt.Printf("process/capacity: %v\n", err)
		return res
	}

	// Ramp up.
	cpu0 := ticksOf(pid)
	t0 := time.Now()
	var batches []time.Duration
	for res.Reached < *nTasks {
		k := min(10, *nTasks-res.Reached)
		tb := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), *taskTimeout)
		arns, err := e.runTasks(ctx, k)
		if err == nil {
			err = e.waitStatus(ctx, arns, ecsmodel.TaskRunning, *poll)
		}
		cancel()
		if err != nil {
			return fail(fmt.Errorf("batch %d (after %d RUNNING): %w", len(batches)+1, res.Reached, err))
		}
		batches = append(batches, time.Since(tb))
		res.Reached += k
		if res.Reached%100 == 0 || res.Reached == *nTasks {
			fmt.Printf("process/capacity: %d tasks RUNNING after %s (batch of %d: %s)\n",
				res.Reached, fmtDur(time.Since(t0)), k, fmtDur(batches[len(batches)-1]))
		}
	}
	res.RampMs = ms(time.Since(t0))
	res.RampEcsdCPUs = float64(ticksOf(pid)-cpu0) / benchkit.ClkTck
	res.Batches = statsOf(batches)
	res.FirstBatchMs, res.LastBatchMs = ms(batches[0]), ms(batches[len(batches)-1])

	// Sanity at the full count.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := e.allStarted()
	tl := time.Now()
	var listed []string
	var token *string
	for {
		out, err := e.api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			return fail(fmt.Errorf("ListTasks page %d: %w", res.ListPages+1, err))
		}
		res.ListPages++
		listed = append(listed, out.TaskArns...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	res.ListTasksMs = ms(time.Since(tl))
	res.Listed = len(listed)
	res.ListedMatch = sameSet(listed, started)
	td := time.Now()
	tasks, err := e.describe(ctx, started)
	if err != nil {
		return fail(err)
	}
	res.DescribeAllMs = ms(time.Since(td))
	for _, t := range tasks {
		if aws.ToString(t.LastStatus) == ecsmodel.TaskRunning {
			res.Running++
		}
		if p := hostPort(t); p != 0 && httpGet(p) {
			res.HTTPOK++
		}
	}
	fmt.Printf("process/capacity: ListTasks %d ARNs in %d pages (match: %v), DescribeTasks %d RUNNING, %d answer GET /\n",
		res.Listed, res.ListPages, res.ListedMatch, res.Running, res.HTTPOK)

	// Idle window.
	fmt.Printf("process/capacity: measuring idle for %s ...\n", *idle)
	demo0 := map[int]benchkit.ProcStat{}
	for _, p := range benchkit.DemoProcs(pid) {
		demo0[p.Pid] = p
	}
	ecsd0, w0 := ticksOf(pid), time.Now()
	time.Sleep(*idle)
	ecsd1, wall := ticksOf(pid), time.Since(w0)
	demo1 := benchkit.DemoProcs(pid)
	res.IdleS = wall.Seconds()
	res.EcsdCPUPct = 100 * float64(ecsd1-ecsd0) / benchkit.ClkTck / wall.Seconds()
	var demoTicks uint64
	for _, p := range demo1 {
		if p0, ok := demo0[p.Pid]; ok && p0.Start == p.Start {
			demoTicks += p.Ticks - p0.Ticks
		}
		if rss := benchkit.StatusField(p.Pid, "VmRSS"); rss > 0 {
			res.DemoRSSKiB += rss
		}
		if anon := benchkit.StatusField(p.Pid, "RssAnon"); anon > 0 {
			res.DemoAnonKiB += anon
		}
	}
	res.DemoProcs = len(demo1)
	res.DemoCPUPct = 100 * float64(demoTicks) / benchkit.ClkTck / wall.Seconds()
	res.EcsdAtCount = benchkit.InfoOf(pid)
	res.MemAvailCount = benchkit.MemAvailableKiB()
	res.DBKiBAtCount = e.dbSizeKiB()

	// Drain.
	fmt.Printf("process/capacity: stopping %d tasks, %d StopTask calls at a time ...\n", len(started), *stopC)
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cpu0 = ticksOf(pid)
	t0 = time.Now()
	if err := e.stopTasks(ctx, started, *stopC); err != nil {
		return fail(err)
	}
	res.StopCallsMs = ms(time.Since(t0))
	stoppedAt, goneAt := time.Duration(0), time.Duration(0)
	for stoppedAt == 0 || goneAt == 0 {
		if goneAt == 0 && len(benchkit.DemoProcs(pid)) == 0 {
			goneAt = time.Since(t0)
		}
		if stoppedAt == 0 {
			if len(e.openTasks()) == 0 {
				stoppedAt = time.Since(t0)
			} else if _, err := e.describe(ctx, e.openTasks()); err != nil {
				return fail(err)
			}
		}
		select {
		case <-ctx.Done():
			return fail(fmt.Errorf("drain: %d tasks not STOPPED, processes gone: %v: %w", len(e.openTasks()), goneAt != 0, ctx.Err()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	res.AllStoppedMs, res.ProcsGoneMs = ms(stoppedAt), ms(goneAt)
	res.DrainEcsdCPUs = float64(ticksOf(pid)-cpu0) / benchkit.ClkTck
	time.Sleep(time.Second) // let ecsd settle (goroutines, reaping) before reading it
	res.EcsdAfter = benchkit.InfoOf(pid)
	res.MemAvailAfter = benchkit.MemAvailableKiB()
	res.DBKiBAfter = e.dbSizeKiB()

	tb := time.Now()
	arns, err := e.runTasks(ctx, 10)
	if err == nil {
		err = e.waitStatus(ctx, arns, ecsmodel.TaskRunning, *poll)
	}
	if err != nil {
		return fail(fmt.Errorf("batch after the drain: %w", err))
	}
	res.AfterBatchMs = ms(time.Since(tb))
	if err := e.stopTasks(ctx, arns, *stopC); err != nil {
		return fail(err)
	}
	if err := e.waitStatus(ctx, arns, ecsmodel.TaskStopped, 20*time.Millisecond); err != nil {
		return fail(err)
	}
	return res
}

func ticksOf(pid int) uint64 {
	st, err := benchkit.ReadStat(pid)
	if err != nil {
		return 0
	}
	return st.Ticks
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
