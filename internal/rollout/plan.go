package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Plan is one step of the rolling scheduler: what to do now and what to
// record. The caller applies it in full, then calls Decide again when the
// store changes or RequeueAfter elapses, whichever comes first.
type Plan struct {
	// DesiredCount is the service's desiredCount after this step: the
	// input, or 0 for a DRAINING service.
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

// EventKind classifies events.
type EventKind string

// Event kinds.
const (
	EventStarted             EventKind = "TasksStarted"
	EventStopped             EventKind = "TasksStopped"
	EventContainerUnhealthy  EventKind = "ContainerUnhealthy"
	EventTargetUnhealthy     EventKind = "TargetUnhealthy"
	EventDeploymentCompleted EventKind = "DeploymentCompleted"
	EventDeploymentFailed    EventKind = "DeploymentFailed"
	EventRollingBack         EventKind = "RollingBack"
	EventSteadyState         EventKind = "SteadyState"
	EventThrottled           EventKind = "Throttled"
	EventDeadlock            EventKind = "Deadlock"
)

// Event is a service event. Key is stable for the same condition (e.g.
// "Deadlock", "DeploymentCompleted/ecs-svc/1"), so the caller can
// de-duplicate; Message is ECS's text.
type Event struct {
	Kind    EventKind
	Key     string
	Message string
}

// Reasons and messages, as ECS writes them.

// ScalingReason is the stoppedReason of a task stopped because its
// deployment shrank.
func ScalingReason(deploymentID string) string {
	return "Scaling activity initiated by (deployment " + deploymentID + ")"
}

// ContainerHealthReason is the stoppedReason of a task that failed its
// container health checks.
const ContainerHealthReason = "Task failed container health checks"

// ELBHealthReason is the stoppedReason of a task that failed its target
// group's health checks.
func ELBHealthReason(targetGroupARN string) string {
	return "Task failed ELB health checks in (target-group " + targetGroupARN + ")"
}

const elbHealthReasonPrefix = "Task failed ELB health checks"

// InProgressReason is the rolloutStateReason of an IN_PROGRESS deployment.
func InProgressReason(id string) string { return "ECS deployment " + id + " in progress." }

// CompletedReason is the rolloutStateReason of a COMPLETED deployment.
func CompletedReason(id string) string { return "ECS deployment " + id + " completed." }

// BreakerFailedReason is the rolloutStateReason of a deployment the
// circuit breaker failed.
const BreakerFailedReason = "ECS deployment circuit breaker: tasks failed to start."

// BreakerRollbackReason is the rolloutStateReason of the deployment a
// rollback returns to.
func BreakerRollbackReason(id string) string {
	return "ECS deployment circuit breaker: rolling back to deploymentId " + id + "."
}

// TaskID returns the task ID at the end of a task ARN.
func TaskID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func taskList(ids []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("(task ")
		b.WriteString(id)
		b.WriteByte(')')
	}
	return b.String()
}

// StartedEvent is the event for tasks started by a Plan's Start, once the
// caller knows their IDs: "(service X) has started 2 tasks: (task a) (task b)."
func StartedEvent(service string, taskIDs []string) Event {
	return Event{
		Kind:    EventStarted,
		Key:     string(EventStarted) + "/" + strings.Join(taskIDs, ","),
		Message: fmt.Sprintf("(service %s) has started %d tasks: %s.", service, len(taskIDs), taskList(taskIDs)),
	}
}

func stoppedEvent(service string, taskIDs []string) Event {
	return Event{
		Kind:    EventStopped,
		Key:     string(EventStopped) + "/" + strings.Join(taskIDs, ","),
		Message: fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", service, len(taskIDs), taskList(taskIDs)),
	}
}

func containerUnhealthyEvent(service, taskID string) Event {
	return Event{
		Kind:    EventContainerUnhealthy,
		Key:     string(EventContainerUnhealthy) + "/" + taskID,
		Message: fmt.Sprintf("(service %s) (task %s) failed container health checks.", service, taskID),
	}
}

func targetUnhealthyEvent(service string, t *Task) Event {
	port := ""
	if t.TargetPort != 0 {
		port = fmt.Sprintf(" (port %d)", t.TargetPort)
	}
	reason := t.TargetReason
	if reason == "" {
		reason = "Health checks failed"
	}
	id := t.ID()
	return Event{
		Kind:    EventTargetUnhealthy,
		Key:     string(EventTargetUnhealthy) + "/" + id,
		Message: fmt.Sprintf("(service %s) (task %s)%s is unhealthy in (target-group %s) due to (reason %s).", service, id, port, t.TargetGroupARN, reason),
	}
}

func completedEvent(service, id string) Event {
	return Event{
		Kind:    EventDeploymentCompleted,
		Key:     string(EventDeploymentCompleted) + "/" + id,
		Message: fmt.Sprintf("(service %s) (deployment %s) deployment completed.", service, id),
	}
}

func failedEvent(service, id string) Event {
	return Event{
		Kind:    EventDeploymentFailed,
		Key:     string(EventDeploymentFailed) + "/" + id,
		Message: fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", service, id),
	}
}

func rollingBackEvent(service, id string) Event {
	return Event{
		Kind:    EventRollingBack,
		Key:     string(EventRollingBack) + "/" + id,
		Message: fmt.Sprintf("(service %s) rolling back to deployment %s.", service, id),
	}
}

func steadyEvent(service string) Event {
	return Event{
		Kind:    EventSteadyState,
		Key:     string(EventSteadyState),
		Message: fmt.Sprintf("(service %s) has reached a steady state.", service),
	}
}

func throttledEvent(service string) Event {
	return Event{
		Kind:    EventThrottled,
		Key:     string(EventThrottled),
		Message: fmt.Sprintf("(service %s) is unable to consistently start tasks successfully.", service),
	}
}

func deadlockEvent(service string) Event {
	return Event{
		Kind:    EventDeadlock,
		Key:     string(EventDeadlock),
		Message: fmt.Sprintf("(service %s) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.", service),
	}
}
