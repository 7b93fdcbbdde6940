package fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/drivertest"
)

const arn = "arn:aws:ecs:us-east-1:123456789012:task/default/abc"

type env struct {
	clk *clock.Fake
	rec *drivertest.Recorder
	drv *Driver
}

func newEnv(t *testing.T) *env {
	clk := clock.NewFake(time.Time{})
	rec := drivertest.NewRecorder()
	drv := New(clk, rec.Sink, Options{})
	t.Cleanup(func() { drv.Close() })
	return &env{clk, rec, drv}
}

// advance moves the fake clock and waits for the resulting events.
func (e *env) advance(t *testing.T, d time.Duration) {
	t.Helper()
	e.clk.Advance(d)
	e.drain(t)
}

func (e *env) drain(t *testing.T) {
	t.Helper()
	if err := e.drv.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) kinds(container string) []driver.EventKind {
	return e.rec.Kinds(drivertest.Match{Container: container})
}

func demo(environment map[string]string) driver.TaskSpec {
	return driver.TaskSpec{
		TaskARN: arn, Cluster: "default", Family: "web", Revision: 1,
		Containers: []driver.ContainerSpec{{
			Name: "web", Image: "ecsd/demoapp:v1", Essential: true,
			Environment:  environment,
			PortMappings: []driver.PortMapping{{ContainerPort: 8080}},
		}},
	}
}

func withHealth(spec driver.TaskSpec, interval time.Duration) driver.TaskSpec {
	spec.Containers[0].HealthCheck = &driver.HealthCheck{
		Command: []string{"CMD-SHELL", "/ecsd demoapp check"}, Interval: interval, Retries: 3,
	}
	return spec
}

func TestStartAndStop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.drv.Start(ctx, demo(map[string]string{"VERSION": "v1"})); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.Started})
	if len(ev.Bindings) != 1 || ev.Bindings[0].HostPort < firstDynamicPort || ev.Bindings[0].ContainerPort != 8080 ||
		ev.Bindings[0].BindIP != "127.0.0.1" || ev.Bindings[0].Protocol != "tcp" || ev.RuntimeID == "" {
		t.Fatalf("Started = %v", ev)
	}
	if err := e.drv.Start(ctx, demo(nil)); !errors.Is(err, driver.ErrTaskExists) {
		t.Fatalf("second Start: %v", err)
	}
	if err := e.drv.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	exit := e.rec.Require(t, drivertest.Match{Kind: driver.Exited})
	if exit.ExitCode == nil || *exit.ExitCode != 0 {
		t.Fatalf("Exited = %v", exit)
	}
	want := []driver.EventKind{driver.PullStarted, driver.PullStopped, driver.Started, driver.Exited, driver.TaskStopped}
	if got := e.kinds(""); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if err := e.drv.Stop(ctx, arn); !errors.Is(err, driver.ErrUnknownTask) {
		t.Fatalf("Stop after TaskStopped: %v", err)
	}
}

func TestDelays(t *testing.T) {
	e := newEnv(t)
	e.drv.Machine().SetImage("slow:1", Behavior{PullDelay: 10 * time.Second, StartDelay: 5 * time.Second, StopDelay: 3 * time.Second})
	spec := demo(nil)
	spec.Containers[0].Image = "slow:1"
	e.drv.Start(context.Background(), spec)
	e.drain(t)
	if got := e.kinds("web"); !slices.Equal(got, []driver.EventKind{driver.PullStarted}) {
		t.Fatalf("at 0s: %v", got)
	}
	e.advance(t, 10*time.Second)
	if got := e.kinds("web"); len(got) != 2 || got[1] != driver.PullStopped {
		t.Fatalf("at 10s: %v", got)
	}
	e.advance(t, 5*time.Second)
	started := e.rec.Require(t, drivertest.Match{Kind: driver.Started})
	if started.Time.Sub(clock.DefaultStart) != 15*time.Second {
		t.Fatalf("started at +%v", started.Time.Sub(clock.DefaultStart))
	}
	e.drv.Stop(context.Background(), arn)
	e.advance(t, 2*time.Second)
	if _, ok := e.rec.Find(drivertest.Match{Kind: driver.Exited}); ok {
		t.Fatal("exited before StopDelay")
	}
	e.advance(t, time.Second)
	e.rec.Require(t, drivertest.Match{Kind: driver.TaskStopped})
}

