package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

// demoTask registers a demoapp task definition with env knobs and runs it.
func demoTask(t *testing.T, c *ecs.Client, family string, env map[string]string, health bool, stopTimeout int32) string {
	t.Helper()
	ctx := context.Background()
	def := types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("ecsd/demoapp:test"), Memory: aws.Int32(64), Essential: aws.Bool(true),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		StopTimeout:  aws.Int32(stopTimeout),
	}
	for k, v := range env {
		def.Environment = append(def.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	if health {
		def.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/ecsd", "demoapp", "check"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{def}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// waitTask polls DescribeTasks until cond holds (real processes take real
// time to start and stop; the test asserts states, never durations).
func waitTask(t *testing.T, c *ecs.Client, arn, what string, cond func(types.Task) bool) types.Task {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last types.Task
	for time.Now().Before(deadline) {
		out, err := c.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 {
			last = out.Tasks[0]
			if cond(last) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("task %s never became %s; last seen %s/%s stop %s %q", arn, what, aws.ToString(last.LastStatus), aws.ToString(last.DesiredStatus), last.StopCode, aws.ToString(last.StoppedReason))
	return last
}

func isStatus(s string) func(types.Task) bool {
	return func(t types.Task) bool { return aws.ToString(t.LastStatus) == s }
}

// noKeepAlive never reuses connections: task ports are reused by later
// tasks, and a kept-alive connection to an earlier task's port is dead.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// get fetches url. A task is RUNNING once its process or container runs,
// which can be a moment before the app listens, so connection errors are
// retried for a while.
func get(t *testing.T, url string) string {
	t.Helper()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err = noKeepAlive.Get(url)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func hostPort(task types.Task) int32 {
	if len(task.Containers) == 0 || len(task.Containers[0].NetworkBindings) == 0 {
		return 0
	}
	return aws.ToInt32(task.Containers[0].NetworkBindings[0].HostPort)
}

func dockerAvailable(t *testing.T) {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers (docker info failed); skipping the docker runtime scenarios")
	}
}

// TestTasksRunForReal runs the demo app under each runtime through the ECS
// API: the lifecycle scenarios of a real workload.
func TestTasksRunForReal(t *testing.T) {
	for _, rt := range []string{"process", "docker"} {
		t.Run(rt, func(t *testing.T) {
			if testing.Short() {
				t.Skip("-short: skipping real workloads")
			}
			if rt == "docker" {
				dockerAvailable(t)
			}
			t.Parallel()
			p := startECSD(t, ecsdproc.Options{Runtime: rt, NoFsync: true})
			c := p.client()
			ctx := context.Background()

			good := demoTask(t, c, "good", map[string]string{"VERSION": "v1"}, true, 5)
			crash := demoTask(t, c, "crash", map[string]string{"DEMO_CRASH_AFTER": "1s"}, false, 5)
			stubborn := demoTask(t, c, "stubborn", map[string]string{"DEMO_IGNORE_SIGTERM": "1"}, false, 2)
			sick := demoTask(t, c, "sick", map[string]string{"DEMO_HEALTH": "fail"}, true, 5)

			task := waitTask(t, c, good, "RUNNING", isStatus("RUNNING"))
			if port := hostPort(task); port == 0 {
				t.Fatalf("no host port: %+v", task.Containers)
			} else if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "v1" {
				t.Fatalf("GET / answered %q, want v1", got)
			}
			for _, ts := range []*time.Time{task.CreatedAt, task.PullStartedAt, task.PullStoppedAt, task.StartedAt} {
				if ts == nil {
					t.Fatalf("running task lacks a timestamp: %+v", task)
				}
			}
			waitTask(t, c, good, "HEALTHY", func(t types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })

			task = waitTask(t, c, crash, "STOPPED", isStatus("STOPPED"))
			if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" || aws.ToInt32(task.Containers[0].ExitCode) != 1 {
				t.Errorf("crash: %s %q exit %v", task.StopCode, aws.ToString(task.StoppedReason), task.Containers[0].ExitCode)
			}

			waitTask(t, c, sick, "UNHEALTHY", func(t types.Task) bool { return t.HealthStatus == types.HealthStatusUnhealthy })

			waitTask(t, c, stubborn, "RUNNING", isStatus("RUNNING"))
			for _, arn := range []string{good, stubborn} {
				if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
					t.Fatal(err)
				}
			}
			task = waitTask(t, c, good, "STOPPED", isStatus("STOPPED"))
			if task.StopCode != types.TaskStopCodeUserInitiated || task.Containers[0].ExitCode == nil || *task.Containers[0].ExitCode != 0 {
				t.Errorf("stopped by user: %s exit %v", task.StopCode, task.Containers[0].ExitCode)
			}
			task = waitTask(t, c, stubborn, "STOPPED", isStatus("STOPPED"))
			if aws.ToInt32(task.Containers[0].ExitCode) != 137 {
				t.Errorf("ignoring SIGTERM: exit %v, want 137 (SIGKILL after stopTimeout)", task.Containers[0].ExitCode)
			}
			if task.StoppingAt == nil || task.StoppedAt == nil || task.StoppedAt.Sub(*task.StoppingAt) < 2*time.Second {
				t.Errorf("ignoring SIGTERM: stopped %v after stopping %v; the kill must wait for stopTimeout", task.StoppedAt, task.StoppingAt)
			}
		})
	}
}

// TestRestartReadoptsTasks kills ecsd with -9 while tasks run, restarts it,
// and checks DescribeTasks agrees with reality.
func TestRestartReadoptsTasks(t *testing.T) {
	for _, rt := range []string{"process", "docker"} {
		t.Run(rt, func(t *testing.T) {
			if testing.Short() {
				t.Skip("-short: skipping real workloads")
			}
			if rt == "docker" {
				dockerAvailable(t)
			}
			t.Parallel()
			// fsync on: what survives the kill is what this tests.
			p := startECSD(t, ecsdproc.Options{Runtime: rt})
			c := p.client()
			keep := demoTask(t, c, "keep", map[string]string{"VERSION": "kept"}, false, 2)
			dies := demoTask(t, c, "dies", map[string]string{"VERSION": "dies"}, false, 2)
			before := waitTask(t, c, keep, "RUNNING", isStatus("RUNNING"))
			doomed := waitTask(t, c, dies, "RUNNING", isStatus("RUNNING"))

			p.Kill()
			// While ecsd is down, one task's workload goes away.
			killWorkload(t, rt, doomed)

			p.restart(t)
			c = p.client()
			after := waitTask(t, c, keep, "RUNNING", isStatus("RUNNING"))
			if hostPort(after) != hostPort(before) || get(t, fmt.Sprintf("http://127.0.0.1:%d/", hostPort(after))) != "kept" {
				t.Fatalf("re-adopted task: port %d (was %d)", hostPort(after), hostPort(before))
			}
			gone := waitTask(t, c, dies, "STOPPED", isStatus("STOPPED"))
			if gone.StoppedAt == nil {
				t.Fatalf("lost task: %+v", gone)
			}
			// The re-adopted task is still under ecsd's control.
			if _, err := c.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(keep)}); err != nil {
				t.Fatal(err)
			}
			waitTask(t, c, keep, "STOPPED", isStatus("STOPPED"))
		})
	}
}

// killWorkload makes a task's workload disappear behind ecsd's back.
func killWorkload(t *testing.T, rt string, task types.Task) {
	t.Helper()
	id := aws.ToString(task.Containers[0].RuntimeId)
	switch rt {
	case "docker":
		if out, err := exec.Command("docker", "rm", "-f", id).CombinedOutput(); err != nil {
			t.Fatalf("docker rm: %v %s", err, out)
		}
	case "process":
		var pid int
		if _, err := fmt.Sscanf(id, "pid:%d", &pid); err != nil {
			t.Fatalf("runtime id %q: %v", id, err)
		}
		syscall.Kill(-pid, syscall.SIGKILL)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
