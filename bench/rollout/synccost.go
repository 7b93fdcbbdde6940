package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// syncResult is test 2 for one service size.
type syncResult struct {
	Tasks           int     `json:"tasks"`
	SetupMs         float64 `json:"setup_ms"` // creating the service until COMPLETED
	Runs            int     `json:"runs"`
	SyncNs          dist    `json:"sync_ns"`               // Services.Sync, whole
	LoadNs          dist    `json:"load_ns"`               // read part: a copy of the sync's load, rolled back
	CommitNs        dist    `json:"commit_ns"`             // write part floor: Get + Put of the service record, committed
	DecideNs        float64 `json:"decide_ns"`             // rollout.Decide on the loaded steady state
	DecideMid       float64 `json:"decide_mid_rollout_ns"` // ... on BenchmarkDecide's mid-rollout state
	DecideMidAllocB int64   `json:"decide_mid_rollout_bytes"`
	SyncAllocB      int64   `json:"sync_alloc_bytes"`  // heap allocated per sync
	TaskRecordB     int     `json:"task_record_bytes"` // size of one stored task record (JSON)
	ServiceRecordB  int     `json:"service_record_bytes"`
	PlanEmpty       bool    `json:"plan_empty"`
	// Services.Run (ecsd's scheduler loop) left alone for IdleS seconds
	// with nothing changing: syncs it made and the process's CPU.
	IdleS        float64 `json:"idle_s"`
	IdleSyncs    int64   `json:"idle_syncs"`
	IdleCPUCores float64 `json:"idle_cpu_cores"`
	Error        string  `json:"error,omitempty"`
}

// dist is a distribution of timings in ns.
type dist struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P10    float64 `json:"p10"`
	P90    float64 `json:"p90"`
	Min    float64 `json:"min"`
}

func distOf(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	at := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1)+0.5)]) }
	return dist{N: len(ds), Median: at(0.5), P10: at(0.1), P90: at(0.9), Min: float64(ds[0])}
}

var errRollback = errors.New("roll back")

