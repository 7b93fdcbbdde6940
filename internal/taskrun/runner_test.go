package taskrun_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
)

var ctx = context.Background()

type harness struct {
	t       *testing.T
	clock   *clock.Fake
	store   *store.Store
	api     *ecsapi.API
	machine *fake.Machine
	driver  *fake.Driver
	runner  *taskrun.Runner
	targets taskrun.Targets // given to the runner by attach
	events  []string        // service events the runner recorded
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	h := &harness{t: t, clock: clk, store: st, machine: fake.NewMachine(clk)}
	h.api = ecsapi.New(ecsapi.Config{Store: st, AccountID: "123456789012", Now: clk.Now, Logger: quiet})
	h.attach()
	return h
}

// attach starts a runner with a new driver on the harness's machine (as a
// restarted ecsd would).
func (h *harness) attach() {
	h.runner = taskrun.New(taskrun.Config{Store: h.store, Clock: h.clock, Logger: quiet, Targets: h.targets,
		ServiceEvent: func(region, cluster, service, message string) { h.events = append(h.events, message) }})
	h.driver = h.machine.NewDriver(h.runner.HandleEvent, fake.Options{Logger: quiet})
	h.runner.Attach(h.driver)
	h.t.Cleanup(func() { h.driver.Close() })
}

func (h *harness) call(op string, in, out any) error {
	body, err := awsproto.EncodeJSON(in)
	if err != nil {
		return err
	}
	resp, err := h.api.Handle(ctx, "us-east-1", op, body)
	if err != nil {
		return err
	}
	return awsproto.DecodeJSON(resp, out, awsproto.DecodeOptions{})
}

