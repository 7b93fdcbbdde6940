package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// processResult is test 3: real rolling updates on the process runtime.
type processResult struct {
	Runs  []processRun `json:"runs"`
	Error string       `json:"error,omitempty"`
}

// processRun is one repetition, on its own ecsd. Times are in ms from the
// moment UpdateService (or CreateService, RunTask, StopTask) was sent; poll
// times are when the reply showing the change arrived, task times are
// ecsd's own timestamps (same host clock, ms resolution).
type processRun struct {
	Rep      int     `json:"rep"`
	CreateMs float64 `json:"create_ms"` // CreateService → first deployment COMPLETED (poll)

	// ecsd's CPU (% of one core, /proc ticks) over IdleS seconds with the
	// service stable and nothing happening.
	IdleCPUPct float64 `json:"idle_cpu_pct"`
	IdleS      float64 `json:"idle_s"`

	// One extra task (RunTask count 1 of the v1 revision) at a time.
	StartMs  []float64 `json:"start_ms"` // RunTask sent → RUNNING seen
	StopMs   []float64 `json:"stop_ms"`  // StopTask sent → STOPPED seen
	StartP50 float64   `json:"start_p50_ms"`
	StopP50  float64   `json:"stop_p50_ms"`

	// The rolling update, UpdateService → PRIMARY COMPLETED.
	RolloutMs float64 `json:"rollout_ms"`
	BoundMs   float64 `json:"bound_ms"` // StartP50 + healthy-after + StopP50
	Ratio     float64 `json:"ratio"`    // RolloutMs / BoundMs
	// The same bound with the start of the new tasks as ecsd recorded it
	// (last startedAt) in place of one task's start latency.
	ObservedBoundMs float64         `json:"observed_start_bound_ms"`
	ObservedRatio   float64         `json:"observed_start_ratio"`
	Polls           int             `json:"polls"`
	DescribeP50Ms   float64         `json:"describe_services_p50_ms"`
	AllNewRunningMs float64         `json:"poll_all_new_running_ms"` // PRIMARY runningCount == desired
	FirstOldDownMs  float64         `json:"poll_first_old_down_ms"`  // an ACTIVE deployment's runningCount below desired
	OneDeployMs     float64         `json:"poll_one_deployment_ms"`  // deployments[] has one entry
	Server          *serverTimeline `json:"server,omitempty"`        // ecsd's timestamps
	Events          []string        `json:"events,omitempty"`
	Error           string          `json:"error,omitempty"`
}

// serverTimeline: ecsd's task and event timestamps for the rollout, ms after
// UpdateService was sent; min and max over the 10 tasks.
type serverTimeline struct {
	NewCreated     [2]float64 `json:"new_created"`     // scheduler created the new tasks
	NewRunning     [2]float64 `json:"new_running"`     // startedAt
	NewHealthy     [2]float64 `json:"new_healthy"`     // startedAt + healthy-after
	OldStopping    [2]float64 `json:"old_stopping"`    // stoppingAt: the runner told the driver to stop
	OldStopped     [2]float64 `json:"old_stopped"`     // stoppedAt
	CompletedEvent float64    `json:"completed_event"` // "deployment completed." event
}

const (
	procCluster = "rollout"
	procFamily  = "bench-rollout-demoapp"
	procService = "demo"
)

func processPhase(tmp string) processResult {
	var r processResult
	bin, err := benchkit.BuildECSD(benchkit.BuildOpts{Bin: *ecsdBin, Dir: tmp,
		Say: func(line string) { progress("%s", line) }})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	for rep := 1; rep <= *reps; rep++ {
		if benchkit.Interrupted() {
			break
		}
		progress("test 3: repetition %d of %d ...", rep, *reps)
		run := processRep(rep, bin, tmp)
		r.Runs = append(r.Runs, run)
	}
	return r
}

