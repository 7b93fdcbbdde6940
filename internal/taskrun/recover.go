package taskrun

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// Recover reconciles the store with what the driver still runs after an
// ecsd restart: tasks still running are re-attached and keep their state;
// tasks that were running but are gone are recorded STOPPED, saying the
// runtime lost them; anything the driver runs that the store does not expect
// to run is stopped. Call it once, before Run.
func (r *Runner) Recover(ctx context.Context) error {
	found, err := r.driver.Recover(ctx)
	if err != nil {
		return fmt.Errorf("recovering %s tasks: %w", r.driver.Name(), err)
	}
	byARN := map[string]driver.Recovered{}
	for _, rec := range found {
		byARN[rec.Spec.TaskARN] = rec
	}
	var keys []string
	var tasks []types.Task
	err = r.store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.Tasks, "", func(key string, rec *store.TaskRecord) error {
			if aws.ToString(rec.Task.LastStatus) != ecsmodel.TaskStopped {
				keys = append(keys, key)
				tasks = append(tasks, rec.Task)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for i, t := range tasks {
		arn := aws.ToString(t.TaskArn)
		rec, ok := byARN[arn]
		delete(byARN, arn)
		switch {
		case ok && !rec.Lost:
			r.mu.Lock()
			r.live[arn] = liveTask{key: keys[i], spec: rec.Spec}
			r.mu.Unlock()
			for _, ev := range recoveredEvents(rec) {
				r.HandleEvent(ev)
			}
			r.log.Info("task re-adopted", "task", arn, "driver", r.driver.Name())
		case aws.ToString(t.LastStatus) == ecsmodel.TaskProvisioning:
			// Never handed to a driver: the next pass starts it.
		default:
			reason := fmt.Sprintf("Task stopped because ecsd restarted and the %s runtime no longer runs it", r.driver.Name())
			if _, err := r.update(keys[i], StepNone, func(t *types.Task) { lost(t, reason) }); err != nil {
				return err
			}
			r.log.Warn("task lost across a restart", "task", arn, "driver", r.driver.Name())
		}
	}
	for arn, rec := range byARN {
		if rec.Lost {
			continue
		}
		r.log.Warn("stopping a task ecsd does not know", "task", arn, "driver", r.driver.Name())
		if err := r.driver.Stop(ctx, arn); err != nil {
			r.log.Error("stopping an unknown task", "task", arn, "error", err)
		}
	}
	r.Kick()
	return nil
}

// recoveredEvents replays a recovered task's state as the events that would
// have produced it.
func recoveredEvents(rec driver.Recovered) []driver.Event {
	var evs []driver.Event
	for _, c := range rec.Containers {
		base := driver.Event{TaskARN: rec.Spec.TaskARN, Container: c.Name}
		switch c.Status {
		case driver.StatusRunning:
			ev := base
			ev.Kind, ev.RuntimeID, ev.Bindings, ev.Health = driver.Started, c.RuntimeID, c.Bindings, c.Health
			evs = append(evs, ev)
		case driver.StatusStopped:
			ev := base
			ev.Kind, ev.ExitCode, ev.Reason = driver.Exited, c.ExitCode, c.Reason
			evs = append(evs, ev)
		}
	}
	return evs
}

// lost records a task whose runtime lost it.
func lost(t *types.Task, reason string) {
	if aws.ToString(t.DesiredStatus) != ecsmodel.TaskStopped {
		t.DesiredStatus = aws.String(ecsmodel.TaskStopped)
		t.StoppedReason = aws.String(reason)
	}
	t.LastStatus = aws.String(ecsmodel.TaskDeprovisioning)
	for i := range t.Containers {
		if aws.ToString(t.Containers[i].LastStatus) != ecsmodel.ContainerStopped {
			t.Containers[i].LastStatus = aws.String(ecsmodel.ContainerStopped)
			t.Containers[i].Reason = aws.String("lost by the runtime across an ecsd restart")
		}
	}
}