func TestCrashAtOnce(t *testing.T) {
	e := newEnv(t)
	e.drv.Start(context.Background(), demo(map[string]string{"DEMO_CRASH_AFTER": "0s"}))
	e.drain(t)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.Exited})
	if ev.ExitCode == nil || *ev.ExitCode != 1 {
		t.Fatalf("Exited = %v", ev)
	}
	e.rec.Require(t, drivertest.Match{Kind: driver.TaskStopped})
}

func TestCrashAfter(t *testing.T) {
	e := newEnv(t)
	e.drv.Start(context.Background(), demo(map[string]string{"DEMO_CRASH_AFTER": "1m"}))
	e.advance(t, 59*time.Second)
	if _, ok := e.rec.Find(drivertest.Match{Kind: driver.Exited}); ok {
		t.Fatal("exited early")
	}
	e.advance(t, time.Second)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.Exited})
	if *ev.ExitCode != 1 || ev.Time.Sub(clock.DefaultStart) != time.Minute {
		t.Fatalf("Exited = %v at %v", ev, ev.Time)
	}
}

func TestIgnoreSIGTERMIsKilledAfterStopTimeout(t *testing.T) {
	e := newEnv(t)
	spec := demo(map[string]string{"DEMO_IGNORE_SIGTERM": "1"})
	spec.Containers[0].StopTimeout = 5 * time.Second
	e.drv.Start(context.Background(), spec)
	e.drv.Stop(context.Background(), arn)
	e.advance(t, 4999*time.Millisecond)
	if _, ok := e.rec.Find(drivertest.Match{Kind: driver.Exited}); ok {
		t.Fatal("exited before the stop timeout")
	}
	e.advance(t, time.Millisecond)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.Exited})
	if *ev.ExitCode != 137 || !strings.Contains(ev.Reason, "SIGKILL") {
		t.Fatalf("Exited = %v", ev)
	}
}

func TestDefaultStopTimeout(t *testing.T) {
	e := newEnv(t)
	e.drv.Start(context.Background(), demo(map[string]string{"DEMO_IGNORE_SIGTERM": "true"}))
	e.drv.Stop(context.Background(), arn)
	e.advance(t, 29*time.Second)
	if _, ok := e.rec.Find(drivertest.Match{Kind: driver.Exited}); ok {
		t.Fatal("exited before 30s")
	}
	e.advance(t, time.Second)
	e.rec.Require(t, drivertest.Match{Kind: driver.Exited})
}

func TestHealthy(t *testing.T) {
	e := newEnv(t)
	e.drv.Start(context.Background(), withHealth(demo(nil), 5*time.Second))
	e.drain(t)
	if ev := e.rec.Require(t, drivertest.Match{Kind: driver.Started}); ev.Health != driver.HealthUnknown {
		t.Fatalf("Started health = %q", ev.Health)
	}
	e.advance(t, 5*time.Second)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.HealthChanged})
	if ev.Health != driver.HealthHealthy {
		t.Fatalf("HealthChanged = %v", ev)
	}
	// Only changes are reported.
	e.advance(t, time.Minute)
	if n := len(e.rec.Filter(drivertest.Match{Kind: driver.HealthChanged})); n != 1 {
		t.Fatalf("%d HealthChanged events", n)
	}
}

func TestUnhealthy(t *testing.T) {
	e := newEnv(t)
	e.drv.Start(context.Background(), withHealth(demo(map[string]string{"DEMO_HEALTH": "fail"}), time.Second))
	e.advance(t, 2*time.Second)
	if _, ok := e.rec.Find(drivertest.Match{Kind: driver.HealthChanged}); ok {
		t.Fatal("unhealthy before 3 failures")
	}
	e.advance(t, time.Second)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.HealthChanged})
	if ev.Health != driver.HealthUnhealthy {
		t.Fatalf("HealthChanged = %v", ev)
	}
}