// timeRuns runs f until budget is spent (at least minRuns, at most maxRuns
// times) and returns each run's time.
func timeRuns(budget time.Duration, minRuns, maxRuns int, f func() error) ([]time.Duration, error) {
	var ds []time.Duration
	start := time.Now()
	for len(ds) < maxRuns && (len(ds) < minRuns || time.Since(start) < budget) {
		t0 := time.Now()
		if err := f(); err != nil {
			return ds, err
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}

// syncPhase: a service of n tasks in steady state (COMPLETED, all RUNNING
// and healthy); time Services.Sync of it, and its parts.
func syncPhase(n int, budget time.Duration, parent string) (r syncResult) {
	r = syncResult{Tasks: n}
	fail := func(format string, args ...any) syncResult {
		r.Error = fmt.Sprintf(format, args...)
		return r
	}
	w, err := newWorld(parent, defaultParams)
	if err != nil {
		return fail("%v", err)
	}
	defer w.close()
	progress("test 2: %d tasks: creating the service ...", n)
	t0 := time.Now()
	if _, err := newSteadyService(w, int32(n), "web:1"); err != nil {
		return fail("setup: %v", err)
	}
	r.SetupMs = ms3(time.Since(t0))

	// The state the sync sees, for Decide alone and as a check.
	var st rollout.State
	err = w.st.Update(func(tx *store.Tx) error {
		var err error
		st, err = loadState(tx, serviceKey, defaultParams)
		if err != nil {
			return err
		}
		var raw []byte
		tx.Scan(store.Tasks, store.Prefix(worldRegion, worldCluster), "", func(_ string, v []byte) error { raw = v; return store.ErrStop })
		r.TaskRecordB = len(raw)
		tx.Scan(store.Services, serviceKey, "", func(_ string, v []byte) error { r.ServiceRecordB = len(v); return store.ErrStop })
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return fail("load: %v", err)
	}
	if len(st.Tasks) != n {
		return fail("steady state has %d tasks, want %d", len(st.Tasks), n)
	}
	for _, t := range st.Tasks {
		if t.LastStatus != ecsmodel.TaskRunning || !t.SeenHealthy {
			return fail("task %s is %s (seen healthy %v), not RUNNING and healthy", t.ARN, t.LastStatus, t.SeenHealthy)
		}
	}
	now := w.clock.Now().UTC().Truncate(time.Millisecond)
	plan := rollout.Decide(st, now)
	r.PlanEmpty = plan.Empty() && plan.Rollback == nil && len(plan.Events) == 0

	progress("test 2: %d tasks: timing Services.Sync ...", n)
	for range 3 { // warm-up
		if _, err := w.services.Sync(serviceKey); err != nil {
			return fail("sync: %v", err)
		}
	}
	// Sync, load and commit are timed in turn in one loop, so that all three
	// see the same conditions (GC, other work on the machine).
	syncOnce := func() error {
		p, err := w.services.Sync(serviceKey)
		if err == nil && !p.Empty() {
			err = fmt.Errorf("steady state sync planned work: start %d, stop %d", p.Start.Count, len(p.Stops))
		}
		return err
	}
	// Read part: the same reads in a read-write transaction (as Sync: no
	// decode cache), rolled back.
	loadOnce := func() error {
		err := w.st.Update(func(tx *store.Tx) error {
			if _, err := loadState(tx, serviceKey, defaultParams); err != nil {
				return err
			}
			return errRollback
		})
		if errors.Is(err, errRollback) {
			return nil
		}
		return err
	}
	// Write floor: rewrite the service record unchanged and commit.
	commitOnce := func() error {
		return w.st.Update(func(tx *store.Tx) error {
			var rec store.ServiceRecord
			if _, err := tx.Get(store.Services, serviceKey, &rec); err != nil {
				return err
			}
			return tx.Put(store.Services, serviceKey, rec)
		})
	}
	var syncDs, loadDs, commitDs []time.Duration
	var allocs uint64
	var ms0, ms1 runtime.MemStats
	timed := func(f func() error, into *[]time.Duration) error {
		t0 := time.Now()
		err := f()
		*into = append(*into, time.Since(t0))
		return err
	}
	start := time.Now()
	for len(syncDs) < 5000 && (len(syncDs) < 21 || time.Since(start) < budget) {
		runtime.ReadMemStats(&ms0)
		if err := timed(syncOnce, &syncDs); err != nil {
			return fail("sync: %v", err)
		}
		runtime.ReadMemStats(&ms1)
		allocs += ms1.TotalAlloc - ms0.TotalAlloc
		if err := timed(loadOnce, &loadDs); err != nil {
			return fail("load: %v", err)
		}
		if err := timed(commitOnce, &commitDs); err != nil {
			return fail("commit: %v", err)
		}
	}
	r.Runs = len(syncDs)
	r.SyncNs, r.LoadNs, r.CommitNs = distOf(syncDs), distOf(loadDs), distOf(commitDs)
	r.SyncAllocB = int64(allocs) / int64(len(syncDs))

	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			rollout.Decide(st, now)
		}
	})
	r.DecideNs = float64(res.NsPerOp())
	mid := benchState(n)
	res = testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rollout.Decide(mid, benchT0.Add(time.Minute))
		}
	})
	r.DecideMid, r.DecideMidAllocB = float64(res.NsPerOp()), res.AllocedBytesPerOp()

	// ecsd's own loop, Services.Run, with nothing to do: every sync writes
	// the service record, which queues the service again.
	progress("test 2: %d tasks: Services.Run alone for %s ...", n, *idle)
	var ru0, ru1 syscall.Rusage
	before := w.serviceWrites.Load()
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	done := make(chan struct{})
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t1 := time.Now()
	go func() { w.services.Run(ctx); close(done) }()
	time.Sleep(*idle)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	el := time.Since(t1)
	idleSyncs := w.serviceWrites.Load() - before
	cancel()
	// Run looks at ctx only when its queue is empty, which it never is
	// here: make the service INACTIVE (Sync then writes nothing) so that
	// the loop runs dry and returns.
	err = w.st.Update(func(tx *store.Tx) error {
		var rec store.ServiceRecord
		if _, err := tx.Get(store.Services, serviceKey, &rec); err != nil {
			return err
		}
		rec.Service.Status = aws.String(ecsmodel.ServiceInactive)
		return tx.Put(store.Services, serviceKey, rec)
	})
	if err != nil {
		return fail("stopping Services.Run: %v", err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		benchkit.Fatal("rollout", errors.New("Services.Run did not return a minute after its context ended and the service became INACTIVE"))
	}
	r.IdleS = el.Seconds()
	r.IdleSyncs = idleSyncs
	r.IdleCPUCores = (tv(ru1.Utime) - tv(ru0.Utime) + tv(ru1.Stime) - tv(ru0.Stime)).Seconds() / el.Seconds()
	return r
}

