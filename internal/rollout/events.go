package rollout

import (
	"fmt"
	"strings"
)

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
	EventOverLimit           EventKind = "OverLimit"
)

// Event is a service event. Key is stable for the same condition (e.g.
// "Deadlock", "DeploymentCompleted/ecs-svc/1"), so the caller can
// de-duplicate; Message is ECS's text (ecsd's own for OverLimit, which ECS
// never needs: it refuses such a desiredCount).
type Event struct {
	Kind    EventKind
	Key     string
	Message string
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

// overLimitEvent: a stored desiredCount above the tasks-per-service limit
// (written by an older ecsd, which did not check it).
func overLimitEvent(service string, desired, limit int32) Event {
	return Event{
		Kind: EventOverLimit,
		Key:  string(EventOverLimit),
		Message: fmt.Sprintf("(service %s) desiredCount %d is above the limit of %d tasks per service: the scheduler runs at most %d. Lower desiredCount with UpdateService.",
			service, desired, limit, limit),
	}
}
