package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

const (
	region  = "us-east-1"
	cluster = "bench"
	family  = "bench-demoapp"
)

// ecsd is one running ecsd server and the tasks the benchmark started on it.
type ecsd struct {
	*benchkit.ECSD
	name    string // e.g. "process/latency", for messages
	runtime string
	api     *ecs.Client
	tdArn   string

	mu      sync.Mutex
	started []string        // every task ARN RunTask returned, in order
	open    map[string]bool // started and not yet seen STOPPED
}

// startECSD runs `ecsd server` on a free port with a fresh data dir, waits
// until it accepts connections and registers the demo app task definition.
func startECSD(name, rt, bin, tmp string) (*ecsd, error) {
	e := &ecsd{name: name, runtime: rt, open: map[string]bool{}}
	var err error
	e.ECSD, err = benchkit.StartECSD(benchkit.ECSDOpts{
		Bin: bin, Name: name, Dir: tmp, Args: []string{"--runtime", rt, "--region", region},
		BeforeStop: e.stopOpenTasks, AfterStop: e.removeLeftContainers,
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("%s: ecsd --runtime %s listening on %s (pid %d)\n", name, rt, e.Endpoint, e.Pid)

	e.api = benchkit.NewECSClient(e.Endpoint, region)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.api.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		e.Stop()
		return nil, fmt.Errorf("CreateCluster: %w", err)
	}
	td, err := e.api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("app"),
			Image:        aws.String(*image),
			Memory:       aws.Int32(64),
			Essential:    aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
			Environment:  []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String("v1")}},
		}},
	})
	if err != nil {
		e.Stop()
		return nil, fmt.Errorf("RegisterTaskDefinition: %w", err)
	}
	e.tdArn = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	return e, nil
}

// runTasks calls RunTask for count tasks and returns their ARNs.
func (e *ecsd) runTasks(ctx context.Context, count int) ([]string, error) {
	out, err := e.api.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(cluster), TaskDefinition: aws.String(e.tdArn), Count: aws.Int32(int32(count)),
	})
	if err != nil {
		return nil, fmt.Errorf("RunTask: %w", err)
	}
	var arns []string
	for _, t := range out.Tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	e.mu.Lock()
	e.started = append(e.started, arns...)
	for _, a := range arns {
		e.open[a] = true
	}
	e.mu.Unlock()
	if len(out.Failures) > 0 || len(arns) != count {
		return arns, fmt.Errorf("RunTask count %d: %d tasks, failures %s", count, len(arns), benchkit.Failures(out.Failures))
	}
	return arns, nil
}

// describe returns the tasks of arns (DescribeTasks, 100 at a time), in the
// order ecsd answers, and notes the ones that reached STOPPED.
func (e *ecsd) describe(ctx context.Context, arns []string) ([]types.Task, error) {
	var all []types.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := e.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: chunk})
		if err != nil {
			return nil, fmt.Errorf("DescribeTasks: %w", err)
		}
		if len(out.Failures) > 0 {
			return nil, fmt.Errorf("DescribeTasks: failures %s", benchkit.Failures(out.Failures))
		}
		all = append(all, out.Tasks...)
	}
	e.mu.Lock()
	for _, t := range all {
		if aws.ToString(t.LastStatus) == ecsmodel.TaskStopped {
			delete(e.open, aws.ToString(t.TaskArn))
		}
	}
	e.mu.Unlock()
	return all, nil
}

// stopTasks calls StopTask for every ARN, `workers` calls at a time.
func (e *ecsd) stopTasks(ctx context.Context, arns []string, workers int) error {
	next := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for arn := range next {
				_, err := e.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String("bench/tasks")})
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("StopTask %s: %w", arn, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, a := range arns {
		next <- a
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d StopTask errors, first: %w", len(errs), errs[0])
	}
	return nil
}

// waitStatus polls DescribeTasks every interval until every task in arns has
// lastStatus want. A task that stops while waiting for RUNNING is an error.
func (e *ecsd) waitStatus(ctx context.Context, arns []string, want string, interval time.Duration) error {
	for {
		tasks, err := e.describe(ctx, arns)
		if err != nil {
			return err
		}
		done := 0
		for _, t := range tasks {
			switch st := aws.ToString(t.LastStatus); {
			case st == want:
				done++
			case want == ecsmodel.TaskRunning && aws.ToString(t.DesiredStatus) == ecsmodel.TaskStopped:
				return fmt.Errorf("task %s stopped before RUNNING (%s): %s", aws.ToString(t.TaskArn), st, e.whyStopped(t))
			}
		}
		if done == len(arns) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %d of %d after the timeout: %w", want, done, len(arns), ctx.Err())
		case <-time.After(interval):
		}
	}
}