func (h *harness) register(family string, c types.ContainerDefinition, more ...types.ContainerDefinition) {
	h.t.Helper()
	if c.Memory == nil {
		c.Memory = aws.Int32(64)
	}
	for i := range more {
		more[i].Memory = aws.Int32(64)
	}
	var out ecs.RegisterTaskDefinitionOutput
	if err := h.call("RegisterTaskDefinition", &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: append([]types.ContainerDefinition{c}, more...)}, &out); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) run(family string) string {
	h.t.Helper()
	var out ecs.RunTaskOutput
	if err := h.call("RunTask", &ecs.RunTaskInput{TaskDefinition: aws.String(family)}, &out); err != nil {
		h.t.Fatal(err)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

func (h *harness) stop(arn string) {
	h.t.Helper()
	var out ecs.StopTaskOutput
	if err := h.call("StopTask", &ecs.StopTaskInput{Task: aws.String(arn)}, &out); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) task(arn string) types.Task {
	h.t.Helper()
	var out ecs.DescribeTasksOutput
	if err := h.call("DescribeTasks", &ecs.DescribeTasksInput{Tasks: []string{arn}}, &out); err != nil || len(out.Tasks) != 1 {
		h.t.Fatalf("describe %s: %v %+v", arn, err, out)
	}
	return out.Tasks[0]
}

// settle delivers the driver's events and lets the runner take every step
// that does not need time to pass.
func (h *harness) settle() {
	h.t.Helper()
	for range 10 {
		if err := h.driver.Drain(ctx); err != nil {
			h.t.Fatal(err)
		}
		if err := h.runner.Pass(ctx); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.driver.Drain(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// pass takes exactly one runner pass (after delivering events).
func (h *harness) pass() {
	h.t.Helper()
	h.driver.Drain(ctx)
	if err := h.runner.Pass(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.driver.Drain(ctx)
}

func (h *harness) advance(d time.Duration) {
	h.clock.Advance(d)
	h.driver.Drain(ctx)
}

func status(t types.Task) string {
	return fmt.Sprintf("%s/%s", aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus))
}

func TestLifecycleStepByStep(t *testing.T) {
	h := newHarness(t)
	h.register("web", types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("web:1"), StopTimeout: aws.Int32(10),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "check"}, Interval: aws.Int32(5)},
	})
	h.machine.SetImage("web:1", fake.Behavior{PullDelay: time.Second, StartDelay: time.Second})
	arn := h.run("web")
	if got := status(h.task(arn)); got != "PROVISIONING/RUNNING" {
		t.Fatalf("after RunTask: %s", got)
	}
	h.pass()
	task := h.task(arn)
	if status(task) != "PENDING/RUNNING" || task.PullStartedAt == nil || task.PullStoppedAt != nil {
		t.Fatalf("after the first pass: %s pull %v %v", status(task), task.PullStartedAt, task.PullStoppedAt)
	}
	h.advance(time.Second)
	if task = h.task(arn); task.PullStoppedAt == nil || status(task) != "PENDING/RUNNING" {
		t.Fatalf("after the pull: %s %v", status(task), task.PullStoppedAt)
	}
	h.advance(time.Second)
	task = h.task(arn)
	c := task.Containers[0]
	if status(task) != "ACTIVATING/RUNNING" || aws.ToString(c.LastStatus) != "RUNNING" || len(c.NetworkBindings) != 1 || aws.ToInt32(c.NetworkBindings[0].HostPort) == 0 || aws.ToString(c.RuntimeId) == "" {
		t.Fatalf("after start: %s %+v", status(task), c)
	}
	h.pass()
	task = h.task(arn)
	if status(task) != "RUNNING/RUNNING" || task.StartedAt == nil || task.HealthStatus != types.HealthStatusUnknown {
		t.Fatalf("running: %s %v %s", status(task), task.StartedAt, task.HealthStatus)
	}
	h.advance(5 * time.Second)
	if task = h.task(arn); task.HealthStatus != types.HealthStatusHealthy || task.Containers[0].HealthStatus != types.HealthStatusHealthy {
		t.Fatalf("health: %s", task.HealthStatus)
	}

	h.stop(arn)
	h.pass()
	if got := status(h.task(arn)); got != "DEACTIVATING/STOPPED" {
		t.Fatalf("after StopTask: %s", got)
	}
	h.pass()
	// The fake app exits at once on SIGTERM, so the driver is done in the same pass.
	task = h.task(arn)
	if status(task) != "DEPROVISIONING/STOPPED" || task.StoppingAt == nil || task.ExecutionStoppedAt == nil {
		t.Fatalf("stopping: %s %v", status(task), task.StoppingAt)
	}
	h.pass()
	task = h.task(arn)
	c = task.Containers[0]
	if status(task) != "STOPPED/STOPPED" || task.StoppedAt == nil || task.StopCode != types.TaskStopCodeUserInitiated ||
		aws.ToString(task.StoppedReason) != "Task stopped by user" || aws.ToInt32(c.ExitCode) != 0 || c.ExitCode == nil {
		t.Fatalf("stopped: %s %s %q exit %v", status(task), task.StopCode, aws.ToString(task.StoppedReason), c.ExitCode)
	}
	for _, ts := range []*time.Time{task.CreatedAt, task.PullStartedAt, task.PullStoppedAt, task.StartedAt, task.StoppingAt, task.ExecutionStoppedAt, task.StoppedAt} {
		if ts == nil {
			t.Fatalf("a timestamp is missing: %+v", task)
		}
	}
	if !task.PullStartedAt.Before(*task.StartedAt) || task.StoppedAt.Before(*task.StoppingAt) {
		t.Fatalf("timestamps out of order: %+v", task)
	}
}

func TestEssentialContainerExit(t *testing.T) {
	h := newHarness(t)
	h.register("crash", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("crash")})
	h.machine.SetImage("crash", fake.Behavior{Exit: true, ExitAfter: 3 * time.Second, ExitCode: 1})
	arn := h.run("crash")
	h.settle()
	if got := status(h.task(arn)); got != "RUNNING/RUNNING" {
		t.Fatalf("before the crash: %s", got)
	}
	h.advance(3 * time.Second)
	h.settle()
	task := h.task(arn)
	if status(task) != "STOPPED/STOPPED" || task.StopCode != types.TaskStopCodeEssentialContainerExited ||
		aws.ToString(task.StoppedReason) != "Essential container in task exited" || aws.ToInt32(task.Containers[0].ExitCode) != 1 {
		t.Fatalf("after the crash: %s %s %q %v", status(task), task.StopCode, aws.ToString(task.StoppedReason), task.Containers[0].ExitCode)
	}
}

func TestNonEssentialContainerMayExit(t *testing.T) {
	h := newHarness(t)
	h.register("sidecar",
		types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("app")},
		types.ContainerDefinition{Name: aws.String("init"), Image: aws.String("init"), Essential: aws.Bool(false)})
	h.machine.SetImage("init", fake.Behavior{Exit: true, ExitAfter: time.Second})
	arn := h.run("sidecar")
	h.settle()
	h.advance(time.Second)
	h.settle()
	task := h.task(arn)
	if status(task) != "RUNNING/RUNNING" || aws.ToString(task.Containers[1].LastStatus) != "STOPPED" || aws.ToInt32(task.Containers[1].ExitCode) != 0 {
		t.Fatalf("after the non-essential exit: %s %+v", status(task), task.Containers[1])
	}
}

func TestPullFailure(t *testing.T) {
	h := newHarness(t)
	h.register("nopull", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("registry.example/app:missing")})
	h.machine.SetImage("registry.example/app:missing", fake.Behavior{PullError: "pull access denied for registry.example/app"})
	arn := h.run("nopull")
	h.settle()
	task := h.task(arn)
	if status(task) != "STOPPED/STOPPED" || task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError:") {
		t.Fatalf("pull failure: %s %s %q", status(task), task.StopCode, aws.ToString(task.StoppedReason))
	}
	if task.StartedAt != nil {
		t.Fatalf("a task that never ran has startedAt %v", task.StartedAt)
	}
}