func TestStartPeriodAndUnhealthyAfter(t *testing.T) {
	e := newEnv(t)
	e.drv.Machine().SetImage("flaky", Behavior{UnhealthyAfter: 20 * time.Second})
	spec := withHealth(demo(nil), 10*time.Second)
	spec.Containers[0].Image = "flaky"
	e.drv.Start(context.Background(), spec)
	e.advance(t, 10*time.Second)
	e.rec.Require(t, drivertest.Match{Kind: driver.HealthChanged, Health: driver.HealthHealthy})
	// Probes fail from 20s; the third failure (at 40s) makes it unhealthy.
	e.advance(t, 29*time.Second)
	if _, ok := e.rec.Find(drivertest.Match{Health: driver.HealthUnhealthy}); ok {
		t.Fatal("unhealthy too early")
	}
	e.advance(t, time.Second)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.HealthChanged, Health: driver.HealthUnhealthy})
	if d := ev.Time.Sub(clock.DefaultStart); d != 40*time.Second {
		t.Fatalf("unhealthy at %v", d)
	}
}

func TestPullFailure(t *testing.T) {
	e := newEnv(t)
	e.drv.Machine().SetImage("nope:1", Behavior{PullError: "pull access denied for nope"})
	spec := demo(nil)
	spec.Containers[0].Image = "nope:1"
	e.drv.Start(context.Background(), spec)
	e.drain(t)
	ev := e.rec.Require(t, drivertest.Match{Kind: driver.PullFailed})
	if !strings.HasPrefix(ev.Reason, "CannotPullContainerError: ") {
		t.Fatalf("reason %q", ev.Reason)
	}
	want := []driver.EventKind{driver.PullStarted, driver.PullFailed, driver.TaskStopped}
	if got := e.kinds(""); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestDependsOnAndStopOrder(t *testing.T) {
	e := newEnv(t)
	spec := driver.TaskSpec{TaskARN: arn, Containers: []driver.ContainerSpec{
		{Name: "db", Essential: true, HealthCheck: &driver.HealthCheck{Command: []string{"CMD", "true"}, Interval: 5 * time.Second}},
		{Name: "migrate", Environment: map[string]string{"DEMO_CRASH_AFTER": "3s"},
			DependsOn: []driver.Dependency{{ContainerName: "db", Condition: driver.ConditionHealthy}}},
		{Name: "app", Essential: true, DependsOn: []driver.Dependency{{ContainerName: "migrate", Condition: driver.ConditionComplete}, {ContainerName: "db", Condition: driver.ConditionStart}}},
	}}
	e.drv.Machine().SetBehaviorFunc(func(_ driver.TaskSpec, c driver.ContainerSpec) (Behavior, bool) {
		if c.Name == "db" {
			return Behavior{StopDelay: time.Second}, true
		}
		return Behavior{}, false
	})
	e.drv.Start(context.Background(), spec)
	e.advance(t, 5*time.Second) // db healthy → migrate starts
	e.rec.Require(t, drivertest.Match{Container: "migrate", Kind: driver.Started})
	if _, ok := e.rec.Find(drivertest.Match{Container: "app", Kind: driver.Started}); ok {
		t.Fatal("app started before migrate completed")
	}
	e.advance(t, 3*time.Second) // migrate exits 1: COMPLETE is met anyway
	e.rec.Require(t, drivertest.Match{Container: "app", Kind: driver.Started})

	e.drv.Stop(context.Background(), arn)
	e.advance(t, time.Second)
	e.rec.Require(t, drivertest.Match{Kind: driver.TaskStopped})
	var order []string
	for _, ev := range e.rec.Filter(drivertest.Match{Kind: driver.Exited}) {
		order = append(order, ev.Container)
	}
	if want := []string{"migrate", "app", "db"}; !slices.Equal(order, want) {
		t.Fatalf("exit order %v, want %v", order, want)
	}
}

func TestSinkMayCallDriver(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	rec := drivertest.NewRecorder()
	var drv *Driver
	drv = New(clk, func(ev driver.Event) {
		rec.Sink(ev)
		if ev.Kind == driver.Started {
			drv.Stop(context.Background(), ev.TaskARN) // re-entrant call
		}
	}, Options{})
	defer drv.Close()
	drv.Start(context.Background(), demo(nil))
	drv.Drain(context.Background())
	rec.Require(t, drivertest.Match{Kind: driver.TaskStopped})
}

func TestRecoverAfterDriverRestart(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	m := NewMachine(clk)
	rec1 := drivertest.NewRecorder()
	d1 := m.NewDriver(rec1.Sink, Options{})
	ctx := context.Background()

	keep := demo(map[string]string{"VERSION": "v1"})
	crash := demo(map[string]string{"DEMO_CRASH_AFTER": "10s"})
	crash.TaskARN = arn + "-crash"
	d1.Start(ctx, keep)
	d1.Start(ctx, crash)
	d1.Drain(ctx)
	started := rec1.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.Started})
	d1.Close()

	clk.Advance(time.Minute) // the crashing task dies while nobody watches
	rec2 := drivertest.NewRecorder()
	d2 := m.NewDriver(rec2.Sink, Options{})
	defer d2.Close()
	got, err := d2.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]driver.Recovered{}
	for _, r := range got {
		byARN[r.Spec.TaskARN] = r
	}
	r := byARN[arn]
	if r.Lost || len(r.Containers) != 1 || r.Containers[0].Status != driver.StatusRunning ||
		r.Containers[0].RuntimeID != started.RuntimeID || r.Containers[0].Bindings[0] != started.Bindings[0] {
		t.Fatalf("recovered %+v", r)
	}
	lost := byARN[crash.TaskARN]
	if !lost.Lost || lost.Containers[0].Status != driver.StatusStopped || *lost.Containers[0].ExitCode != 1 {
		t.Fatalf("lost task %+v", lost)
	}
	// The recovered task is driven by the new driver.
	if err := d2.Stop(ctx, arn); err != nil {
		t.Fatal(err)
	}
	d2.Drain(ctx)
	rec2.Require(t, drivertest.Match{TaskARN: arn, Kind: driver.TaskStopped})
	if n := len(rec1.Filter(drivertest.Match{Kind: driver.Exited})); n != 0 {
		t.Fatalf("closed driver received %d exits", n)
	}
	if again, _ := d2.Recover(ctx); len(again) != 0 {
		t.Fatalf("second Recover found %v", again)
	}
}

