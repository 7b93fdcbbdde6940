package docker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/drivertest"
)

// These tests run against the real Docker engine and skip when it does not
// answer. No registry is needed: the demo image is imported from a static
// build of testdata/demoapp.

var (
	setupOnce sync.Once
	setupErr  error
	skipMsg   string
	testCli   *client.Client
	demoBin   string // static demo binary
	demoImage = fmt.Sprintf("ecsd/demoapp:test-%d", os.Getpid())
	imagesMu  sync.Mutex
	images    []string // images to remove after the tests
	tmpDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testCli != nil {
		for _, img := range images {
			testCli.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
		testCli.Close()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// setup connects to the engine, builds the demo binary and imports the
// demo image, once.
func setup(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() {
		cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			skipMsg = "docker client: " + err.Error()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			skipMsg = "docker engine not reachable: " + err.Error()
			cli.Close()
			return
		}
		testCli = cli
		sweepStaleImages(cli)
		if tmpDir, setupErr = os.MkdirTemp("", "ecsd-docker-test"); setupErr != nil {
			return
		}
		demoBin = filepath.Join(tmpDir, "ecsd")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		build := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", demoBin, "./testdata/demoapp")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("building the demo binary: %v\n%s", err, out)
			return
		}
		addImage(demoImage)
		setupErr = EnsureDemoImage(context.Background(), cli, demoImage, demoBin)
	})
	if skipMsg != "" {
		t.Skip(skipMsg)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// addImage notes an image for TestMain to remove.
func addImage(image string) {
	imagesMu.Lock()
	images = append(images, image)
	imagesMu.Unlock()
}

// sweepStaleImages removes test images left by runs that died before
// TestMain could clean up (their tag carries a pid that no longer runs).
func sweepStaleImages(cli *client.Client) {
	ctx := context.Background()
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("reference", "ecsd/demoapp:test-*")})
	if err != nil {
		return
	}
	for _, img := range list.Items {
		for _, tag := range img.RepoTags {
			pidStr, _, _ := strings.Cut(strings.TrimPrefix(tag, "ecsd/demoapp:test-"), "-")
			pid, err := strconv.Atoi(pidStr)
			if err != nil || pid == os.Getpid() {
				continue
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				continue // that run is still going
			}
			cli.ImageRemove(ctx, tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	}
}

const (
	arn         = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef"
	interval    = 200 * time.Millisecond
	stopTimeout = time.Second
)

// newDriver returns a driver scoped to this test's containers, and removes
// them when the test ends.
func newDriver(t *testing.T, opts Options) (*Driver, *drivertest.Recorder) {
	t.Helper()
	setup(t)
	if opts.Instance == "" {
		opts.Instance = instanceFor(t)
	}
	rec := drivertest.NewRecorder()
	d, err := New(context.Background(), rec.Sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		removeInstance(opts.Instance)
	})
	return d, rec
}

func instanceFor(t *testing.T) string {
	return fmt.Sprintf("test-%d-%s", os.Getpid(), driver.SafeName(t.Name()))
}

func removeInstance(instance string) {
	ctx := context.Background()
	list, err := testCli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelInstance+"="+instance)})
	if err != nil {
		return
	}
	for _, c := range list.Items {
		testCli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
}

func demoSpec(taskARN string, env map[string]string) driver.TaskSpec {
	e := map[string]string{"VERSION": "v1"}
	for k, v := range env {
		e[k] = v
	}
	return driver.TaskSpec{
		TaskARN: taskARN, Cluster: "default", Family: "web", Revision: 3,
		Containers: []driver.ContainerSpec{{
			Name: "web", Image: demoImage, Essential: true,
			Environment:  e,
			PortMappings: []driver.PortMapping{{ContainerPort: 8080}},
			StopTimeout:  stopTimeout,
			HealthCheck: &driver.HealthCheck{
				Command:  []string{"CMD", "/ecsd", "demoapp", "check"},
				Interval: interval, Timeout: 2 * time.Second, Retries: 2,
			},
		}},
	}
}

