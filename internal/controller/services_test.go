package controller_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/controller"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/ecsd"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
)

var ctx = context.Background()

// world is ecsd without HTTP (the ecsd assembly without a listener): the
// API, the task runner on the fake driver, the service scheduler and the
// drainer, all on one fake clock, driven step by step by settle.
type world struct {
	t        *testing.T
	clock    *clock.Fake
	store    *store.Store
	api      *ecsapi.API
	machine  *fake.Machine
	driver   *fake.Driver
	runner   *taskrun.Runner
	services *controller.Services
	drainer  *controller.Drainer
	writes   atomic.Int64 // store changes committed so far
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, rollout.Params{}, io.Discard)
}

// newWorldWith is newWorld with scheduler params and a log destination.
func newWorldWith(t *testing.T, params rollout.Params, logs io.Writer) *world {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	w := &world{t: t, clock: clk, machine: fake.NewMachine(clk)}
	quiet := slog.New(slog.NewTextHandler(logs, nil))
	s, err := ecsd.New(ecsd.Config{
		DataDir: t.TempDir(), NoSync: true, AccountID: "123456789012", Params: params, Clock: clk, Logger: quiet,
		Driver: func(sink driver.Sink) (driver.Driver, error) {
			w.driver = w.machine.NewDriver(sink, fake.Options{Logger: quiet})
			return w.driver, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w.store, w.api, w.runner, w.services, w.drainer = s.Store, s.ECS, s.Tasks, s.Services, s.Drainer
	w.store.Subscribe(func(c []store.Change) { w.writes.Add(int64(len(c))) })
	return w
}

func (w *world) call(op string, in, out any) error {
	body, err := awsproto.EncodeJSON(in)
	if err != nil {
		return err
	}
	resp, err := w.api.Handle(ctx, "us-east-1", op, body)
	if err != nil {
		return err
	}
	return awsproto.DecodeJSON(resp, out, awsproto.DecodeOptions{})
}

func (w *world) must(op string, in, out any) {
	w.t.Helper()
	if err := w.call(op, in, out); err != nil {
		w.t.Fatalf("%s: %v", op, err)
	}
}

// settle lets the scheduler, the runner and the driver do everything that
// needs no time to pass: rounds of each until one changes nothing in the
// store (10 at most).
func (w *world) settle() {
	w.t.Helper()
	for range 10 {
		before := w.writes.Load()
		w.driver.Drain(ctx)
		if err := w.runner.Pass(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.driver.Drain(ctx)
		if err := w.services.SyncAll(); err != nil {
			w.t.Fatal(err)
		}
		if err := w.drainer.Pass(); err != nil {
			w.t.Fatal(err)
		}
		if w.writes.Load() == before {
			return
		}
	}
}

// run advances time in steps, settling after each.
func (w *world) run(total, step time.Duration) {
	for elapsed := time.Duration(0); elapsed < total; elapsed += step {
		w.clock.Advance(step)
		w.settle()
	}
}

func (w *world) register(image string, env ...string) string {
	c := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(64)}
	for i := 0; i+1 < len(env); i += 2 {
		c.Environment = append(c.Environment, types.KeyValuePair{Name: aws.String(env[i]), Value: aws.String(env[i+1])})
	}
	var out ecs.RegisterTaskDefinitionOutput
	w.must("RegisterTaskDefinition", &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{c}}, &out)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func (w *world) service() types.Service {
	var out ecs.DescribeServicesOutput
	w.must("DescribeServices", &ecs.DescribeServicesInput{Services: []string{"web"}}, &out)
	return out.Services[0]
}

// stable is the SDK's ServicesStable condition.
func stable(s types.Service) bool {
	return len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount
}

func messages(s types.Service) []string {
	var out []string
	for i := len(s.Events) - 1; i >= 0; i-- { // oldest first
		out = append(out, aws.ToString(s.Events[i].Message))
	}
	return out
}

// inOrder checks that each fragment appears in an event, in this order.
func inOrder(t *testing.T, events []string, fragments ...string) {
	t.Helper()
	i := 0
	for _, e := range events {
		if i < len(fragments) && strings.Contains(e, fragments[i]) {
			i++
		}
	}
	if i < len(fragments) {
		t.Fatalf("events lack %q (in order); events:\n%s", fragments[i], strings.Join(events, "\n"))
	}
}

func TestGoodDeploymentCompletes(t *testing.T) {
	w := newWorld(t)
	v1 := w.register("web:1")
	v2 := w.register("web:2")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4)}, &created)
	w.settle()
	s := w.service()
	if s.RunningCount != 4 || s.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("before the 40 s: running %d, %s", s.RunningCount, s.Deployments[0].RolloutState)
	}
	w.run(40*time.Second, 5*time.Second)
	s = w.service()
	if !stable(s) || s.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("first deployment: %+v", s.Deployments)
	}

	var updated ecs.UpdateServiceOutput
	w.must("UpdateService", &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v2)}, &updated)
	w.settle()
	s = w.service()
	if !equal(t, "deployments", len(s.Deployments), 2) {
		t.Fatalf("100/200 starts all new tasks first: %+v", s.Deployments)
	}
	if !all(
		equal(t, "new deployment's runningCount", s.Deployments[0].RunningCount, 4),
		equal(t, "old deployment's runningCount", s.Deployments[1].RunningCount, 4),
	) {
		t.Fatalf("100/200 starts all new tasks first: %+v", s.Deployments)
	}
	w.run(60*time.Second, 5*time.Second)
	s = w.service()
	if !holds(t, "the service stable after the second deployment", stable(s)) {
		t.Fatalf("second deployment: %+v", s.Deployments)
	}
	if !all(
		equal(t, "service task definition", aws.ToString(s.TaskDefinition), v2),
		equal(t, "deployment task definition", aws.ToString(s.Deployments[0].TaskDefinition), v2),
		equal(t, "rollout state", s.Deployments[0].RolloutState, types.DeploymentRolloutStateCompleted),
		equal(t, "runningCount", s.RunningCount, 4),
	) {
		t.Fatalf("second deployment: %+v", s.Deployments)
	}
	id := aws.ToString(s.Deployments[0].Id)
	inOrder(t, messages(s), "has started 4 tasks", "deployment completed", "has reached a steady state",
		"has started 4 tasks", "has stopped", "(deployment "+id+") deployment completed.", "has reached a steady state.")

	var sds ecs.ListServiceDeploymentsOutput
	w.must("ListServiceDeployments", &ecs.ListServiceDeploymentsInput{Service: aws.String("web")}, &sds)
	for _, sd := range sds.ServiceDeployments {
		if sd.Status != types.ServiceDeploymentStatusSuccessful {
			t.Errorf("service deployment %s: %s", aws.ToString(sd.ServiceDeploymentArn), sd.Status)
		}
	}
}