func processRep(rep int, bin, tmp string) (run processRun) {
	run.Rep = rep
	e, err := startECSD(fmt.Sprintf("rep%d", rep), bin, tmp,
		"--runtime", "process", "--healthy-after", healthyAfter.String())
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.Stop()
	fail := func(err error) processRun {
		run.Error = err.Error()
		if strings.Contains(run.Error, "timeout") || strings.Contains(run.Error, "deadline") {
			run.Error += "\n" + benchkit.Tail(e.Log)
		}
		return run
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3**timeout+time.Minute)
	defer cancel()

	if _, err := e.api.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(procCluster)}); err != nil {
		return fail(fmt.Errorf("CreateCluster: %w", err))
	}
	v1, err := e.register(ctx, "v1")
	if err != nil {
		return fail(err)
	}
	v2, err := e.register(ctx, "v2")
	if err != nil {
		return fail(err)
	}

	// The service, v1, until its first deployment is COMPLETED.
	t0 := time.Now()
	if _, err := e.api.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(procCluster), ServiceName: aws.String(procService), TaskDefinition: aws.String(v1),
		DesiredCount: aws.Int32(int32(*procTasks)),
	}); err != nil {
		return fail(fmt.Errorf("CreateService: %w", err))
	}
	e.hasService = true
	if _, err := e.waitCompleted(ctx, t0, v1); err != nil {
		return fail(fmt.Errorf("first deployment: %w", err))
	}
	run.CreateMs = ms3(time.Since(t0))

	// ecsd at rest with a stable service.
	run.IdleS = 1
	if pct, err := cpuPercent(e.Pid, time.Second); err == nil {
		run.IdleCPUPct = pct
	}

	// Start and stop latency of one task, in the same ecsd.
	for range *probes {
		start, stop, err := e.probe(ctx, v1)
		if err != nil {
			return fail(err)
		}
		run.StartMs = append(run.StartMs, ms3(start))
		run.StopMs = append(run.StopMs, ms3(stop))
	}
	run.StartP50, run.StopP50 = median(run.StartMs), median(run.StopMs)

	// The rolling update.
	tU := time.Now()
	if _, err := e.api.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(procCluster), Service: aws.String(procService), TaskDefinition: aws.String(v2),
	}); err != nil {
		return fail(fmt.Errorf("UpdateService: %w", err))
	}
	pr, err := e.waitCompleted(ctx, tU, v2)
	if err != nil {
		return fail(fmt.Errorf("rolling update: %w", err))
	}
	run.RolloutMs = ms3(pr.completed)
	run.Polls, run.DescribeP50Ms = pr.polls, pr.describeP50
	run.AllNewRunningMs, run.FirstOldDownMs, run.OneDeployMs = msOrNeg(pr.allNewRunning), msOrNeg(pr.firstOldDown), msOrNeg(pr.oneDeployment)
	run.BoundMs = run.StartP50 + ms3(*healthyAfter) + run.StopP50
	run.Ratio = run.RolloutMs / run.BoundMs

	// ecsd's side of the story.
	tl, events, err := e.timeline(ctx, tU)
	if err != nil {
		benchkit.AddNote("rep %d: reading the rollout's timestamps: %v", rep, err)
	}
	run.Server, run.Events = tl, events
	if tl != nil && tl.NewRunning[1] > 0 {
		run.ObservedBoundMs = tl.NewRunning[1] + ms3(*healthyAfter) + run.StopP50
		run.ObservedRatio = run.RolloutMs / run.ObservedBoundMs
	}
	return run
}