func match(taskARN string, kind driver.EventKind) drivertest.Match {
	return drivertest.Match{TaskARN: taskARN, Kind: kind}
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

func TestServeHealthyAndStop(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	ctx := context.Background()
	if err := d.Start(ctx, demoSpec(arn, nil)); err != nil {
		t.Fatal(err)
	}
	started := rec.Require(t, match(arn, driver.Started))
	if len(started.Bindings) != 1 || started.Bindings[0].BindIP != "127.0.0.1" || started.Bindings[0].ContainerPort != 8080 ||
		started.Bindings[0].HostPort == 0 || started.Bindings[0].Protocol != "tcp" || started.RuntimeID == "" {
		t.Fatalf("Started = %v", started)
	}
	rec.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.HealthChanged, Health: driver.HealthHealthy})
	if code, body := get(t, started.Bindings[0], "/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	insp, err := testCli.ContainerInspect(ctx, started.RuntimeID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := insp.Container.Config.Labels; l[driver.LabelTaskARN] != arn || l[driver.LabelContainerName] != "web" || l[driver.LabelCluster] != "default" {
		t.Fatalf("labels %v", l)
	}
	if err := d.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	exit := rec.Require(t, match(arn, driver.Exited))
	if exit.ExitCode == nil || *exit.ExitCode != 0 {
		t.Fatalf("Exited = %v", exit)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
	want := "PullStarted,PullStopped,Started,HealthChanged,Exited"
	var got []string
	for _, k := range rec.Kinds(drivertest.Match{TaskARN: arn, Container: "web"}) {
		got = append(got, string(k))
	}
	if strings.Join(got, ",") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
}

func TestCrashAtOnce(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_CRASH_AFTER": "0s"}))
	ev := rec.Require(t, match(arn, driver.Exited))
	if ev.ExitCode == nil || *ev.ExitCode != 1 {
		t.Fatalf("Exited = %v", ev)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
}

func TestIgnoreSIGTERMIsKilled(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_IGNORE_SIGTERM": "1"}))
	rec.Require(t, drivertest.Match{TaskARN: arn, Health: driver.HealthHealthy})
	d.Stop(context.Background(), arn)
	ev := rec.Require(t, match(arn, driver.Exited))
	if ev.ExitCode == nil || *ev.ExitCode != 137 {
		t.Fatalf("Exited = %v", ev)
	}
}

func TestUnhealthy(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	d.Start(context.Background(), demoSpec(arn, map[string]string{"DEMO_HEALTH": "fail"}))
	rec.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.HealthChanged, Health: driver.HealthUnhealthy})
	d.Stop(context.Background(), arn)
	rec.Require(t, match(arn, driver.TaskStopped))
}

func TestPullFailure(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	spec := demoSpec(arn, nil)
	// A registry on a closed loopback port: fails at once, no network used.
	spec.Containers[0].Image = "127.0.0.1:1/ecsd/missing:1"
	d.Start(context.Background(), spec)
	ev := rec.Require(t, match(arn, driver.PullFailed))
	if !strings.HasPrefix(ev.Reason, "CannotPullContainerError: ") || strings.Contains(ev.Reason, "Error response from daemon") {
		t.Fatalf("reason %q", ev.Reason)
	}
	rec.Require(t, match(arn, driver.TaskStopped))
	t.Log(ev.Reason)
}

func TestDemoImageCreatedOnDemand(t *testing.T) {
	t.Parallel()
	setup(t)
	image := demoImage + "-auto"
	addImage(image)
	d, rec := newDriver(t, Options{DemoBinary: demoBin})
	spec := demoSpec(arn, nil)
	spec.Containers[0].Image = image
	delete(spec.Containers[0].Environment, "VERSION") // the image's ENV VERSION=<tag> applies
	d.Start(context.Background(), spec)
	started := rec.Require(t, match(arn, driver.Started))
	rec.Require(t, drivertest.Match{TaskARN: arn, Health: driver.HealthHealthy})
	tag := image[strings.LastIndexByte(image, ':')+1:]
	if code, body := get(t, started.Bindings[0], "/"); code != 200 || body != tag+"\n" {
		t.Fatalf("GET / = %d %q, want the tag %q", code, body, tag)
	}
	// Idempotent once present.
	if err := EnsureDemoImage(context.Background(), testCli, image, demoBin); err != nil {
		t.Fatal(err)
	}
	// A static binary needs nothing else in the image; a dynamic one
	// brings its interpreter and libraries.
	if libs, err := sharedLibraries(demoBin); err != nil || len(libs) != 0 {
		t.Fatalf("static binary: %v %v", libs, err)
	}
	libs, err := sharedLibraries("/bin/sh")
	if err != nil || len(libs) < 2 || !strings.Contains(libs[0], "ld-linux") {
		t.Fatalf("dynamic binary: %v %v", libs, err)
	}
}

