package main

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/internal/store"
)

// simResult is test 1: a rolling update of a big service on the fake
// runtime and the fake clock, in process.
type simResult struct {
	Tasks   int32    `json:"tasks"`
	StepS   int      `json:"clock_step_s"`
	DataDir string   `json:"data_dir_parent"`
	Create  *phase   `json:"create,omitempty"`  // CreateService → COMPLETED
	Rollout *phase   `json:"rollout,omitempty"` // UpdateService → COMPLETED, one deployment
	Events  []string `json:"rollout_events,omitempty"`
	// Services.Sync (median of 21) with the service steady before the
	// update, and after it, with the old deployment's STOPPED tasks still
	// in the store (ecsd keeps them describable for an hour).
	SyncBeforeNs float64 `json:"sync_before_update_ns"`
	SyncAfterNs  float64 `json:"sync_after_rollout_ns"`
	StoredTasks  int     `json:"stored_tasks_after_rollout"`
	Error        string  `json:"error,omitempty"`
}

// phase is what one part of the simulation cost.
type phase struct {
	WallMs     float64 `json:"wall_ms"`
	CPUUserMs  float64 `json:"cpu_user_ms"`
	CPUSysMs   float64 `json:"cpu_sys_ms"`
	SimulatedS float64 `json:"simulated_s"`
	ClockSteps int     `json:"clock_steps"`
	Syncs      int64   `json:"syncs"`         // Services.Sync calls
	Steps      int64   `json:"sync_steps"`    // ... whose plan started or stopped tasks
	SyncMs     float64 `json:"sync_ms"`       // wall time inside Services.Sync
	RunnerMs   float64 `json:"runner_ms"`     // Runner.Pass and driver drains
	DrainerMs  float64 `json:"drainer_ms"`    // Drainer.Pass
	Commits    int64   `json:"store_commits"` // committed write transactions
	TaskWrites int64   `json:"task_writes"`
	AllocMiB   float64 `json:"alloc_mib"` // bytes allocated by the process
	NumGC      uint32  `json:"gc_cycles"`
}

// meter measures a phase of the simulation.
type meter struct {
	w                *world
	wall             time.Time
	ru               syscall.Rusage
	ms               runtime.MemStats
	sim              time.Time
	syncs, steps     int64
	sync, run, drain time.Duration
	commits, taskW   int64
}

func startMeter(w *world) *meter {
	m := &meter{w: w, sim: w.clock.Now(), syncs: w.syncs, steps: w.steps, sync: w.syncTime, run: w.runnerTime, drain: w.drainerTime,
		commits: w.commits.Load(), taskW: w.taskWrites.Load()}
	runtime.ReadMemStats(&m.ms)
	syscall.Getrusage(syscall.RUSAGE_SELF, &m.ru)
	m.wall = time.Now()
	return m
}

func (m *meter) stop(clockStep time.Duration) *phase {
	wall := time.Since(m.wall)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := m.w
	simulated := w.clock.Now().Sub(m.sim)
	return &phase{
		WallMs:     ms3(wall),
		CPUUserMs:  ms3(tv(ru.Utime) - tv(m.ru.Utime)),
		CPUSysMs:   ms3(tv(ru.Stime) - tv(m.ru.Stime)),
		SimulatedS: simulated.Seconds(),
		ClockSteps: int(simulated / clockStep),
		Syncs:      w.syncs - m.syncs,
		Steps:      w.steps - m.steps,
		SyncMs:     ms3(w.syncTime - m.sync),
		RunnerMs:   ms3(w.runnerTime - m.run),
		DrainerMs:  ms3(w.drainerTime - m.drain),
		Commits:    w.commits.Load() - m.commits,
		TaskWrites: w.taskWrites.Load() - m.taskW,
		AllocMiB:   float64(ms.TotalAlloc-m.ms.TotalAlloc) / (1 << 20),
		NumGC:      ms.NumGC - m.ms.NumGC,
	}
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// simPhase: create a service of n tasks (fake driver: tasks start and stop
// at once; no health check, so healthy 40 s after RUNNING), let it complete,
// update it to a new revision and advance the fake clock by step, settling
// after each, until the new deployment is COMPLETED and alone.
func simPhase(n int32, step time.Duration, parent string) (r simResult) {
	r = simResult{Tasks: n, StepS: int(step / time.Second), DataDir: parent}
	fail := func(format string, args ...any) simResult {
		r.Error = fmt.Sprintf(format, args...)
		return r
	}
	w, err := newWorld(parent, defaultParams)
	if err != nil {
		return fail("%v", err)
	}
	defer w.close()
	v1, err := w.register("web:1")
	if err != nil {
		return fail("%v", err)
	}
	v2, err := w.register("web:2")
	if err != nil {
		return fail("%v", err)
	}

	progress("test 1: CreateService, %d tasks ...", n)
	m := startMeter(w)
	var created ecs.CreateServiceOutput
	if err := w.call("CreateService", &ecs.CreateServiceInput{ServiceName: aws.String(worldService), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(n)}, &created); err != nil {
		return fail("%v", err)
	}
	if err := w.settle(); err != nil {
		return fail("create: %v", err)
	}
	if _, err := w.until(step, 10*time.Minute, completed(v1)); err != nil {
		return fail("create: %v", err)
	}
	r.Create = m.stop(step)
	if r.SyncBeforeNs, err = medianSync(w); err != nil {
		return fail("%v", err)
	}

	progress("test 1: UpdateService to revision 2 ...")
	m = startMeter(w)
	var updated ecs.UpdateServiceOutput
	if err := w.call("UpdateService", &ecs.UpdateServiceInput{Service: aws.String(worldService), TaskDefinition: aws.String(v2)}, &updated); err != nil {
		return fail("%v", err)
	}
	if err := w.settle(); err != nil {
		return fail("rollout: %v", err)
	}
	s, err := w.until(step, 10*time.Minute, completed(v2))
	r.Rollout = m.stop(step)
	if err != nil {
		return fail("rollout: %v", err)
	}
	if int(s.RunningCount) != int(n) || w.machine.Tasks() != int(n) {
		return fail("after the rollout: service runningCount %d, fake machine runs %d tasks, want %d", s.RunningCount, w.machine.Tasks(), n)
	}
	if r.SyncAfterNs, err = medianSync(w); err != nil {
		return fail("%v", err)
	}
	w.st.View(func(tx *store.Tx) error {
		return tx.Scan(store.Tasks, "", "", func(string, []byte) error { r.StoredTasks++; return nil })
	})
	for i := len(s.Events) - 1; i >= 0; i-- {
		e := s.Events[i]
		if !aws.ToTime(e.CreatedAt).Before(aws.ToTime(updated.Service.Deployments[0].CreatedAt)) {
			r.Events = append(r.Events, fmt.Sprintf("+%s %s", aws.ToTime(e.CreatedAt).Sub(aws.ToTime(updated.Service.Deployments[0].CreatedAt)), shorten(aws.ToString(e.Message), 110)))
		}
	}
	return r
}

// medianSync is the median time of 21 Services.Sync of the world's service.
func medianSync(w *world) (float64, error) {
	ds, err := timeRuns(0, 21, 21, func() error {
		_, err := w.services.Sync(serviceKey)
		return err
	})
	return distOf(ds).Median, err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
