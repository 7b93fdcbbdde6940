package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// latencyResult is the start-latency test of one runtime.
type latencyResult struct {
	Runtime string `json:"runtime"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	// Figures over the tasks in the percentiles (docker: all but the first).
	RunTaskCall stats `json:"runtask_call"`       // the RunTask call itself
	Running     stats `json:"runtask_to_running"` // RunTask sent → DescribeTasks shows RUNNING
	HTTP        stats `json:"runtask_to_http"`    // RunTask sent → first GET / answered 200 "v1"
	Stop        stats `json:"stoptask_to_stopped"`
	// First is the first docker task, which builds the demo image.
	First *firstTask `json:"first_task,omitempty"`
	// StatesSeen counts, per lastStatus, the tasks in which a poll saw it.
	StatesSeen map[string]int `json:"states_seen"`
	// OutOfOrder counts tasks whose polled lastStatus went backwards.
	OutOfOrder int `json:"out_of_order"`
	// HTTPBeforeRunning counts tasks that answered GET / before a poll saw
	// RUNNING; RunningBeforeHTTP tasks were RUNNING while GET still failed.
	HTTPBeforeRunning int `json:"http_before_running"`
	RunningBeforeHTTP int `json:"running_before_http"`
}

type firstTask struct {
	Note          string  `json:"note"`
	RunTaskCallMs float64 `json:"runtask_call_ms"`
	RunningMs     float64 `json:"runtask_to_running_ms"`
	HTTPMs        float64 `json:"runtask_to_http_ms"`
	StopMs        float64 `json:"stoptask_to_stopped_ms"`
}

// sample is one task of the latency test.
type sample struct {
	call, running, http, stop time.Duration
	states                    []string // distinct consecutive lastStatus values polled
	runningFirst              bool     // a GET failed while RUNNING was already shown
}

var statusOrder = map[string]int{ecsmodel.TaskProvisioning: 0, ecsmodel.TaskPending: 1, ecsmodel.TaskActivating: 2, ecsmodel.TaskRunning: 3}

// latencyPhase starts -n tasks one at a time on a fresh ecsd of runtime rt.
func latencyPhase(rt, bin, tmp string) latencyResult {
	res := latencyResult{Runtime: rt, StatesSeen: map[string]int{}}
	firstNote := ""
	switch rt {
	case "process":
	case "docker":
		skip, note, cleanup := dockerPreflight()
		if skip != "" {
			res.Skipped = skip
			fmt.Printf("docker: skipped: %s\n", skip)
			return res
		}
		defer cleanup()
		firstNote = note
	default:
		res.Skipped = "unknown runtime (use process or docker)"
		fmt.Printf("%s: skipped: %s\n", rt, res.Skipped)
		return res
	}
	e, err := startECSD(rt+"/latency", rt, bin, tmp)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer e.Stop()

	var samples []sample
	for i := range *nStarts {
		timeout := *taskTimeout
		if i == 0 && rt == "docker" {
			timeout += 5 * time.Minute // builds the image
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		s, err := startOne(ctx, e)
		cancel()
		if err != nil {
			res.Error = fmt.Sprintf("task %d of %d: %v", i+1, *nStarts, err)
			benchkit.WaitIfInterrupted()
			fmt.Printf("%s/latency: %s\n", rt, res.Error)
			break
		}
		seen := map[string]bool{}
		for j, st := range s.states {
			if !seen[st] {
				seen[st] = true
				res.StatesSeen[st]++
			}
			if j > 0 && statusOrder[st] < statusOrder[s.states[j-1]] {
				res.OutOfOrder++
				benchkit.AddNote("%s/latency: task %d: lastStatus went backwards: %s", rt, i+1, strings.Join(s.states, " → "))
			}
		}
		if s.http < s.running {
			res.HTTPBeforeRunning++
		}
		if s.runningFirst {
			res.RunningBeforeHTTP++
		}
		if i == 0 && rt == "docker" {
			res.First = &firstTask{Note: firstNote, RunTaskCallMs: ms(s.call), RunningMs: ms(s.running), HTTPMs: ms(s.http), StopMs: ms(s.stop)}
			fmt.Printf("%s/latency: first task (%s): RUNNING after %s, HTTP after %s\n", rt, firstNote, fmtDur(s.running), fmtDur(s.http))
			continue
		}
		samples = append(samples, s)
		if (i+1)%10 == 0 {
			fmt.Printf("%s/latency: %d/%d tasks\n", rt, i+1, *nStarts)
		}
	}
	pick := func(f func(sample) time.Duration) stats {
		var ds []time.Duration
		for _, s := range samples {
			ds = append(ds, f(s))
		}
		return statsOf(ds)
	}
	res.RunTaskCall = pick(func(s sample) time.Duration { return s.call })
	res.Running = pick(func(s sample) time.Duration { return s.running })
	res.HTTP = pick(func(s sample) time.Duration { return s.http })
	res.Stop = pick(func(s sample) time.Duration { return s.stop })
	return res
}

// startOne runs one task and follows it: DescribeTasks every -poll until
// RUNNING and, as soon as a host port is bound, GET / on it until it answers;
// then StopTask and DescribeTasks until STOPPED. Times are taken when the
// reply showing the change arrives, so each is late by up to one poll
// interval plus one DescribeTasks call.
func startOne(ctx context.Context, e *ecsd) (sample, error) {
	var s sample
	t0 := time.Now()
	arns, err := e.runTasks(ctx, 1)
	if err != nil {
		return s, err
	}
	s.call = time.Since(t0)
	var port int32
	last := ""
	for s.running == 0 || s.http == 0 {
		tasks, err := e.describe(ctx, arns)
		if err != nil {
			return s, err
		}
		t := tasks[0]
		last = aws.ToString(t.LastStatus)
		if n := len(s.states); n == 0 || s.states[n-1] != last {
			s.states = append(s.states, last)
		}
		if aws.ToString(t.DesiredStatus) == ecsmodel.TaskStopped {
			return s, fmt.Errorf("task %s stopped (%s): %s", arns[0], last, e.whyStopped(t))
		}
		if last == ecsmodel.TaskRunning && s.running == 0 {
			s.running = time.Since(t0)
		}
		if port == 0 {
			port = hostPort(t)
		}
		if port != 0 && s.http == 0 {
			if httpGet(port) {
				s.http = time.Since(t0)
			} else if s.running != 0 {
				s.runningFirst = true
			}
		}
		if s.running != 0 && s.http != 0 {
			break
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("task %s: lastStatus %s, host port %d, HTTP ok %v when the %s timeout hit", arns[0], last, port, s.http != 0, *taskTimeout)
		case <-time.After(*poll):
		}
	}
	t1 := time.Now()
	if _, err := e.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arns[0])}); err != nil {
		return s, fmt.Errorf("StopTask: %w", err)
	}
	if err := e.waitStatus(ctx, arns, ecsmodel.TaskStopped, *poll); err != nil {
		return s, err
	}
	s.stop = time.Since(t1)
	return s, nil
}

// dockerPreflight decides whether the docker test can run. skip says why
// not. note describes what the first task will include; cleanup removes the
// demo image afterwards if it was not there before the run.
func dockerPreflight() (skip, note string, cleanup func()) {
	cleanup = func() {}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Sprintf("`docker info` failed: %v: %s", err, firstLine(string(out))), "", cleanup
	}
	out, err := exec.Command("docker", "ps", "-a", "-q", "--filter", "label="+labelInstance).Output()
	if err != nil {
		return fmt.Sprintf("docker ps: %v", err), "", cleanup
	}
	if n := len(strings.Fields(string(out))); n > 0 && !*forceDocker {
		return fmt.Sprintf("%d containers of another ecsd are on this engine (label %s); "+
			"ecsd --runtime docker stops, at startup, every such container its store does not know, "+
			"so this test would stop them (pass -force-docker to run anyway)", n, labelInstance), "", cleanup
	}
	existed := exec.Command("docker", "image", "inspect", *image).Run() == nil
	switch {
	case !*rebuildImage && existed:
		note = "image " + *image + " already present: no build"
	case !existed:
		note = "includes building " + *image
	default:
		if b, err := exec.Command("docker", "image", "rm", *image).CombinedOutput(); err != nil {
			note = fmt.Sprintf("could not remove %s (%s): no build", *image, firstLine(string(b)))
		} else {
			note = "includes building " + *image
		}
	}
	if !existed {
		var once sync.Once
		cleanup = func() { once.Do(func() { exec.Command("docker", "image", "rm", *image).Run() }) }
		benchkit.AtExit(cleanup) // also on Ctrl-C; registered before ecsd's, so it runs after
	}
	return "", note, cleanup
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