func TestManyTasks(t *testing.T) {
	e := newEnv(t)
	const n = 2000
	ctx := context.Background()
	for i := range n {
		spec := withHealth(demo(nil), 10*time.Second)
		spec.TaskARN = fmt.Sprintf("%s-%d", arn, i)
		if i%10 == 0 {
			spec.Containers[0].Environment = map[string]string{"DEMO_CRASH_AFTER": "25s"}
		}
		if err := e.drv.Start(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	e.advance(t, 30*time.Second)
	if got := len(e.rec.Filter(drivertest.Match{Kind: driver.TaskStopped})); got != n/10 {
		t.Fatalf("%d tasks stopped, want %d", got, n/10)
	}
	if got := len(e.rec.Filter(drivertest.Match{Kind: driver.HealthChanged})); got != n {
		t.Fatalf("%d health changes, want %d", got, n)
	}
	if e.drv.Machine().Tasks() != n-n/10 {
		t.Fatalf("machine runs %d tasks", e.drv.Machine().Tasks())
	}
}

func BenchmarkStartStop(b *testing.B) {
	clk := clock.NewFake(time.Time{})
	drv := New(clk, func(driver.Event) {}, Options{})
	defer drv.Close()
	ctx := context.Background()
	spec := withHealth(demo(nil), 10*time.Second)
	for i := 0; b.Loop(); i++ {
		spec.TaskARN = fmt.Sprintf("%s-%d", arn, i)
		drv.Start(ctx, spec)
		clk.Advance(10 * time.Second)
		drv.Stop(ctx, spec.TaskARN)
	}
	drv.Drain(ctx)
}