func msOrNeg(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return ms3(d)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (e *ecsd) register(ctx context.Context, version string) (string, error) {
	out, err := e.api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(procFamily),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("app"),
			Image:        aws.String("ecsd/demoapp:" + version),
			Memory:       aws.Int32(64),
			Essential:    aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
			Environment:  []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
			StopTimeout:  aws.Int32(2),
		}},
	})
	if err != nil {
		return "", fmt.Errorf("RegisterTaskDefinition %s: %w", version, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// pollResult is what waitCompleted saw, as durations from its start time
// (-1: never seen).
type pollResult struct {
	completed, allNewRunning, firstOldDown, oneDeployment time.Duration
	polls                                                 int
	describeP50                                           float64
}

// waitCompleted polls DescribeServices every -poll until the PRIMARY
// deployment (of taskDef) is COMPLETED.
func (e *ecsd) waitCompleted(ctx context.Context, since time.Time, taskDef string) (pollResult, error) {
	r := pollResult{allNewRunning: -1, firstOldDown: -1, oneDeployment: -1}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tick := time.NewTicker(*poll)
	defer tick.Stop()
	var calls []float64
	var last types.Service
	for {
		c0 := time.Now()
		out, err := e.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(procCluster), Services: []string{procService}})
		now := time.Now()
		if err != nil {
			return r, fmt.Errorf("DescribeServices: %w (last seen: %s)", err, describeDeployments(last))
		}
		if len(out.Services) != 1 {
			return r, fmt.Errorf("DescribeServices: %d services, failures %s", len(out.Services), benchkit.Failures(out.Failures))
		}
		r.polls++
		calls = append(calls, ms3(now.Sub(c0)))
		s := out.Services[0]
		last = s
		at := now.Sub(since)
		for _, d := range s.Deployments {
			switch aws.ToString(d.Status) {
			case ecsmodel.DeploymentPrimary:
				if aws.ToString(d.TaskDefinition) != taskDef {
					return r, fmt.Errorf("PRIMARY deployment runs %s, want %s", aws.ToString(d.TaskDefinition), taskDef)
				}
				if d.RolloutState == types.DeploymentRolloutStateFailed {
					return r, fmt.Errorf("deployment FAILED: %s", aws.ToString(d.RolloutStateReason))
				}
				if d.RunningCount == d.DesiredCount && r.allNewRunning < 0 {
					r.allNewRunning = at
				}
				if d.RolloutState == types.DeploymentRolloutStateCompleted {
					r.completed = at
					r.describeP50 = median(calls)
					if len(s.Deployments) == 1 && r.oneDeployment < 0 {
						r.oneDeployment = at
					}
					if len(s.Deployments) != 1 {
						benchkit.AddNote("%s: PRIMARY COMPLETED while deployments[] still has %d entries: %s", e.name, len(s.Deployments), describeDeployments(s))
					}
					return r, nil
				}
			case ecsmodel.DeploymentActive:
				if d.RunningCount < int32(*procTasks) && r.firstOldDown < 0 {
					r.firstOldDown = at
				}
			}
		}
		if len(s.Deployments) == 1 && r.oneDeployment < 0 && r.allNewRunning >= 0 {
			r.oneDeployment = at
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("not COMPLETED after %s: %s", *timeout, describeDeployments(last))
		case <-tick.C:
		}
	}
}

// probe starts one task of taskDef and stops it again, one DescribeTasks
// every -probe-poll: RunTask sent → RUNNING seen, StopTask sent → STOPPED
// seen.
func (e *ecsd) probe(ctx context.Context, taskDef string) (start, stop time.Duration, err error) {
	t0 := time.Now()
	out, err := e.api.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(procCluster), TaskDefinition: aws.String(taskDef), Count: aws.Int32(1)})
	if err != nil {
		return 0, 0, fmt.Errorf("RunTask: %w", err)
	}
	if len(out.Tasks) != 1 {
		return 0, 0, fmt.Errorf("RunTask: %d tasks, failures %s", len(out.Tasks), benchkit.Failures(out.Failures))
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	e.addTask(arn)
	if err := e.waitTask(ctx, arn, ecsmodel.TaskRunning); err != nil {
		return 0, 0, err
	}
	start = time.Since(t0)
	t1 := time.Now()
	if _, err := e.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(procCluster), Task: aws.String(arn), Reason: aws.String("bench/rollout probe")}); err != nil {
		return 0, 0, fmt.Errorf("StopTask: %w", err)
	}
	if err := e.waitTask(ctx, arn, ecsmodel.TaskStopped); err != nil {
		return 0, 0, err
	}
	return start, time.Since(t1), nil
}