func TestIgnoredSIGTERMIsKilledAfterStopTimeout(t *testing.T) {
	h := newHarness(t)
	h.register("stubborn", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("stubborn"), StopTimeout: aws.Int32(10)})
	h.machine.SetImage("stubborn", fake.Behavior{IgnoreSIGTERM: true})
	arn := h.run("stubborn")
	h.settle()
	h.stop(arn)
	h.settle()
	if got := status(h.task(arn)); got != "STOPPING/STOPPED" {
		t.Fatalf("after SIGTERM: %s", got)
	}
	h.advance(9 * time.Second)
	h.settle()
	if got := status(h.task(arn)); got != "STOPPING/STOPPED" {
		t.Fatalf("9 s after SIGTERM: %s", got)
	}
	h.advance(time.Second)
	h.settle()
	task := h.task(arn)
	if status(task) != "STOPPED/STOPPED" || aws.ToInt32(task.Containers[0].ExitCode) != 137 {
		t.Fatalf("after SIGKILL: %s exit %v", status(task), task.Containers[0].ExitCode)
	}
}

func TestFailingHealthCheck(t *testing.T) {
	h := newHarness(t)
	h.register("sick", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("sick"),
		HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "exit 1"}, Interval: aws.Int32(5), Retries: aws.Int32(2)}})
	h.machine.SetImage("sick", fake.Behavior{Unhealthy: true})
	arn := h.run("sick")
	h.settle()
	h.advance(5 * time.Second)
	if task := h.task(arn); task.HealthStatus != types.HealthStatusUnknown {
		t.Fatalf("after one failed probe: %s", task.HealthStatus)
	}
	h.advance(5 * time.Second)
	task := h.task(arn)
	if task.HealthStatus != types.HealthStatusUnhealthy || task.Containers[0].HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("after two failed probes: %s", task.HealthStatus)
	}
}

func TestStopBeforeStartDiscards(t *testing.T) {
	h := newHarness(t)
	h.register("web", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("web")})
	arn := h.run("web")
	h.stop(arn)
	h.settle()
	task := h.task(arn)
	if status(task) != "STOPPED/STOPPED" || h.machine.Tasks() != 0 {
		t.Fatalf("stopped before start: %s, machine runs %d", status(task), h.machine.Tasks())
	}
}

func TestRecoverAfterRestart(t *testing.T) {
	h := newHarness(t)
	h.register("web", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("web"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}}})
	h.register("crash", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("crash")})
	h.machine.SetImage("crash", fake.Behavior{Exit: true, ExitAfter: 5 * time.Second, ExitCode: 2})
	keep, crash := h.run("web"), h.run("crash")
	h.settle()
	before := h.task(keep)

	// ecsd goes away; one task crashes meanwhile; a new ecsd comes up.
	h.driver.Close()
	h.advance(5 * time.Second)
	h.attach()
	if err := h.runner.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	h.settle()
	after := h.task(keep)
	if status(after) != "RUNNING/RUNNING" || aws.ToString(after.Containers[0].RuntimeId) != aws.ToString(before.Containers[0].RuntimeId) ||
		aws.ToInt32(after.Containers[0].NetworkBindings[0].HostPort) != aws.ToInt32(before.Containers[0].NetworkBindings[0].HostPort) {
		t.Fatalf("re-adopted task: %s %+v", status(after), after.Containers[0])
	}
	if got := status(h.task(crash)); got != "STOPPED/STOPPED" {
		t.Fatalf("task that ended while ecsd was down: %s", got)
	}
	// The re-adopted task is still under control.
	h.stop(keep)
	h.settle()
	if got := status(h.task(keep)); got != "STOPPED/STOPPED" {
		t.Fatalf("stopping a re-adopted task: %s", got)
	}
}

func TestStoppedTasksAreForgottenAfterAnHour(t *testing.T) {
	h := newHarness(t)
	h.register("web", types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("web")})
	arn := h.run("web")
	h.settle()
	h.stop(arn)
	h.settle()
	h.advance(59 * time.Minute)
	h.settle()
	if got := status(h.task(arn)); got != "STOPPED/STOPPED" {
		t.Fatalf("59 minutes after stopping: %s", got)
	}
	h.advance(2 * time.Minute)
	h.settle()
	var out ecs.DescribeTasksOutput
	if err := h.call("DescribeTasks", &ecs.DescribeTasksInput{Tasks: []string{arn}}, &out); err != nil || len(out.Tasks) != 0 || len(out.Failures) != 1 {
		t.Fatalf("an hour after stopping: %v %+v", err, out)
	}
}
