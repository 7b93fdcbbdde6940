package process

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ecsd/ecsd/internal/demoapp"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/drivertest"
)

// TestMain lets the test binary act as `ecsd demoapp`, the default
// DemoCommand (os.Executable() + "demoapp").
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "demoapp" {
		os.Exit(demoapp.Main(os.Args[2:]))
	}
	os.Exit(m.Run())
}

const arn = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef"

// Real processes need real (short) durations; nothing asserts on them.
const (
	interval    = 100 * time.Millisecond
	stopTimeout = 500 * time.Millisecond
)

func newDriver(t *testing.T, dataDir string) (*Driver, *drivertest.Recorder) {
	t.Helper()
	rec := drivertest.NewRecorder()
	d, err := New(rec.Sink, Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		killStarted(rec)
	})
	return d, rec
}

// killStarted kills every process group the recorder saw start.
func killStarted(rec *drivertest.Recorder) {
	for _, ev := range rec.Filter(drivertest.Match{Kind: driver.Started}) {
		if pid, err := strconv.Atoi(strings.TrimPrefix(ev.RuntimeID, "pid:")); err == nil {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// demoSpec is one essential demo-app container with a fast health check.
func demoSpec(taskARN string, env map[string]string) driver.TaskSpec {
	e := map[string]string{"VERSION": "v1", "GORACE": "atexit_sleep_ms=0"}
	for k, v := range env {
		e[k] = v
	}
	return driver.TaskSpec{
		TaskARN: taskARN, Cluster: "default", Family: "web", Revision: 1,
		Containers: []driver.ContainerSpec{{
			Name: "web", Image: "ecsd/demoapp:v1", Essential: true,
			Environment:  e,
			PortMappings: []driver.PortMapping{{ContainerPort: 8080}},
			StopTimeout:  stopTimeout,
			HealthCheck: &driver.HealthCheck{
				Command:  []string{"CMD-SHELL", "/ecsd demoapp check"},
				Interval: interval, Timeout: 2 * time.Second, Retries: 2,
			},
		}},
	}
}

func get(t *testing.T, b driver.NetworkBinding, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + b.BindIP + ":" + strconv.Itoa(int(b.HostPort)) + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func match(taskARN string, kind driver.EventKind) drivertest.Match {
	return drivertest.Match{TaskARN: taskARN, Kind: kind}
}

func TestServeHealthyAndStop(t *testing.T) {
	dir := t.TempDir()
	d, rec := newDriver(t, dir)
	ctx := context.Background()
	if err := d.Start(ctx, demoSpec(arn, nil)); err != nil {
		t.Fatal(err)
	}
	started := rec.Require(t, match(arn, driver.Started))
	if len(started.Bindings) != 1 || started.Bindings[0].BindIP != "127.0.0.1" || started.Bindings[0].ContainerPort != 8080 ||
		started.Bindings[0].HostPort == 0 || !strings.HasPrefix(started.RuntimeID, "pid:") || started.Health != driver.HealthUnknown {
		t.Fatalf("Started = %v", started)
	}
	rec.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.HealthChanged, Health: driver.HealthHealthy})
	if code, body := get(t, started.Bindings[0], "/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if err := d.Start(ctx, demoSpec(arn, nil)); !errors.Is(err, driver.ErrTaskExists) {
		t.Fatalf("duplicate Start: %v", err)
	}
	if err := d.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	exit := rec.Require(t, match(arn, driver.Exited))
	if exit.ExitCode == nil || *exit.ExitCode != 0 {
		t.Fatalf("Exited = %v", exit)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
	kinds := rec.Kinds(drivertest.Match{TaskARN: arn, Container: "web"})
	want := []driver.EventKind{driver.PullStarted, driver.PullStopped, driver.Started, driver.HealthChanged, driver.Exited}
	if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(want), ",") {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	taskDir := filepath.Join(dir, "tasks", driver.TaskID(arn))
	if _, err := os.Stat(filepath.Join(taskDir, "state.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file left behind: %v", err)
	}
	log, err := os.ReadFile(filepath.Join(taskDir, "web.log"))
	if err != nil || !strings.Contains(string(log), "msg=listening") {
		t.Fatalf("container log: %v\n%s", err, log)
	}
	if err := d.Stop(ctx, arn); !errors.Is(err, driver.ErrUnknownTask) {
		t.Fatalf("Stop after TaskStopped: %v", err)
	}
}

func kindStrings(ks []driver.EventKind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestCrashAtOnce(t *testing.T) {
	d, rec := newDriver(t, t.TempDir())
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_CRASH_AFTER": "0s"}))
	ev := rec.Require(t, match(arn, driver.Exited))
	if ev.ExitCode == nil || *ev.ExitCode != 1 {
		t.Fatalf("Exited = %v", ev)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
	if _, ok := rec.Find(match(arn, driver.Started)); !ok {
		t.Fatal("no Started before Exited")
	}
}

func TestIgnoreSIGTERMIsKilled(t *testing.T) {
	d, rec := newDriver(t, t.TempDir())
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_IGNORE_SIGTERM": "1"}))
	// Healthy means serving, so the app's SIGTERM handler is installed.
	rec.Require(t, drivertest.Match{TaskARN: arn, Health: driver.HealthHealthy})
	d.Stop(context.Background(), arn)
	ev := rec.Require(t, match(arn, driver.Exited))
	if ev.ExitCode == nil || *ev.ExitCode != 137 || !strings.Contains(ev.Reason, "SIGKILL") {
		t.Fatalf("Exited = %v", ev)
	}
}

func TestUnhealthy(t *testing.T) {
	d, rec := newDriver(t, t.TempDir())
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_HEALTH": "fail"}))
	rec.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.HealthChanged, Health: driver.HealthUnhealthy})
	if _, ok := rec.Find(drivertest.Match{Health: driver.HealthHealthy}); ok {
		t.Fatal("was healthy")
	}
	d.Stop(context.Background(), arn)
	rec.Require(t, match(arn, driver.TaskStopped))
}

func TestCommandsDependenciesAndFailures(t *testing.T) {
	d, rec := newDriver(t, t.TempDir())
	spec := driver.TaskSpec{TaskARN: arn, Containers: []driver.ContainerSpec{
		{Name: "init", EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{`echo "init $GREETING from $PWD"`},
			Environment: map[string]string{"GREETING": "hello"}, WorkingDirectory: "/"},
		{Name: "app", Essential: true, EntryPoint: []string{"sh", "-c", `test -z "$HOME" && exit 3`},
			DependsOn:   []driver.Dependency{{ContainerName: "init", Condition: driver.ConditionSuccess}},
			HealthCheck: &driver.HealthCheck{Command: []string{"CMD", "true"}, Interval: time.Hour}},
	}}
	if err := d.Start(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
	var exits []string
	for _, ev := range rec.Filter(match(arn, driver.Exited)) {
		exits = append(exits, ev.Container+"="+strconv.Itoa(int(*ev.ExitCode)))
	}
	// init ran first and succeeded; app saw only the given env (no HOME).
	if strings.Join(exits, " ") != "init=0 app=3" {
		t.Fatalf("exits %v\n%s", exits, rec.Dump())
	}
	log, _ := os.ReadFile(filepath.Join(d.dataDir, "tasks", driver.TaskID(arn), "init.log"))
	if string(log) != "init hello from /\n" {
		t.Fatalf("init.log = %q", log)
	}

	// A missing executable fails to start; the essential failure stops the task.
	bad := driver.TaskSpec{TaskARN: arn + "-bad", Containers: []driver.ContainerSpec{
		{Name: "x", Essential: true, Image: "busybox", Command: []string{"no-such-binary-ecsd"}},
	}}
	d.Start(context.Background(), bad)
	ev := rec.Require(t, match(bad.TaskARN, driver.StartFailed))
	if !strings.HasPrefix(ev.Reason, "CannotStartContainerError: ") {
		t.Fatalf("reason %q", ev.Reason)
	}
	rec.Require(t, match(bad.TaskARN, driver.TaskStopped))

	if err := d.Start(context.Background(), driver.TaskSpec{TaskARN: "x"}); err == nil {
		t.Fatal("invalid spec accepted")
	}
}

// waitGone blocks until pid has exited (it need not be our child).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // already gone
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, int(drivertest.SafetyTimeout.Milliseconds())); err != unix.EINTR {
			return
		}
	}
}

func pidOf(ev driver.Event) int {
	pid, _ := strconv.Atoi(strings.TrimPrefix(ev.RuntimeID, "pid:"))
	return pid
}

func TestRecoverAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d1, rec1 := newDriver(t, dir)
	lostARN := arn + "-lost"
	d1.Start(ctx, demoSpec(arn, nil))
	d1.Start(ctx, demoSpec(lostARN, nil))
	started := rec1.Require(t, match(arn, driver.Started))
	rec1.Require(t, drivertest.Match{TaskARN: arn, Health: driver.HealthHealthy})
	lostStarted := rec1.Require(t, match(lostARN, driver.Started))
	d1.Close() // "ecsd stops": the processes keep running

	// One task dies while no driver watches.
	syscall.Kill(-pidOf(lostStarted), syscall.SIGKILL)
	waitGone(t, pidOf(lostStarted))

	d2, rec2 := newDriver(t, dir)
	got, err := d2.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]driver.Recovered{}
	for _, r := range got {
		byARN[r.Spec.TaskARN] = r
	}
	if len(got) != 2 {
		t.Fatalf("recovered %d tasks: %+v", len(got), got)
	}
	r := byARN[arn]
	c := r.Containers[0]
	if r.Lost || c.Status != driver.StatusRunning || c.RuntimeID != started.RuntimeID ||
		len(c.Bindings) != 1 || c.Bindings[0] != started.Bindings[0] || c.Health != driver.HealthHealthy {
		t.Fatalf("recovered %+v", r)
	}
	if r.Spec.Family != "web" || r.Spec.Containers[0].HealthCheck == nil {
		t.Fatalf("recovered spec %+v", r.Spec)
	}
	if l := byARN[lostARN]; !l.Lost || l.Containers[0].Status != driver.StatusStopped {
		t.Fatalf("lost task %+v", l)
	}
	if code, body := get(t, c.Bindings[0], "/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if again, _ := d2.Recover(ctx); len(again) != 0 {
		t.Fatalf("second Recover: %+v", again)
	}

	// The new driver controls the adopted task.
	if err := d2.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	ev := rec2.Require(t, match(arn, driver.Exited))
	if ev.ExitCode != nil || !strings.Contains(ev.Reason, "unknown") {
		t.Fatalf("Exited = %v", ev)
	}
	rec2.Require(t, match(arn, driver.TaskStopped))
	if n := len(rec1.Filter(match(arn, driver.Exited))); n != 0 {
		t.Fatal("closed driver reported an exit")
	}
}

func TestRecoverResumesHealthChecks(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d1, _ := newDriver(t, dir)
	spec := demoSpec(arn, nil)
	// Healthy when recovered: the check starts failing only then.
	marker := filepath.Join(dir, "fail")
	spec.Containers[0].HealthCheck.Command = []string{"CMD-SHELL", "test ! -e " + marker}
	d1.Start(ctx, spec)
	d1.Close()

	d2, rec2 := newDriver(t, dir)
	if got, err := d2.Recover(ctx); err != nil || len(got) != 1 {
		t.Fatalf("Recover = %+v, %v", got, err)
	}
	os.WriteFile(marker, nil, 0o644)
	rec2.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.HealthChanged, Health: driver.HealthUnhealthy})
	d2.Stop(ctx, arn)
	rec2.Require(t, match(arn, driver.TaskStopped))
}
