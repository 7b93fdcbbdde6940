package taskrun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// Load balancing, as ECS does it for a service's tasks:
//
//   - ACTIVATING → RUNNING: the task's targets (127.0.0.1 and the host port
//     bound to each load balancer's containerName/containerPort) are
//     registered in their target groups; "(service X) registered 1 targets
//     in (target-group ARN)".
//   - RUNNING → DEACTIVATING when the task is told to stop: its targets are
//     deregistered, which starts draining (no new requests, in-flight ones
//     finish); "deregistered 1 targets" and "has begun draining
//     connections on 1 tasks". The task stays DEACTIVATING until every
//     drain has ended (idle or deregistration delay), and only then is it
//     stopped (SIGTERM, then SIGKILL after stopTimeout). The draining
//     targets are stored with the task (TaskRecord.Draining): after an
//     ecsd restart the runner looks the drains up again (the load balancer
//     resumes them until their stored deadlines) and still waits.
//   - A task that ends by itself is deregistered when it is recorded
//     STOPPED, without waiting: nothing serves there any more.

// ReasonRegistrationFailed starts the stoppedReason of a task that could
// not be registered in its target group.
const ReasonRegistrationFailed = "Task failed to register in its load balancer"

// TargetsFor returns a task's targets: for each load balancer, the host
// port bound to its container port.
func TargetsFor(t types.Task, lbs []types.LoadBalancer) ([]store.TaskTarget, error) {
	out := make([]store.TaskTarget, 0, len(lbs))
	for _, lb := range lbs {
		name, port := aws.ToString(lb.ContainerName), aws.ToInt32(lb.ContainerPort)
		host := int32(0)
		for _, c := range t.Containers {
			if aws.ToString(c.Name) != name {
				continue
			}
			for _, b := range c.NetworkBindings {
				if aws.ToInt32(b.ContainerPort) == port && aws.ToInt32(b.HostPort) != 0 {
					host = aws.ToInt32(b.HostPort)
				}
			}
		}
		if host == 0 {
			return nil, fmt.Errorf("container %s publishes no host port for container port %d", name, port)
		}
		out = append(out, store.TaskTarget{TargetGroupARN: aws.ToString(lb.TargetGroupArn), Port: host})
	}
	return out, nil
}

// activate records the task RUNNING and registers its targets.
func (r *Runner) activate(u unfinished, now time.Time) error {
	targets, err := TargetsFor(u.task, u.lbs)
	if err == nil && len(targets) > 0 && r.targets == nil {
		err = fmt.Errorf("this ecsd has no load balancer")
	}
	if err != nil {
		return r.failRegistration(u, err)
	}
	ok, err := r.updateRecord(u.key, StepActivate, func(rec *store.TaskRecord) {
		rec.Task.LastStatus = aws.String(ecsmodel.TaskRunning)
		rec.Task.StartedAt = aws.Time(now)
		rec.Targets = targets
	})
	if err != nil || !ok {
		return err
	}
	for _, tg := range targets {
		if err := r.targets.RegisterTarget(tg.TargetGroupARN, int(tg.Port)); err != nil {
			return r.failRegistration(u, fmt.Errorf("target group %s: %w", tg.TargetGroupARN, err))
		}
		r.emit(u, fmt.Sprintf("registered 1 targets in (target-group %s)", tg.TargetGroupARN))
	}
	return nil
}

// failRegistration stops a task that cannot take traffic.
func (r *Runner) failRegistration(u unfinished, cause error) error {
	r.log.Warn("task cannot be registered in its load balancer; stopping it", "task", aws.ToString(u.task.TaskArn), "error", cause)
	_, err := r.update(u.key, StepNone, func(t *types.Task) {
		if aws.ToString(t.DesiredStatus) == ecsmodel.TaskStopped {
			return
		}
		t.DesiredStatus = aws.String(ecsmodel.TaskStopped)
		t.StopCode = types.TaskStopCodeServiceSchedulerInitiated
		t.StoppedReason = aws.String(ReasonRegistrationFailed + ": " + cause.Error())
	})
	return err
}

