package taskrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// Config wires a Runner.
type Config struct {
	Store  *store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// StoppedRetention is how long a STOPPED task stays describable
	// (ECS: at least an hour); 0 means DefaultStoppedRetention.
	StoppedRetention time.Duration
	// Targets registers tasks of load-balanced services in their target
	// groups; nil means ecsd has no load balancer, and such tasks fail.
	Targets Targets
	// ServiceEvent, if set, records an event of the service a task belongs
	// to (target registration and draining).
	ServiceEvent func(region, cluster, service, message string)
}

// Targets is the load balancer as the task runner uses it: the ELBv2
// target groups, addressed by ARN, with targets at 127.0.0.1:port.
type Targets interface {
	RegisterTarget(targetGroupARN string, port int) error
	// DeregisterTarget starts draining; the channel closes when it ends.
	DeregisterTarget(targetGroupARN string, port int) (<-chan struct{}, error)
}

// DefaultStoppedRetention is how long ECS keeps stopped tasks visible.
const DefaultStoppedRetention = time.Hour

// Runner keeps stored tasks and the driver's reality in step.
type Runner struct {
	store  *store.Store
	clock  clock.Clock
	log    *slog.Logger
	driver driver.Driver

	retention time.Duration
	targets   Targets
	event     func(region, cluster, service, message string)

	mu     sync.Mutex
	live   map[string]liveTask          // tasks the driver has, by task ARN
	drains map[string][]<-chan struct{} // DEACTIVATING tasks whose targets are draining: their drains

	kick chan struct{}
}

type liveTask struct {
	key  string // store key of the task
	spec driver.TaskSpec
}

// New returns a Runner; give it its driver with Attach before Recover or Run.
// The driver's sink must be the Runner's HandleEvent.
func New(cfg Config) *Runner {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StoppedRetention <= 0 {
		cfg.StoppedRetention = DefaultStoppedRetention
	}
	r := &Runner{store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, retention: cfg.StoppedRetention, targets: cfg.Targets, event: cfg.ServiceEvent,
		live: map[string]liveTask{}, drains: map[string][]<-chan struct{}{}, kick: make(chan struct{}, 1)}
	cfg.Store.Subscribe(func(changes []store.Change) {
		for _, c := range changes {
			if c.Bucket == store.Tasks {
				r.Kick()
				return
			}
		}
	})
	return r
}

// Attach sets the driver the Runner runs tasks with.
func (r *Runner) Attach(d driver.Driver) { r.driver = d }

// Kick asks for a pass soon; it never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run makes passes whenever tasks change, until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	r.Kick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			if err := r.Pass(ctx); err != nil {
				r.log.Error("running tasks", "error", err)
			}
		}
	}
}

func (r *Runner) now() time.Time { return r.clock.Now().UTC().Truncate(time.Millisecond) }

func (r *Runner) liveTask(arn string) (liveTask, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lt, ok := r.live[arn]
	return lt, ok
}

// HandleEvent is the driver's sink: it records what happened to a task.
func (r *Runner) HandleEvent(ev driver.Event) {
	lt, ok := r.liveTask(ev.TaskARN)
	if !ok {
		return // a task ecsd stopped tracking (stopped after recovery)
	}
	err := r.store.Update(func(tx *store.Tx) error {
		var rec store.TaskRecord
		found, err := tx.Get(store.Tasks, lt.key, &rec)
		if err != nil || !found {
			return err
		}
		ApplyEvent(&rec.Task, lt.spec, ev, r.now())
		if ev.Kind == driver.TaskStopped && rec.Task.StoppingAt == nil {
			rec.Task.StoppingAt = rec.Task.ExecutionStoppedAt
		}
		return tx.Put(store.Tasks, lt.key, rec)
	})
	if err != nil {
		r.log.Error("recording a task event", "event", ev.String(), "error", err)
	}
}

