package rollout

import (
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The deployment circuit breaker's shared parts: its threshold and what
// counts as a failed task. Decide trips it for ROLLING deployments; other
// families count failures the same way.

// BreakerThreshold is the number of failed tasks that trips the deployment
// circuit breaker of a deployment of desired tasks. The default is
// ceil(0.5 × desired) clamped to [3, 200]; thresholdConfiguration changes it:
// COUNT is the value itself, BOUNDED_PERCENT is value% of desired clamped to
// [3, 200], UNBOUNDED_PERCENT is value% of desired with no clamp (at least 1).
// It is the one definition of the threshold: StartDeployment records it in
// the service deployment and Decide trips on it.
func BreakerThreshold(cb *types.DeploymentCircuitBreaker, desired int32) int32 {
	typ, value := types.ThresholdTypeBoundedPercent, int32(50)
	if cb != nil && cb.ThresholdConfiguration != nil {
		typ, value = cb.ThresholdConfiguration.Type, cb.ThresholdConfiguration.Value
	}
	percent := capInt32(int64(math.Ceil(float64(desired) * float64(value) / 100)))
	switch typ {
	case types.ThresholdTypeCount:
		return max(value, 1)
	case types.ThresholdTypeUnboundedPercent:
		return max(percent, 1)
	default:
		return min(max(percent, 3), 200)
	}
}

// enabledBreaker returns cfg's circuit breaker when it is enabled, else nil.
func enabledBreaker(cfg *types.DeploymentConfiguration) *types.DeploymentCircuitBreaker {
	if cfg != nil && cfg.DeploymentCircuitBreaker != nil && cfg.DeploymentCircuitBreaker.Enable {
		return cfg.DeploymentCircuitBreaker
	}
	return nil
}

// resetsOnHealthy reports whether a task healthy for the first time resets
// the failure count (resetOnHealthyTask, default true).
func resetsOnHealthy(cb *types.DeploymentCircuitBreaker) bool {
	return cb == nil || cb.ResetOnHealthyTask == nil || *cb.ResetOnHealthyTask
}

// failure kinds of a stopped task.
type failure uint8

const (
	failNone   failure = iota
	failStart          // stopped before it was ever healthy, not by the scheduler or a user
	failHealth         // stopped by the scheduler for failed container or ELB health checks
)

// failureOf is how a STOPPED task counts for the circuit breaker (both
// kinds) and the start-failure back-off (failStart only).
func failureOf(t *Task) failure {
	if t.StoppedReason == ContainerHealthReason || strings.HasPrefix(t.StoppedReason, elbHealthReasonPrefix) {
		return failHealth
	}
	// A task that never reached RUNNING failed to start; so did one whose
	// essential container exited before the task ever counted as healthy
	// (a crash at start-up often happens just after RUNNING). A task that
	// was healthy once and then stopped is an ordinary stop.
	if t.SeenHealthy {
		return failNone
	}
	switch t.StopCode {
	case types.TaskStopCodeServiceSchedulerInitiated, types.TaskStopCodeUserInitiated:
		return failNone
	}
	if strings.HasPrefix(t.StoppedReason, scalingReasonPrefix) {
		return failNone
	}
	return failStart
}