func (e *ecsd) waitTask(ctx context.Context, arn, want string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := e.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(procCluster), Tasks: []string{arn}})
		if err != nil {
			return fmt.Errorf("DescribeTasks: %w", err)
		}
		if len(out.Tasks) != 1 {
			return fmt.Errorf("DescribeTasks: failures %s", benchkit.Failures(out.Failures))
		}
		t := out.Tasks[0]
		st := aws.ToString(t.LastStatus)
		if st == want {
			if st == ecsmodel.TaskStopped {
				e.taskStopped(arn)
			}
			return nil
		}
		if want == ecsmodel.TaskRunning && st == ecsmodel.TaskStopped {
			e.taskStopped(arn)
			return fmt.Errorf("task %s stopped before RUNNING: %s", arn, aws.ToString(t.StoppedReason))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("task %s: not %s after a minute (%s)", arn, want, st)
		case <-time.After(*probePoll):
		}
	}
}

// timeline reads ecsd's timestamps of the rollout: the service's tasks
// (new: desired RUNNING; old: desired STOPPED) and its events.
func (e *ecsd) timeline(ctx context.Context, since time.Time) (*serverTimeline, []string, error) {
	rel := func(t *time.Time) float64 {
		if t == nil {
			return -1
		}
		return ms3(t.Sub(since))
	}
	span := func(ts []types.Task, f func(types.Task) float64) [2]float64 {
		out := [2]float64{-1, -1}
		for i, t := range ts {
			v := f(t)
			if i == 0 || v < out[0] {
				out[0] = v
			}
			if i == 0 || v > out[1] {
				out[1] = v
			}
		}
		return out
	}
	list := func(desired types.DesiredStatus) ([]types.Task, error) {
		var arns []string
		p := ecs.NewListTasksPaginator(e.api, &ecs.ListTasksInput{Cluster: aws.String(procCluster), ServiceName: aws.String(procService), DesiredStatus: desired})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("ListTasks: %w", err)
			}
			arns = append(arns, out.TaskArns...)
		}
		var tasks []types.Task
		for chunk := range slices.Chunk(arns, 100) {
			out, err := e.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(procCluster), Tasks: chunk})
			if err != nil {
				return nil, fmt.Errorf("DescribeTasks: %w", err)
			}
			tasks = append(tasks, out.Tasks...)
		}
		return tasks, nil
	}
	newTasks, err := list(types.DesiredStatusRunning)
	if err != nil {
		return nil, nil, err
	}
	stopped, err := list(types.DesiredStatusStopped)
	if err != nil {
		return nil, nil, err
	}
	var old []types.Task // the service's tasks stopped by this rollout
	for _, t := range stopped {
		if t.StoppingAt != nil && !t.StoppingAt.Before(since) {
			old = append(old, t)
		}
	}
	tl := &serverTimeline{CompletedEvent: -1}
	tl.NewCreated = span(newTasks, func(t types.Task) float64 { return rel(t.CreatedAt) })
	tl.NewRunning = span(newTasks, func(t types.Task) float64 { return rel(t.StartedAt) })
	tl.NewHealthy = [2]float64{tl.NewRunning[0] + ms3(*healthyAfter), tl.NewRunning[1] + ms3(*healthyAfter)}
	tl.OldStopping = span(old, func(t types.Task) float64 { return rel(t.StoppingAt) })
	tl.OldStopped = span(old, func(t types.Task) float64 { return rel(t.StoppedAt) })
	if len(newTasks) != *procTasks || len(old) != *procTasks {
		benchkit.AddNote("%s: after the rollout %d tasks desired RUNNING and %d stopped by it, want %d and %d", e.name, len(newTasks), len(old), *procTasks, *procTasks)
	}

	out, err := e.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(procCluster), Services: []string{procService}})
	if err != nil || len(out.Services) != 1 {
		return tl, nil, errors.Join(errors.New("DescribeServices"), err)
	}
	var events []string
	evs := out.Services[0].Events
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		at := aws.ToTime(ev.CreatedAt)
		// Event times are truncated to the ms; allow for it.
		if at.Before(since.Truncate(time.Millisecond)) {
			continue
		}
		msg := aws.ToString(ev.Message)
		if strings.Contains(msg, "deployment completed") && tl.CompletedEvent < 0 {
			tl.CompletedEvent = rel(&at)
		}
		events = append(events, fmt.Sprintf("%+9.1fms %s", rel(&at), shorten(msg, 100)))
	}
	return tl, events, nil
}