// memoryOf is a copy of controller.memoryOf (unexported): the stored
// scheduler memory as rollout.Memory.
func memoryOf(m store.SchedulerMemory) rollout.Memory {
	out := rollout.Memory{
		Backoff:    rollout.Backoff{DeploymentID: m.Backoff.DeploymentID, Level: m.Backoff.Level, Since: m.Backoff.Since, Until: m.Backoff.Until},
		Deadlocked: m.Deadlocked, Steady: m.Steady, OverLimit: m.OverLimit,
	}
	if c := m.LastCompleted; c != nil {
		out.LastCompleted = &rollout.DeploymentRef{ID: c.ID, TaskDefinition: c.TaskDefinition, DesiredCount: c.DesiredCount,
			ContainerHealthCheck: c.ContainerHealthCheck, LoadBalanced: c.LoadBalanced}
	}
	return out
}

// loadState is a copy of controller.serviceSync.load (unexported): the
// rollout.State Services.Sync builds from the store, the same reads in the
// same order.
func loadState(tx *store.Tx, key string, params rollout.Params) (rollout.State, error) {
	var rec store.ServiceRecord
	found, err := tx.Get(store.Services, key, &rec)
	if err != nil || !found {
		return rollout.State{}, fmt.Errorf("service %s: found %v, %v", key, found, err)
	}
	parts := strings.SplitN(key, "/", 3)
	region, cluster := parts[0], parts[1]
	svc := rec.Service
	st := rollout.State{
		Service: rollout.Service{
			Name: aws.ToString(svc.ServiceName), Status: aws.ToString(svc.Status), DesiredCount: svc.DesiredCount,
			DeploymentConfiguration: svc.DeploymentConfiguration,
			HealthCheckGracePeriod:  time.Duration(aws.ToInt32(svc.HealthCheckGracePeriodSeconds)) * time.Second,
		},
		Memory: memoryOf(rec.Scheduler),
		Params: params,
	}
	tds := map[string]types.TaskDefinition{}
	for _, d := range svc.Deployments {
		arn := aws.ToString(d.TaskDefinition)
		td, ok := tds[arn]
		if !ok {
			ref := arn[strings.LastIndexByte(arn, '/')+1:]
			family, rev, _ := strings.Cut(ref, ":")
			var n int32
			fmt.Sscan(rev, &n)
			var tdr store.TaskDefinitionRecord
			if _, err := tx.Get(store.TaskDefinitions, store.RevisionKey(region, family, n), &tdr); err != nil {
				return st, err
			}
			td = tdr.TaskDefinition
			tds[arn] = td
		}
		hc := false
		for _, c := range td.ContainerDefinitions {
			if (c.Essential == nil || *c.Essential) && c.HealthCheck != nil && len(c.HealthCheck.Command) > 0 && c.HealthCheck.Command[0] != "NONE" {
				hc = true
			}
		}
		st.Deployments = append(st.Deployments, rollout.Deployment{
			ID: aws.ToString(d.Id), Status: aws.ToString(d.Status), TaskDefinition: arn, CreatedAt: aws.ToTime(d.CreatedAt),
			DesiredCount: d.DesiredCount, RunningCount: d.RunningCount, PendingCount: d.PendingCount, FailedTasks: d.FailedTasks,
			RolloutState: d.RolloutState, RolloutStateReason: aws.ToString(d.RolloutStateReason),
			ContainerHealthCheck: hc, LoadBalanced: len(svc.LoadBalancers) > 0,
		})
	}
	group := ecsmodel.ServiceGroup(aws.ToString(svc.ServiceName))
	created := aws.ToTime(svc.CreatedAt)
	tasks, taskKeys := map[string]*store.TaskRecord{}, map[string]string{} // as the sync keeps them for apply
	err = store.Each(tx, store.Tasks, store.Prefix(region, cluster), func(key string, rec *store.TaskRecord) error {
		t := rec.Task
		if aws.ToString(t.Group) != group || aws.ToTime(t.CreatedAt).Before(created) {
			return nil
		}
		if aws.ToString(t.LastStatus) == ecsmodel.TaskStopped && rec.Accounted {
			return nil
		}
		arn := aws.ToString(t.TaskArn)
		tasks[arn], taskKeys[arn] = rec, key
		st.Tasks = append(st.Tasks, rollout.Task{
			ARN: arn, DeploymentID: aws.ToString(t.StartedBy), LastStatus: aws.ToString(t.LastStatus),
			DesiredStatus: aws.ToString(t.DesiredStatus), CreatedAt: aws.ToTime(t.CreatedAt), StartedAt: aws.ToTime(t.StartedAt),
			HealthStatus: t.HealthStatus, StopCode: t.StopCode, StoppedReason: aws.ToString(t.StoppedReason),
			StoppedAt: aws.ToTime(t.StoppedAt), Accounted: rec.Accounted, SeenHealthy: rec.SeenHealthy,
		})
		return nil
	})
	return st, err
}