// unfinished is a task the pass looks at.
type unfinished struct {
	key      string
	task     types.Task
	td       types.TaskDefinition
	lbs      []types.LoadBalancer
	targets  []store.TaskTarget
	draining []store.TaskTarget
}

// Pass takes one step for every task that needs one, and forgets tasks
// that stopped longer ago than the retention.
func (r *Runner) Pass(ctx context.Context) error {
	var todo []unfinished
	var expired []string
	cutoff := r.clock.Now().Add(-r.retention)
	err := r.store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.Tasks, "", func(key string, rec *store.TaskRecord) error {
			if at := rec.Task.StoppedAt; at != nil && aws.ToString(rec.Task.LastStatus) == ecsmodel.TaskStopped && at.Before(cutoff) {
				expired = append(expired, key)
				return nil
			}
			_, live := r.liveTask(aws.ToString(rec.Task.TaskArn))
			step := NextStep(rec.Task, live)
			if step == StepNone {
				return nil
			}
			u := unfinished{key: key, task: rec.Task, lbs: rec.LoadBalancers, targets: rec.Targets, draining: rec.Draining}
			if step == StepStart {
				td, err := taskDefinition(tx, key, aws.ToString(rec.Task.TaskDefinitionArn))
				if err != nil {
					return err
				}
				u.td = td
			}
			todo = append(todo, u)
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(expired) > 0 {
		if err := r.store.Update(func(tx *store.Tx) error {
			for _, key := range expired {
				if err := tx.Delete(store.Tasks, key); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("forgetting stopped tasks: %w", err)
		}
	}
	var errs []error
	for _, u := range todo {
		if err := r.step(ctx, u); err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", aws.ToString(u.task.TaskArn), err))
		}
	}
	return errors.Join(errs...)
}

// taskDefinition loads the revision a task runs.
func taskDefinition(tx *store.Tx, taskKey, arn string) (types.TaskDefinition, error) {
	region, _, _ := strings.Cut(taskKey, "/")
	ref := arn[strings.LastIndex(arn, "/")+1:]
	family, rev, _ := strings.Cut(ref, ":")
	n, _ := strconv.Atoi(rev)
	var rec store.TaskDefinitionRecord
	found, err := tx.Get(store.TaskDefinitions, store.RevisionKey(region, family, int32(n)), &rec)
	if err != nil {
		return types.TaskDefinition{}, err
	}
	if !found {
		return types.TaskDefinition{}, fmt.Errorf("task definition %s is gone", arn)
	}
	return rec.TaskDefinition, nil
}

// update applies change to the stored task if its next step is still want
// (StepNone: unconditionally, unless the task is gone).
func (r *Runner) update(key string, want Step, change func(t *types.Task)) (bool, error) {
	return r.updateRecord(key, want, func(rec *store.TaskRecord) { change(&rec.Task) })
}

// updateRecord is update with the whole task record.
func (r *Runner) updateRecord(key string, want Step, change func(rec *store.TaskRecord)) (bool, error) {
	applied := false
	err := r.store.Update(func(tx *store.Tx) error {
		var rec store.TaskRecord
		found, err := tx.Get(store.Tasks, key, &rec)
		if err != nil || !found {
			return err
		}
		_, live := r.liveTask(aws.ToString(rec.Task.TaskArn))
		if want != StepNone && NextStep(rec.Task, live) != want {
			return nil
		}
		change(&rec)
		rec.Task.Version++
		applied = true
		return tx.Put(store.Tasks, key, rec)
	})
	return applied, err
}

func (r *Runner) step(ctx context.Context, u unfinished) error {
	arn := aws.ToString(u.task.TaskArn)
	now := r.now()
	_, live := r.liveTask(arn)
	switch step := NextStep(u.task, live); step {
	case StepStart:
		spec := SpecFor(u.task, u.td)
		if err := driver.Validate(spec); err != nil {
			_, uerr := r.update(u.key, StepStart, func(t *types.Task) { failToStart(t, describeStopFailure(err), now) })
			return uerr
		}
		// Record PENDING before the driver can report anything.
		ok, err := r.update(u.key, StepStart, func(t *types.Task) {
			if aws.ToString(t.LastStatus) != ecsmodel.TaskProvisioning || aws.ToString(t.DesiredStatus) != ecsmodel.TaskRunning {
				return
			}
			t.LastStatus = aws.String(ecsmodel.TaskPending)
			t.Connectivity = types.ConnectivityConnected
			t.ConnectivityAt = aws.Time(now)
		})
		if err != nil || !ok {
			return err
		}
		r.mu.Lock()
		r.live[arn] = liveTask{key: u.key, spec: spec}
		r.mu.Unlock()
		if err := r.driver.Start(ctx, spec); err != nil {
			r.forget(arn)
			_, uerr := r.update(u.key, StepNone, func(t *types.Task) { failToStart(t, describeStopFailure(err), now) })
			return errors.Join(fmt.Errorf("starting: %w", err), uerr)
		}
		r.log.Info("task started", "task", arn, "driver", r.driver.Name())
		return nil
	case StepDiscard:
		_, err := r.update(u.key, step, func(t *types.Task) {
			t.LastStatus = aws.String(ecsmodel.TaskStopped)
			t.StoppingAt, t.ExecutionStoppedAt, t.StoppedAt = aws.Time(now), aws.Time(now), aws.Time(now)
			for i := range t.Containers {
				t.Containers[i].LastStatus = aws.String(ecsmodel.ContainerStopped)
			}
		})
		return err
	case StepActivate:
		return r.activate(u, now)
	case StepDeactivate:
		return r.deactivate(ctx, u)
	case StepStop:
		if r.draining(ctx, u) {
			return nil // the deactivation's drain ends first
		}
		ok, err := r.updateRecord(u.key, step, func(rec *store.TaskRecord) {
			rec.Draining = nil
			rec.Task.LastStatus = aws.String(ecsmodel.TaskStopping)
			rec.Task.StoppingAt = aws.Time(now)
		})
		if err != nil || !ok {
			return err
		}
		if err := r.driver.Stop(ctx, arn); err != nil && !errors.Is(err, driver.ErrUnknownTask) {
			return fmt.Errorf("stopping: %w", err)
		}
		return nil
	case StepFinish:
		// A task that ended by itself while registered leaves its target
		// groups now, without draining: nothing serves there any more.
		r.deregister(u)
		_, err := r.updateRecord(u.key, step, func(rec *store.TaskRecord) {
			rec.Targets = nil
			t := &rec.Task
			t.LastStatus = aws.String(ecsmodel.TaskStopped)
			t.StoppedAt = aws.Time(now)
			if t.ExecutionStoppedAt == nil {
				t.ExecutionStoppedAt = aws.Time(now)
			}
			for i := range t.Containers {
				t.Containers[i].LastStatus = aws.String(ecsmodel.ContainerStopped)
			}
		})
		if err == nil {
			r.forget(arn)
		}
		return err
	}
	return nil
}

func (r *Runner) forget(arn string) {
	r.mu.Lock()
	delete(r.live, arn)
	r.mu.Unlock()
}

// failToStart records a task that could not be started at all.
func failToStart(t *types.Task, reason string, now time.Time) {
	t.DesiredStatus = aws.String(ecsmodel.TaskStopped)
	t.LastStatus = aws.String(ecsmodel.TaskStopped)
	t.StopCode = types.TaskStopCodeTaskFailedToStart
	t.StoppedReason = aws.String(reason)
	t.StoppingAt, t.ExecutionStoppedAt, t.StoppedAt = aws.Time(now), aws.Time(now), aws.Time(now)
	for i := range t.Containers {
		t.Containers[i].LastStatus = aws.String(ecsmodel.ContainerStopped)
	}
}
