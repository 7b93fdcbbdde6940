package rollout

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Plan is one step of the rolling scheduler: what to do now and what to
// record. The caller applies it in full, then calls Decide again when the
// store changes or RequeueAfter elapses, whichever comes first.
type Plan struct {
	// DesiredCount is what the PRIMARY deployment runs after this step:
	// the service's desiredCount, capped at Params.MaxTasksPerService, or
	// 0 for a DRAINING service.
	DesiredCount int32
	// Start asks for Start.Count new tasks of Start.DeploymentID (always
	// the PRIMARY deployment). Once they exist, emit StartedEvent with
	// their IDs.
	Start Start
	// Replacements ask for tasks of ACTIVE deployments: while the PRIMARY
	// is FAILED (circuit breaker without rollback) and launches nothing,
	// the deployments it did not replace keep their desired counts and
	// replace unhealthy or missing tasks with their own revision. Emit
	// StartedEvent for them too.
	Replacements []Start
	// Stops are tasks to stop (set desiredStatus STOPPED), in order.
	Stops []Stop
	// Deployments is the service's new deployments[]: PRIMARY first, then
	// ACTIVE ones newest first, with counts and rollout states updated and
	// drained deployments left out.
	Deployments []Deployment
	// Removed are the IDs of deployments that left deployments[] in this
	// step (all their tasks have stopped).
	Removed []string
	// RunningCount and PendingCount are the service's counts: tasks whose
	// lastStatus is RUNNING, and tasks not yet RUNNING plus Start.Count.
	RunningCount int32
	PendingCount int32
	// Events to add to the service's events, in order.
	Events []Event
	// Accounted lists STOPPED tasks whose failure accounting is part of
	// this plan: set Task.Accounted (or drop the task from State).
	Accounted []string
	// SeenHealthy lists tasks healthy for the first time: set
	// Task.SeenHealthy.
	SeenHealthy []string
	// Memory replaces State.Memory.
	Memory Memory
	// Rollback is set when the circuit breaker rolled the service back in
	// this step; the service's taskDefinition becomes Rollback.TaskDefinition.
	Rollback *Rollback
	// Deadlocked: the deployment configuration allows neither a stop nor a
	// start (also kept in Memory.Deadlocked).
	Deadlocked bool
	// Throttled: launches are held back by the start-failure back-off.
	Throttled bool
	// OverLimit: the service's desiredCount is above
	// Params.MaxTasksPerService (a record written by an older ecsd); the
	// scheduler runs the limit (also kept in Memory.OverLimit).
	OverLimit bool
	// RequeueAfter is when the decision changes by itself if nothing else
	// does (a task turns healthy after HealthyAfterRunning, a grace period
	// ends, the back-off ends); 0 means only a state change matters.
	RequeueAfter time.Duration
}

// Empty reports whether the plan asks for no task to start or stop.
func (p Plan) Empty() bool {
	return p.Start.Count == 0 && len(p.Stops) == 0 && len(p.Replacements) == 0
}

// Primary returns the plan's PRIMARY deployment.
func (p Plan) Primary() (Deployment, bool) {
	for _, d := range p.Deployments {
		if d.Status == ecsmodel.DeploymentPrimary {
			return d, true
		}
	}
	return Deployment{}, false
}

// Start is a number of tasks to launch for a deployment.
type Start struct {
	DeploymentID   string
	TaskDefinition string
	Count          int32
}

// StopCause says why a task is stopped.
type StopCause string

// Stop causes.
const (
	// StopScaling: the deployment has more tasks than it should (rolling
	// update, scale-in, service deletion).
	StopScaling StopCause = "Scaling"
	// StopContainerHealth: the task failed its container health checks.
	StopContainerHealth StopCause = "ContainerHealth"
	// StopELBHealth: the task's target failed its ELB health checks.
	StopELBHealth StopCause = "ELBHealth"
)

// Stop is a task to stop.
type Stop struct {
	TaskARN      string
	DeploymentID string
	Cause        StopCause
	// Code and Reason go into the task's stopCode and stoppedReason.
	Code   types.TaskStopCode
	Reason string
}

// Rollback describes a circuit-breaker rollback.
type Rollback struct {
	FailedDeploymentID string // now ACTIVE, FAILED, being drained
	ToDeploymentID     string // PRIMARY again, IN_PROGRESS, its own id
	TaskDefinition     string // the service's task definition from now on
}

// healthCause is why an unhealthy task (with checks c) is stopped: its
// container health when that fails, else its target's.
func healthCause(t *Task, c checks) StopCause {
	if c.container && t.HealthStatus == types.HealthStatusUnhealthy {
		return StopContainerHealth
	}
	return StopELBHealth
}

// healthStop returns the stoppedReason and the event of a task stopped by
// the scheduler for failing health checks (cause StopContainerHealth or
// StopELBHealth).
func healthStop(service string, t *Task, cause StopCause) (reason string, ev Event) {
	if cause == StopContainerHealth {
		return ContainerHealthReason, containerUnhealthyEvent(service, t.ID())
	}
	return ELBHealthReason(t.TargetGroupARN), targetUnhealthyEvent(service, t)
}
