package rollout

import "strings"

// Reasons, as ECS writes them: tasks' stoppedReason and deployments'
// rolloutStateReason. Every deployment family uses the same texts.

// ScalingReason is the stoppedReason of a task stopped because its
// deployment shrank.
func ScalingReason(deploymentID string) string {
	return "Scaling activity initiated by (deployment " + deploymentID + ")"
}

const scalingReasonPrefix = "Scaling activity initiated by"

// ContainerHealthReason is the stoppedReason of a task that failed its
// container health checks.
const ContainerHealthReason = "Task failed container health checks"

// ELBHealthReason is the stoppedReason of a task that failed its target
// group's health checks.
func ELBHealthReason(targetGroupARN string) string {
	return elbHealthReasonPrefix + " in (target-group " + targetGroupARN + ")"
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

// SupersededReason is the statusReason of a service deployment stopped
// because a newer one started.
const SupersededReason = "Service deployment stopped because a newer service deployment started."

// TaskID returns the task ID at the end of a task ARN.
func TaskID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