// deactivate deregisters the task's targets and records it DEACTIVATING
// with its draining targets; the stop waits until the drains end.
func (r *Runner) deactivate(ctx context.Context, u unfinished) error {
	arn := aws.ToString(u.task.TaskArn)
	if len(u.targets) > 0 && r.targets != nil {
		r.watchDrains(ctx, arn, u.targets)
	}
	ok, err := r.updateRecord(u.key, StepDeactivate, func(rec *store.TaskRecord) {
		rec.Task.LastStatus = aws.String(ecsmodel.TaskDeactivating)
		rec.Draining = rec.Targets
		rec.Targets = nil
	})
	if err != nil || !ok {
		return err
	}
	for _, tg := range u.targets {
		r.emit(u, fmt.Sprintf("deregistered 1 targets in (target-group %s)", tg.TargetGroupARN))
	}
	if len(u.targets) > 0 {
		set := aws.ToString(u.task.StartedBy)
		r.emitPrefixed(u, set, "has begun draining connections on 1 tasks.")
	}
	return nil
}

// watchDrains deregisters targets (which starts their drains, or, for
// targets already draining, finds the drains in progress: after an ecsd
// restart, drains resume until their stored deadlines) and asks for a
// pass when every drain has ended.
func (r *Runner) watchDrains(ctx context.Context, arn string, targets []store.TaskTarget) {
	var drains []<-chan struct{}
	for _, tg := range targets {
		done, err := r.targets.DeregisterTarget(tg.TargetGroupARN, int(tg.Port))
		if err != nil {
			r.log.Warn("deregistering a task's target", "task", arn, "target_group", tg.TargetGroupARN, "error", err)
			continue
		}
		drains = append(drains, done)
	}
	r.mu.Lock()
	r.drains[arn] = drains
	r.mu.Unlock()
	go r.awaitDrains(ctx, drains)
}

// awaitDrains asks for a pass when the drains end (or ctx does, which
// gives up on them).
func (r *Runner) awaitDrains(ctx context.Context, drains []<-chan struct{}) {
	for _, done := range drains {
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
	r.Kick()
}

// draining says whether a deactivated task's targets are still draining.
// It looks at the drains themselves, so a pass that follows the end of a
// drain sees it. A DEACTIVATING task whose drains this run has not seen
// (ecsd restarted) has them looked up from its stored draining targets.
func (r *Runner) draining(ctx context.Context, u unfinished) bool {
	arn := aws.ToString(u.task.TaskArn)
	r.mu.Lock()
	drains, known := r.drains[arn]
	r.mu.Unlock()
	if !known && len(u.draining) > 0 && r.targets != nil {
		r.watchDrains(ctx, arn, u.draining)
		r.mu.Lock()
		drains = r.drains[arn]
		r.mu.Unlock()
	}
	for _, done := range drains {
		select {
		case <-done:
		default:
			return true
		}
	}
	r.mu.Lock()
	delete(r.drains, arn)
	r.mu.Unlock()
	return false
}

// deregister removes a finished task's remaining targets without waiting.
func (r *Runner) deregister(u unfinished) {
	if r.targets == nil {
		return
	}
	for _, tg := range u.targets {
		if _, err := r.targets.DeregisterTarget(tg.TargetGroupARN, int(tg.Port)); err != nil {
			r.log.Warn("deregistering a stopped task's target", "task", aws.ToString(u.task.TaskArn), "target_group", tg.TargetGroupARN, "error", err)
			continue
		}
		r.emit(u, fmt.Sprintf("deregistered 1 targets in (target-group %s)", tg.TargetGroupARN))
	}
}

// emit records "(service X) message" for the task's service.
func (r *Runner) emit(u unfinished, message string) { r.emitPrefixed(u, "", message) }

// emitPrefixed records "(service X, taskSet S) message" when taskSet is set.
func (r *Runner) emitPrefixed(u unfinished, taskSet, message string) {
	service, ok := ecsmodel.ServiceOfGroup(aws.ToString(u.task.Group))
	if r.event == nil || !ok {
		return
	}
	parts := strings.SplitN(u.key, "/", 3)
	if len(parts) != 3 {
		return
	}
	head := "(service " + service + ")"
	if taskSet != "" {
		head = "(service " + service + ", taskSet " + taskSet + ")"
	}
	r.event(parts[0], parts[1], service, head+" "+message)
}
