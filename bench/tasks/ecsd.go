package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const (
	region  = "us-east-1"
	cluster = "bench"
	family  = "bench-demoapp"
)

// ecsd is one running ecsd server and the tasks the benchmark started on it.
type ecsd struct {
	name    string // e.g. "process/latency", for messages
	runtime string
	url     string
	dataDir string
	log     string
	cmd     *exec.Cmd
	pid     int
	exited  chan struct{}
	api     *ecs.Client
	tdArn   string

	mu      sync.Mutex
	started []string        // every task ARN RunTask returned, in order
	open    map[string]bool // started and not yet seen STOPPED

	once sync.Once
}

// startECSD runs `ecsd server` on a free port with a fresh data dir, waits
// until it accepts connections and registers the demo app task definition.
func startECSD(name, rt, bin, tmp string) (*ecsd, error) {
	dir, err := os.MkdirTemp(tmp, strings.ReplaceAll(name, "/", "-")+"-")
	if err != nil {
		return nil, err
	}
	port := freePort()
	e := &ecsd{
		name: name, runtime: rt, url: "http://127.0.0.1:" + port,
		dataDir: filepath.Join(dir, "data"), log: filepath.Join(dir, "ecsd.log"),
		exited: make(chan struct{}), open: map[string]bool{},
	}
	logf, err := os.Create(e.log)
	if err != nil {
		return nil, err
	}
	e.cmd = exec.Command(bin, "server", "--listen", "127.0.0.1:"+port, "--data-dir", e.dataDir,
		"--runtime", rt, "--region", region)
	e.cmd.Stdout, e.cmd.Stderr = logf, logf
	// Own process group, so SIGTERM reaches only ecsd (the demo app tasks
	// have their own groups); killed if this benchmark dies.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := e.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start ecsd: %w", err)
	}
	e.pid = e.cmd.Process.Pid
	go func() { e.cmd.Wait(); logf.Close(); close(e.exited) }()
	benchkit.AtExit(func() { e.shutdown() })

	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("ecsd exited before listening: %s\n%s", e.cmd.ProcessState, tail(e.log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.shutdown()
			return nil, fmt.Errorf("ecsd not listening on %s after 30s\n%s", port, tail(e.log))
		}
	}
	fmt.Printf("%s: ecsd --runtime %s listening on %s (pid %d)\n", name, rt, e.url, e.pid)

	e.api = ecs.New(ecs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(e.url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDBENCHEXAMPLE", "bench-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: bufferedBody{http.DefaultTransport.(*http.Transport).Clone()}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.api.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		e.shutdown()
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
		e.shutdown()
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
		return arns, fmt.Errorf("RunTask count %d: %d tasks, failures %s", count, len(arns), failures(out.Failures))
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
			return nil, fmt.Errorf("DescribeTasks: failures %s", failures(out.Failures))
		}
		all = append(all, out.Tasks...)
	}
	e.mu.Lock()
	for _, t := range all {
		if aws.ToString(t.LastStatus) == "STOPPED" {
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
			case want == "RUNNING" && aws.ToString(t.DesiredStatus) == "STOPPED":
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

// shutdown cleans up: StopTask every task not yet seen STOPPED and wait for it
// (bounded), SIGTERM ecsd (SIGKILL after 15 s), then remove what is left: demo
// app processes of this ecsd (process runtime) or containers labelled with one
// of its task ARNs (docker runtime). Anything it had to clean is a note.
func (e *ecsd) shutdown() {
	e.once.Do(func() {
		select {
		case <-e.exited:
			benchkit.AddNote("%s: ecsd had exited on its own (%s); see its log", e.name, e.cmd.ProcessState)
		default:
			if open := e.openTasks(); len(open) > 0 && e.api != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				if err := e.stopTasks(ctx, open, *stopC); err != nil {
					benchkit.AddNote("%s cleanup: %v", e.name, err)
				}
				if err := e.waitStatus(ctx, open, "STOPPED", 50*time.Millisecond); err != nil {
					benchkit.AddNote("%s cleanup: %v", e.name, err)
				}
				cancel()
			}
			demo := benchkit.DemoProcs(e.pid) // ancestry is lost once ecsd exits
			t0 := time.Now()
			syscall.Kill(e.pid, syscall.SIGTERM)
			select {
			case <-e.exited:
				if d := time.Since(t0); d > 2*time.Second {
					benchkit.AddNote("%s: ecsd took %s to exit on SIGTERM", e.name, d.Round(time.Millisecond))
				}
			case <-time.After(15 * time.Second):
				benchkit.AddNote("%s: ecsd did not exit 15s after SIGTERM; killed", e.name)
				syscall.Kill(e.pid, syscall.SIGKILL)
				<-e.exited
			}
			if len(demo) > 0 {
				killed := 0
				for _, p := range demo {
					if benchkit.SameProcess(p) {
						syscall.Kill(-p.Pid, syscall.SIGKILL) // its own process group
						killed++
					}
				}
				benchkit.AddNote("%s cleanup: %d demo app processes were still running before ecsd stopped; killed %d still alive after", e.name, len(demo), killed)
			}
		}
		if e.runtime == "docker" {
			if n := removeContainers(e.allStarted()); n > 0 {
				benchkit.AddNote("%s cleanup: %d containers of this run were left after ecsd stopped; removed them", e.name, n)
			}
		}
	})
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

// bufferedBody hands the transport a copy of each request body held in
// memory. Without it, about one DescribeTasks in 30 whose reply is larger
// than ~4 KB fails on loopback with "deserialization failed, read tcp ...:
// use of closed network connection": the SDK (smithy-go ClientHandler)
// closes the request body as soon as the response headers arrive, while the
// transport's write loop may still be finishing the request; the write loop
// then fails and closes the connection under the response still being read
// (aws/aws-sdk-go-v2#2737; the SDK's remedy is to retry net.ErrClosed, which
// RetryMaxAttempts 1 turns off). With an in-memory body the race is gone.
type bufferedBody struct{ rt http.RoundTripper }

func (b bufferedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		req.ContentLength = int64(len(data))
	}
	return b.rt.RoundTrip(req)
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

func failures(fs []types.Failure) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		benchkit.Fatal("tasks", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
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
		logPath := filepath.Join(e.dataDir, "process", "tasks", arn[strings.LastIndexByte(arn, '/')+1:], "app.log")
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
	fi, err := os.Stat(filepath.Join(e.dataDir, "ecsd.db"))
	if err != nil {
		return -1
	}
	return fi.Size() / 1024
}