func TestCrashingRevisionRollsBack(t *testing.T) {
	w := newWorld(t)
	v1 := w.register("web:1")
	crash := w.register("web:crash", "DEMO_CRASH_AFTER", "0s")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	}, &created)
	w.run(45*time.Second, 5*time.Second)
	good := aws.ToString(w.service().Deployments[0].Id)

	var updated ecs.UpdateServiceOutput
	w.must("UpdateService", &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(crash)}, &updated)
	failed := aws.ToString(updated.Service.Deployments[0].Id)
	sawFailed := false
	for range 60 {
		w.clock.Advance(5 * time.Second)
		w.settle()
		for _, d := range w.service().Deployments {
			if aws.ToString(d.Id) == failed && d.RolloutState == types.DeploymentRolloutStateFailed {
				sawFailed = sawFailed || aws.ToString(d.RolloutStateReason) == "ECS deployment circuit breaker: tasks failed to start."
			}
		}
		if s := w.service(); stable(s) && aws.ToString(s.Deployments[0].Id) == good {
			break
		}
	}
	s := w.service()
	if !holds(t, "the service stable after the rollback", stable(s)) {
		t.Fatalf("after the rollback: %+v", s.Deployments)
	}
	if !all(
		equal(t, "deployment after the rollback", aws.ToString(s.Deployments[0].Id), good),
		equal(t, "service task definition", aws.ToString(s.TaskDefinition), v1),
		equal(t, "rollout state", s.Deployments[0].RolloutState, types.DeploymentRolloutStateCompleted),
		equal(t, "deployment status", aws.ToString(s.Deployments[0].Status), ecsmodel.DeploymentPrimary),
	) {
		t.Fatalf("after the rollback: %+v", s.Deployments)
	}
	inOrder(t, messages(s), "(deployment "+failed+") deployment failed: tasks failed to start.", "rolling back to deployment "+good+".",
		"(deployment "+good+") deployment completed.", "has reached a steady state.")
	_ = sawFailed // the failed deployment may leave deployments[] in the step it fails when it has no tasks left

	var sds ecs.ListServiceDeploymentsOutput
	w.must("ListServiceDeployments", &ecs.ListServiceDeploymentsInput{Service: aws.String("web")}, &sds)
	var d ecs.DescribeServiceDeploymentsOutput
	w.must("DescribeServiceDeployments", &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(sds.ServiceDeployments[0].ServiceDeploymentArn)}}, &d)
	sd := d.ServiceDeployments[0]
	if !all(
		equal(t, "service deployment status", sd.Status, types.ServiceDeploymentStatusRollbackSuccessful),
		equal(t, "circuit breaker status", sd.DeploymentCircuitBreaker.Status, types.ServiceDeploymentRollbackMonitorsStatusTriggered),
		holds(t, "failureCount reached the threshold", sd.DeploymentCircuitBreaker.FailureCount >= sd.DeploymentCircuitBreaker.Threshold),
		holds(t, "a rollback recorded", sd.Rollback != nil),
	) {
		t.Fatalf("service deployment: %+v %+v %+v", sd.Status, sd.DeploymentCircuitBreaker, sd.Rollback)
	}
	if !equal(t, "rollback reason", aws.ToString(sd.Rollback.Reason), "ECS deployment circuit breaker: rolling back to deploymentId "+good+".") {
		t.Fatalf("service deployment: %+v %+v %+v", sd.Status, sd.DeploymentCircuitBreaker, sd.Rollback)
	}
	// Nothing of the crashing revision runs any more.
	var tasks ecs.ListTasksOutput
	w.must("ListTasks", &ecs.ListTasksInput{ServiceName: aws.String("web")}, &tasks)
	if len(tasks.TaskArns) != 4 {
		t.Fatalf("running tasks after rollback: %d", len(tasks.TaskArns))
	}
}