func TestDependsOnAndCommand(t *testing.T) {
	t.Parallel()
	d, rec := newDriver(t, Options{})
	spec := driver.TaskSpec{TaskARN: arn, Family: "deps", Revision: 1, Containers: []driver.ContainerSpec{
		{Name: "init", Image: demoImage, EntryPoint: []string{"/ecsd"}, Command: []string{"demoapp", "check", "http://127.0.0.1:1/"}},
		{Name: "app", Image: demoImage, Essential: true, WorkingDirectory: "/tmp",
			Environment: map[string]string{"DEMO_CRASH_AFTER": "0s"},
			DependsOn:   []driver.Dependency{{ContainerName: "init", Condition: driver.ConditionComplete}}},
	}}
	d.Start(context.Background(), spec)
	rec.Require(t, match(arn, driver.TaskStopped))
	var exits []string
	for _, ev := range rec.Filter(match(arn, driver.Exited)) {
		exits = append(exits, ev.Container+"="+strconv.Itoa(int(*ev.ExitCode)))
	}
	if strings.Join(exits, " ") != "init=1 app=1" {
		t.Fatalf("exits %v\n%s", exits, rec.Dump())
	}
}

func TestRecoverAfterRestart(t *testing.T) {
	t.Parallel()
	instance := instanceFor(t)
	ctx := context.Background()
	d1, rec1 := newDriver(t, Options{Instance: instance})
	lostARN := arn + "-lost"
	d1.Start(ctx, demoSpec(arn, nil))
	d1.Start(ctx, demoSpec(lostARN, nil))
	started := rec1.Require(t, match(arn, driver.Started))
	rec1.Require(t, drivertest.Match{TaskARN: arn, Health: driver.HealthHealthy})
	lostStarted := rec1.Require(t, match(lostARN, driver.Started))
	d1.Close() // "ecsd stops": the containers keep running

	// One task dies while no driver watches.
	if _, err := testCli.ContainerKill(ctx, lostStarted.RuntimeID, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	w := testCli.ContainerWait(ctx, lostStarted.RuntimeID, client.ContainerWaitOptions{})
	select {
	case <-w.Result:
	case err := <-w.Error:
		t.Fatal(err)
	}

	d2, rec2 := newDriver(t, Options{Instance: instance})
	got, err := d2.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]driver.Recovered{}
	for _, r := range got {
		byARN[r.Spec.TaskARN] = r
	}
	if len(got) != 2 {
		t.Fatalf("recovered %+v", got)
	}
	r := byARN[arn]
	c := r.Containers[0]
	if r.Lost || c.Status != driver.StatusRunning || c.RuntimeID != started.RuntimeID ||
		len(c.Bindings) != 1 || c.Bindings[0] != started.Bindings[0] || c.Health != driver.HealthHealthy {
		t.Fatalf("recovered %+v", r)
	}
	if r.Spec.Family != "web" || r.Spec.Revision != 3 || r.Spec.Containers[0].HealthCheck == nil {
		t.Fatalf("recovered spec %+v", r.Spec)
	}
	l := byARN[lostARN]
	if !l.Lost || l.Containers[0].Status != driver.StatusStopped || l.Containers[0].ExitCode == nil || *l.Containers[0].ExitCode != 137 {
		t.Fatalf("lost task %+v", l)
	}
	if code, body := get(t, c.Bindings[0], "/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if again, _ := d2.Recover(ctx); len(again) != 0 {
		t.Fatalf("second Recover: %+v", again)
	}
	if err := d2.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	ev := rec2.Require(t, match(arn, driver.Exited))
	if ev.ExitCode == nil || *ev.ExitCode != 0 {
		t.Fatalf("Exited = %v", ev)
	}
	rec2.Require(t, match(arn, driver.TaskStopped))
}