func printProcess(p *processResult) int {
	code := 0
	fmt.Printf("\n== 3. Rolling update of the demo app on ecsd --runtime process --healthy-after %s: %d tasks, 100/200 ==\n", *healthyAfter, *procTasks)
	fmt.Printf("   (UpdateService v1 → v2; DescribeServices every %s until the PRIMARY deployment is COMPLETED; each repetition on a fresh ecsd.\n", *poll)
	fmt.Printf("    bound = RunTask→RUNNING + healthy-after + StopTask→STOPPED, medians of %d single tasks started and stopped\n", *probes)
	fmt.Printf("    one at a time (DescribeTasks every %s) in the same ecsd just before the update)\n\n", *probePoll)
	if p.Error != "" {
		fmt.Printf("  ERROR: %s\n", p.Error)
		return 1
	}
	fmt.Printf("  %4s %10s %12s %12s %10s %10s %7s %9s %9s %9s %10s\n", "rep", "create", "start (p50)", "stop (p50)", "bound", "rollout", "ratio", "polls", "new run", "old down", "idle CPU")
	for _, r := range p.Runs {
		if r.Error != "" {
			fmt.Printf("  %4d ERROR: %s\n", r.Rep, r.Error)
			code = 1
			continue
		}
		fmt.Printf("  %4d %10s %12s %12s %10s %10s %7.2f %9d %9s %9s %9.1f%%\n", r.Rep, fmtMs(r.CreateMs), fmtMs(r.StartP50), fmtMs(r.StopP50),
			fmtMs(r.BoundMs), fmtMs(r.RolloutMs), r.Ratio, r.Polls, fmtSeen(r.AllNewRunningMs), fmtSeen(r.FirstOldDownMs), r.IdleCPUPct)
	}
	fmt.Println("  (new run / old down: first poll showing the PRIMARY's runningCount at desired / an ACTIVE deployment's below its start;")
	fmt.Println("   idle CPU: ecsd, % of one core over 1 s with the stable service and no requests)")
	for _, r := range p.Runs {
		if r.Error != "" {
			continue
		}
		fmt.Printf("\n  rep %d: single-task start %s ms, stop %s ms; DescribeServices call p50 %s\n", r.Rep, joinMs(r.StartMs), joinMs(r.StopMs), fmtMs(r.DescribeP50Ms))
		if tl := r.Server; tl != nil {
			fmt.Printf("    ecsd's timestamps, ms after UpdateService was sent (first–last of the tasks):\n")
			fmt.Printf("      new tasks created %s, RUNNING %s, healthy %s; old tasks stopping %s, STOPPED %s; \"deployment completed\" event %.0f; seen COMPLETED %.0f\n",
				span(tl.NewCreated), span(tl.NewRunning), span(tl.NewHealthy), span(tl.OldStopping), span(tl.OldStopped), tl.CompletedEvent, r.RolloutMs)
		}
		for _, ev := range r.Events {
			fmt.Println("      " + ev)
		}
	}
	var ratios []float64
	for _, r := range p.Runs {
		if r.Error == "" {
			ratios = append(ratios, r.Ratio)
		}
	}
	if len(ratios) > 0 {
		fmt.Printf("\n  measured/bound: %s (median %.2f)\n", joinF(ratios), median(ratios))
		var obs []float64
		for _, r := range p.Runs {
			if r.Error == "" && r.ObservedRatio > 0 {
				obs = append(obs, r.ObservedRatio)
			}
		}
		if len(obs) > 0 {
			fmt.Printf("  measured/bound with the new tasks' own start (last startedAt + %s + stop p50): %s (median %.2f)\n", *healthyAfter, joinF(obs), median(obs))
		}
	}
	return code
}

func fmtSeen(v float64) string {
	if v < 0 {
		return "not seen"
	}
	return fmtMs(v)
}

func span(s [2]float64) string { return fmt.Sprintf("%.0f–%.0f", s[0], s[1]) }

func joinMs(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(parts, ", ")
}

func joinF(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(parts, ", ")
}
