package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/controller"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/ecsapi"
	assembly "github.com/ecsd/ecsd/internal/ecsd"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
)

const (
	worldRegion  = "us-east-1"
	worldAccount = "123456789012"
	worldCluster = "default"
	worldService = "web"
)

// serviceKey is the store key of the world's service.
var serviceKey = store.Key(worldRegion, worldCluster, worldService)

// world is ecsd without HTTP (the ecsd assembly without a listener), as in
// internal/controller/services_test.go: the API, the task runner on the
// fake driver, the service scheduler and the drainer, all on one fake
// clock, driven step by step by settle. Nothing runs in the background
// except the fake driver's event emitter.
type world struct {
	dir      string
	server   *assembly.Server
	st       *store.Store
	clock    *clock.Fake
	api      *ecsapi.API
	machine  *fake.Machine
	driver   *fake.Driver
	runner   *taskrun.Runner
	services *controller.Services
	drainer  *controller.Drainer

	// Counted by a store subscriber: committed write transactions and the
	// keys they wrote, by bucket.
	commits, taskWrites, serviceWrites atomic.Int64

	// What settle did.
	syncs, steps, rounds int64
	syncTime             time.Duration // inside Services.Sync
	runnerTime           time.Duration // Runner.Pass + driver drains
	drainerTime          time.Duration // Drainer.Pass
}

var bg = context.Background()

// newWorld builds an ecsd (no listener) on a new data dir under parent.
// params are the scheduler's timings (zero: ECS's, e.g. healthy 40 s after
// RUNNING).
func newWorld(parent string, params rollout.Params) (*world, error) {
	dir, err := os.MkdirTemp(parent, "ecsd-bench-rollout-")
	if err != nil {
		return nil, err
	}
	benchkit.AtExit(func() { os.RemoveAll(dir) }) // on Ctrl-C or a fatal error
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	w := &world{dir: dir, clock: clk, machine: fake.NewMachine(clk)}
	s, err := assembly.New(assembly.Config{
		DataDir: dir, Region: worldRegion, AccountID: worldAccount, Params: params, Clock: clk, Logger: quiet,
		Driver: func(sink driver.Sink) (driver.Driver, error) {
			w.driver = w.machine.NewDriver(sink, fake.Options{Logger: quiet})
			return w.driver, nil
		},
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	w.server, w.st, w.api, w.runner, w.services, w.drainer = s, s.Store, s.ECS, s.Tasks, s.Services, s.Drainer
	w.st.Subscribe(func(changes []store.Change) {
		w.commits.Add(1)
		for _, c := range changes {
			switch c.Bucket {
			case store.Tasks:
				w.taskWrites.Add(1)
			case store.Services:
				w.serviceWrites.Add(1)
			}
		}
	})
	return w, nil
}

func (w *world) close() {
	w.server.Close()
	os.RemoveAll(w.dir)
}

// call runs one ECS API operation in process (no HTTP).
func (w *world) call(op string, in, out any) error {
	body, err := awsproto.EncodeJSON(in)
	if err != nil {
		return err
	}
	resp, err := w.api.Handle(bg, worldRegion, op, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return awsproto.DecodeJSON(resp, out, awsproto.DecodeOptions{})
}

// register registers revision `image` of family web: one container app, no
// health check, starting at once on the fake driver.
func (w *world) register(image string) (string, error) {
	c := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(64)}
	var out ecs.RegisterTaskDefinitionOutput
	if err := w.call("RegisterTaskDefinition", &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{c}}, &out); err != nil {
		return "", err
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

func (w *world) service() (types.Service, error) {
	var out ecs.DescribeServicesOutput
	if err := w.call("DescribeServices", &ecs.DescribeServicesInput{Services: []string{worldService}}, &out); err != nil {
		return types.Service{}, err
	}
	if len(out.Services) != 1 {
		return types.Service{}, fmt.Errorf("DescribeServices: %d services, failures %v", len(out.Services), out.Failures)
	}
	return out.Services[0], nil
}

// maxRounds bounds one settle: a round that changes no task and whose sync
// plans nothing ends it long before.
const maxRounds = 1000

// settle lets the runner, the driver, the scheduler and the drainer do
// everything that needs no time to pass. Unlike the test's fixed 10 rounds
// it stops at the first round in which the sync planned nothing and no task
// record was written (the sync itself writes the service record every time,
// so "no commit at all" never happens).
func (w *world) settle() error {
	for range maxRounds {
		w.rounds++
		before := w.taskWrites.Load()

		t0 := time.Now()
		w.driver.Drain(bg)
		if err := w.runner.Pass(bg); err != nil {
			return fmt.Errorf("runner pass: %w", err)
		}
		w.driver.Drain(bg)
		t1 := time.Now()
		plan, err := w.services.Sync(serviceKey)
		t2 := time.Now()
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		w.syncs++
		if !plan.Empty() || plan.Rollback != nil {
			w.steps++
		}
		if err := w.drainer.Pass(); err != nil {
			return fmt.Errorf("drainer pass: %w", err)
		}
		t3 := time.Now()
		w.runnerTime += t1.Sub(t0)
		w.syncTime += t2.Sub(t1)
		w.drainerTime += t3.Sub(t2)

		if plan.Empty() && plan.Rollback == nil && w.taskWrites.Load() == before {
			return nil
		}
	}
	return fmt.Errorf("not settled after %d rounds", maxRounds)
}

// until advances the fake clock by step and settles, until done says so or
// limit of simulated time has passed.
func (w *world) until(step, limit time.Duration, done func(types.Service) bool) (types.Service, error) {
	start := w.clock.Now()
	for {
		s, err := w.service()
		if err != nil {
			return s, err
		}
		if done(s) {
			return s, nil
		}
		if w.clock.Now().Sub(start) >= limit {
			return s, fmt.Errorf("not done after %s of simulated time: %s", limit, describeDeployments(s))
		}
		w.clock.Advance(step)
		if err := w.settle(); err != nil {
			return s, err
		}
	}
}

// completed: one deployment, COMPLETED, of taskDef, with every task running
// (the SDK's ServicesStable condition, plus the rollout state).
func completed(taskDef string) func(types.Service) bool {
	return func(s types.Service) bool {
		return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			aws.ToString(s.Deployments[0].TaskDefinition) == taskDef && s.RunningCount == s.DesiredCount
	}
}

func describeDeployments(s types.Service) string {
	out := fmt.Sprintf("service running %d pending %d desired %d;", s.RunningCount, s.PendingCount, s.DesiredCount)
	for _, d := range s.Deployments {
		out += fmt.Sprintf(" [%s %s %s running %d pending %d desired %d]", aws.ToString(d.Id), aws.ToString(d.Status), d.RolloutState, d.RunningCount, d.PendingCount, d.DesiredCount)
	}
	return out
}

// newSteadyService creates a service of n tasks and runs it until its
// deployment is COMPLETED: every task RUNNING and healthy.
func newSteadyService(w *world, n int32, image string) (taskDef string, err error) {
	td, err := w.register(image)
	if err != nil {
		return "", err
	}
	var out ecs.CreateServiceOutput
	if err := w.call("CreateService", &ecs.CreateServiceInput{ServiceName: aws.String(worldService), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(n)}, &out); err != nil {
		return "", err
	}
	if err := w.settle(); err != nil {
		return "", err
	}
	_, err = w.until(5*time.Second, 10*time.Minute, completed(td))
	return td, err
}
