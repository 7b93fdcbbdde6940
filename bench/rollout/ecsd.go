package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

// ecsd is one running ecsd server (test 3).
type ecsd struct {
	name    string
	url     string
	dataDir string
	log     string
	cmd     *exec.Cmd
	pid     int
	exited  chan struct{}
	api     *ecs.Client

	mu         sync.Mutex
	open       map[string]bool // tasks RunTask started and not yet seen STOPPED
	hasService bool

	once sync.Once
}

// startECSD runs `ecsd server` on a free port with a fresh data dir and
// waits until it accepts connections.
func startECSD(name, bin, tmp string, args ...string) (*ecsd, error) {
	dir, err := os.MkdirTemp(tmp, name+"-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	e := &ecsd{
		name: name, url: "http://127.0.0.1:" + port,
		dataDir: filepath.Join(dir, "data"), log: filepath.Join(dir, "ecsd.log"),
		exited: make(chan struct{}), open: map[string]bool{},
	}
	logf, err := os.Create(e.log)
	if err != nil {
		return nil, err
	}
	e.cmd = exec.Command(bin, append([]string{"server", "--listen", "127.0.0.1:" + port, "--data-dir", e.dataDir, "--region", "us-east-1"}, args...)...)
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
	e.api = ecs.New(ecs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDBENCHEXAMPLE", "bench-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: bufferedBody{http.DefaultTransport.(*http.Transport).Clone()}},
	})
	return e, nil
}

func (e *ecsd) addTask(arn string) {
	e.mu.Lock()
	e.open[arn] = true
	e.mu.Unlock()
}

func (e *ecsd) taskStopped(arn string) {
	e.mu.Lock()
	delete(e.open, arn)
	e.mu.Unlock()
}

// shutdown cleans up: DeleteService (force) and wait until the service is
// INACTIVE, StopTask the extra tasks not seen STOPPED, SIGTERM ecsd (SIGKILL
// after 15 s), then kill demo app processes of this ecsd still running (they
// have their own process groups and outlive ecsd). Anything it had to clean
// up is a note.
func (e *ecsd) shutdown() {
	e.once.Do(func() {
		select {
		case <-e.exited:
			benchkit.AddNote("%s: ecsd had exited on its own (%s); see its log", e.name, e.cmd.ProcessState)
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if e.api != nil && e.hasService {
			if err := e.deleteService(ctx); err != nil {
				benchkit.AddNote("%s cleanup: %v", e.name, err)
			}
		}
		e.mu.Lock()
		var open []string
		for arn := range e.open {
			open = append(open, arn)
		}
		e.mu.Unlock()
		for _, arn := range open {
			if _, err := e.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(procCluster), Task: aws.String(arn), Reason: aws.String("bench/rollout cleanup")}); err != nil {
				benchkit.AddNote("%s cleanup: StopTask: %v", e.name, err)
			} else if err := e.waitTask(ctx, arn, "STOPPED"); err != nil {
				benchkit.AddNote("%s cleanup: %v", e.name, err)
			}
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
	})
}

// deleteService deletes the service with force and waits (bounded by ctx)
// until ecsd reports it INACTIVE, which it does once all its tasks stopped.
func (e *ecsd) deleteService(ctx context.Context) error {
	if _, err := e.api.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(procCluster), Service: aws.String(procService), Force: aws.Bool(true)}); err != nil {
		return fmt.Errorf("DeleteService: %w", err)
	}
	for {
		out, err := e.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(procCluster), Services: []string{procService}})
		if err != nil {
			return fmt.Errorf("DescribeServices after DeleteService: %w", err)
		}
		if len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == "INACTIVE" {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("service not INACTIVE 60s after DeleteService")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuPercent is pid's CPU use (utime+stime) over d, in % of one core.
func cpuPercent(pid int, d time.Duration) (float64, error) {
	a, err := benchkit.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	b, err := benchkit.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	return 100 * float64(b.Ticks-a.Ticks) / benchkit.ClkTck / time.Since(t0).Seconds(), nil
}

// ecsdBinary returns -ecsd, or builds ./cmd/ecsd of this module, statically,
// into dir.
func ecsdBinary(dir string) (string, error) {
	if *ecsdBin != "" {
		return *ecsdBin, nil
	}
	bin := filepath.Join(dir, "ecsd")
	progress("building ./cmd/ecsd (CGO_ENABLED=0) ...")
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the ecsd module, or pass -ecsd BIN")
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/ecsd")
	build.Dir = filepath.Dir(gomod)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ecsd: %w", err)
	}
	return bin, nil
}

// bufferedBody hands the transport an in-memory copy of each request body:
// see bench/tasks (aws/aws-sdk-go-v2#2737: with RetryMaxAttempts 1, about
// one reply in 30 over ~4 KB otherwise fails with "use of closed network
// connection" on loopback).
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

func failures(fs []types.Failure) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