func TestCrashWithoutCompletedDeploymentLaunchesNothingMore(t *testing.T) {
	w := newWorld(t)
	crash := w.register("web:crash", "DEMO_CRASH_AFTER", "0s")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(crash), DesiredCount: aws.Int32(2),
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	}, &created)
	w.run(5*time.Minute, 5*time.Second)
	s := w.service()
	if s.Deployments[0].RolloutState != types.DeploymentRolloutStateFailed || s.Deployments[0].FailedTasks < 3 {
		t.Fatalf("deployment: %+v", s.Deployments[0])
	}
	var stopped ecs.ListTasksOutput
	w.must("ListTasks", &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped}, &stopped)
	before := len(stopped.TaskArns)
	w.run(5*time.Minute, 30*time.Second)
	w.must("ListTasks", &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped}, &stopped)
	if len(stopped.TaskArns) != before {
		t.Fatalf("a FAILED deployment with nothing to roll back to kept launching: %d → %d stopped tasks", before, len(stopped.TaskArns))
	}
}

func TestDeleteServiceStopsTasks(t *testing.T) {
	w := newWorld(t)
	v1 := w.register("web:1")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(3)}, &created)
	w.run(45*time.Second, 5*time.Second)
	var deleted ecs.DeleteServiceOutput
	w.must("DeleteService", &ecs.DeleteServiceInput{Service: aws.String("web"), Force: aws.Bool(true)}, &deleted)
	w.settle()
	if s := w.service(); aws.ToString(s.Status) != ecsmodel.ServiceInactive {
		t.Fatalf("after delete: %s running %d", aws.ToString(s.Status), s.RunningCount)
	}
	if w.machine.Tasks() != 0 {
		t.Fatalf("%d tasks still run", w.machine.Tasks())
	}
}

// With a FAILED deployment that was not rolled back, the old deployment
// keeps its tasks: a task of it that stops is replaced with its own
// revision (Plan.Replacements), not with the failed one's.
func TestFailedDeploymentWithoutRollbackKeepsOldTasks(t *testing.T) {
	w := newWorld(t)
	v1 := w.register("web:1")
	crash := w.register("web:crash", "DEMO_CRASH_AFTER", "0s")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: false}},
	}, &created)
	w.run(45*time.Second, 5*time.Second)
	var updated ecs.UpdateServiceOutput
	w.must("UpdateService", &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(crash)}, &updated)
	w.run(5*time.Minute, 5*time.Second)
	if s := w.service(); s.Deployments[0].RolloutState != types.DeploymentRolloutStateFailed || len(s.Deployments) != 2 {
		t.Fatalf("want the crashing deployment FAILED beside the old one: %+v", s.Deployments)
	}

	running := func() (v1Tasks, others int, arns []string) {
		var l ecs.ListTasksOutput
		w.must("ListTasks", &ecs.ListTasksInput{ServiceName: aws.String("web")}, &l)
		var d ecs.DescribeTasksOutput
		w.must("DescribeTasks", &ecs.DescribeTasksInput{Tasks: l.TaskArns}, &d)
		for _, tk := range d.Tasks {
			if aws.ToString(tk.TaskDefinitionArn) == v1 {
				v1Tasks++
			} else {
				others++
			}
		}
		return v1Tasks, others, l.TaskArns
	}
	n, others, arns := running()
	if n != 4 || others != 0 {
		t.Fatalf("before: %d old tasks, %d others", n, others)
	}
	var stop ecs.StopTaskOutput
	w.must("StopTask", &ecs.StopTaskInput{Task: aws.String(arns[0])}, &stop)
	w.run(30*time.Second, 5*time.Second)
	if n, others, _ := running(); n != 4 || others != 0 {
		t.Fatalf("after a stop: %d old tasks, %d others (want 4 of the old revision)", n, others)
	}
}