func (e *ecsd) openTasks() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, a := range e.started { // keep RunTask order
		if e.open[a] {
			out = append(out, a)
		}
	}
	return out
}

func (e *ecsd) allStarted() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.started)
}

// stopOpenTasks, before ecsd stops: StopTask every task not yet seen
// STOPPED and wait for it (bounded by ctx). Stop then removes what is left:
// demo app processes of this ecsd (process runtime) or, in removeLeftContainers,
// containers labelled with one of its task ARNs (docker runtime).
func (e *ecsd) stopOpenTasks(ctx context.Context) {
	if open := e.openTasks(); len(open) > 0 && e.api != nil {
		if err := e.stopTasks(ctx, open, *stopC); err != nil {
			benchkit.AddNote("%s cleanup: %v", e.name, err)
		}
		if err := e.waitStatus(ctx, open, ecsmodel.TaskStopped, 50*time.Millisecond); err != nil {
			benchkit.AddNote("%s cleanup: %v", e.name, err)
		}
	}
}

// removeLeftContainers, after ecsd stopped (docker runtime): force-removes the
// containers of the tasks it started.
func (e *ecsd) removeLeftContainers() {
	if e.runtime == "docker" {
		if n := removeContainers(e.allStarted()); n > 0 {
			benchkit.AddNote("%s cleanup: %d containers of this run were left after ecsd stopped; removed them", e.name, n)
		}
	}
}

// removeContainers force-removes the containers labelled with one of arns and
// returns how many there were.
func removeContainers(arns []string) int {
	if len(arns) == 0 {
		return 0
	}
	mine := map[string]bool{}
	for _, a := range arns {
		mine[a] = true
	}
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label="+labelTaskARN,
		"--format", `{{.ID}} {{.Label "`+labelTaskARN+`"}}`).Output()
	if err != nil {
		benchkit.AddNote("docker ps: %v", err)
		return 0
	}
	var ids []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		id, arn, ok := strings.Cut(line, " ")
		if ok && mine[arn] {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		if b, err := exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).CombinedOutput(); err != nil {
			benchkit.AddNote("docker rm -f: %v: %s", err, b)
		}
	}
	return len(ids)
}

const (
	labelTaskARN  = "com.ecsd.task-arn"
	labelInstance = "com.ecsd.instance"
)

// httpGet reports whether GET / on 127.0.0.1:port answers 200 "v1".
func httpGet(port int32) bool {
	resp, err := httpClient.Get("http://127.0.0.1:" + strconv.Itoa(int(port)) + "/")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return err == nil && resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == "v1"
}

// One connection per probe: keeping hundreds of idle connections to the demo
// apps open would change what is measured.
var httpClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// hostPort is the first host port in a task's network bindings (0: none yet).
func hostPort(t types.Task) int32 {
	for _, c := range t.Containers {
		for _, b := range c.NetworkBindings {
			if p := aws.ToInt32(b.HostPort); p != 0 {
				return p
			}
		}
	}
	return 0
}

// whyStopped describes a task that stopped: its reason, its container's exit
// code and reason and, on the process runtime, the end of the container's log.
func (e *ecsd) whyStopped(t types.Task) string {
	msg := aws.ToString(t.StoppedReason)
	for _, c := range t.Containers {
		if c.ExitCode != nil {
			msg += fmt.Sprintf("; container %s exit code %d", aws.ToString(c.Name), *c.ExitCode)
		}
		if r := aws.ToString(c.Reason); r != "" {
			msg += "; " + r
		}
	}
	if e.runtime == "docker" && strings.Contains(msg, "exit code 0") && !strings.Contains(msg, "bench/tasks") {
		msg += " (a clean exit nobody here asked for: an ecsd --runtime docker starting on the same engine " +
			"stops the containers of every other ecsd, as they all carry com.ecsd.instance=default)"
	}
	if e.runtime == "process" {
		arn := aws.ToString(t.TaskArn)
		logPath := filepath.Join(e.DataDir, "process", "tasks", arn[strings.LastIndexByte(arn, '/')+1:], "app.log")
		if b, err := os.ReadFile(logPath); err == nil {
			if len(b) > 600 {
				b = b[len(b)-600:]
			}
			msg += "; end of its log:\n" + strings.TrimSpace(string(b))
		}
	}
	return msg
}

// dbSizeKiB is the size of ecsd's state file.
func (e *ecsd) dbSizeKiB() int64 {
	fi, err := os.Stat(filepath.Join(e.DataDir, "ecsd.db"))
	if err != nil {
		return -1
	}
	return fi.Size() / 1024
}