// benchT0 and benchState copy internal/rollout/bench_test.go (unexported
// there): a service of n tasks in the middle of a rollout — half of them in
// the old deployment (healthy), a quarter in the new one (healthy), a
// quarter in the new one (pending); desired n/2, 50/200, container health
// checks. BenchmarkDecide measures Decide on it.
var benchT0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func benchState(n int) rollout.State {
	depID := func(i int) string { return fmt.Sprintf("ecs-svc/%019d", i) }
	taskDef := func(rev int) string {
		return fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d", rev)
	}
	desired := int32(n / 2)
	st := rollout.State{
		Service: rollout.Service{Name: "web", Status: ecsmodel.ServiceActive, DesiredCount: desired,
			DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200)}},
		Deployments: []rollout.Deployment{
			{ID: depID(2), Status: ecsmodel.DeploymentPrimary, TaskDefinition: taskDef(2), CreatedAt: benchT0, DesiredCount: desired,
				RolloutState: types.DeploymentRolloutStateInProgress, ContainerHealthCheck: true},
			{ID: depID(1), Status: ecsmodel.DeploymentActive, TaskDefinition: taskDef(1), CreatedAt: benchT0.Add(-time.Hour), DesiredCount: desired,
				RolloutState: types.DeploymentRolloutStateCompleted, ContainerHealthCheck: true},
		},
		Memory: rollout.Memory{LastCompleted: &rollout.DeploymentRef{ID: depID(1), TaskDefinition: taskDef(1), DesiredCount: desired}},
	}
	st.Tasks = make([]rollout.Task, n)
	for i := range st.Tasks {
		t := &st.Tasks[i]
		t.ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/default/%032x", i)
		t.DesiredStatus, t.SeenHealthy = ecsmodel.TaskRunning, true
		switch {
		case i < n/2:
			t.DeploymentID, t.LastStatus, t.HealthStatus = depID(1), ecsmodel.TaskRunning, types.HealthStatusHealthy
			t.CreatedAt, t.StartedAt = benchT0.Add(-time.Hour), benchT0.Add(-time.Hour)
		case i < 3*n/4:
			t.DeploymentID, t.LastStatus, t.HealthStatus = depID(2), ecsmodel.TaskRunning, types.HealthStatusHealthy
			t.CreatedAt, t.StartedAt = benchT0, benchT0.Add(10*time.Second)
		default:
			t.DeploymentID, t.LastStatus, t.CreatedAt = depID(2), ecsmodel.TaskPending, benchT0
		}
	}
	return st
}
