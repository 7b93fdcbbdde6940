package deploywatch

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Until is what "done" means.
type Until string

const (
	// UntilStable: the deployment is the only one left, running the desired
	// count (and COMPLETED where the endpoint reports rolloutState).
	UntilStable Until = "stable"
	// UntilDeployed: the deployment's rolloutState is COMPLETED (old tasks
	// may still be draining).
	UntilDeployed Until = "deployed"
)

// Verdict is the state of a watched deployment.
type Verdict int

const (
	Waiting Verdict = iota
	Succeeded
	Failed
)

func (v Verdict) String() string { return [...]string{"waiting", "succeeded", "failed"}[v] }

// Status is a verdict and, when it failed, why.
type Status struct {
	Verdict Verdict
	Reason  string
}

// Assess judges the deployment with the given ID from the service as
// DescribeServices shows it and, when the endpoint has them, the service
// deployment that tracks it (nil otherwise).
func Assess(svc types.Service, deploymentID string, sd *types.ServiceDeployment, until Until) Status {
	if st := aws.ToString(svc.Status); st != ecsmodel.ServiceActive {
		return Status{Failed, fmt.Sprintf("the service is %s", st)}
	}
	if sd != nil {
		reason := aws.ToString(sd.StatusReason)
		switch sd.Status {
		case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress,
			types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed:
			if sd.Rollback != nil && aws.ToString(sd.Rollback.Reason) != "" {
				reason = joinReasons(reason, aws.ToString(sd.Rollback.Reason))
			}
			return Status{Failed, fmt.Sprintf("the deployment was rolled back (%s): %s", sd.Status, orUnknown(reason))}
		case types.ServiceDeploymentStatusStopped, types.ServiceDeploymentStatusStopRequested:
			return Status{Failed, fmt.Sprintf("the deployment was stopped: %s", orUnknown(reason))}
		}
	}
	var target *types.Deployment
	var primary string
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if aws.ToString(d.Id) == deploymentID {
			target = d
		}
		if aws.ToString(d.Status) == ecsmodel.DeploymentPrimary {
			primary = aws.ToString(d.Id)
		}
	}
	if target == nil {
		if sd != nil && sd.Status == types.ServiceDeploymentStatusSuccessful {
			return Status{Verdict: Succeeded}
		}
		return Status{Failed, fmt.Sprintf("deployment %s is no longer in the service (PRIMARY is %s): it was rolled back or replaced", deploymentID, orUnknown(primary))}
	}
	if target.RolloutState == types.DeploymentRolloutStateFailed {
		return Status{Failed, orUnknown(aws.ToString(target.RolloutStateReason))}
	}
	if aws.ToString(target.Status) != ecsmodel.DeploymentPrimary {
		return Status{Failed, fmt.Sprintf("deployment %s was replaced by %s", deploymentID, orUnknown(primary))}
	}
	completed := target.RolloutState == types.DeploymentRolloutStateCompleted
	switch until {
	case UntilDeployed:
		if completed {
			return Status{Verdict: Succeeded}
		}
	default:
		if len(svc.Deployments) == 1 && svc.RunningCount == svc.DesiredCount && (completed || target.RolloutState == "") {
			return Status{Verdict: Succeeded}
		}
	}
	return Status{Verdict: Waiting}
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// joinReasons joins two of ECS's reasons, saying a prefix they share
// once: "ECS deployment circuit breaker: tasks failed to start." and
// "ECS deployment circuit breaker: rolling back to deploymentId X." make
// "ECS deployment circuit breaker: tasks failed to start; rolling back to
// deploymentId X."
func joinReasons(a, b string) string {
	if a == "" {
		return b
	}
	if prefix, rest, ok := strings.Cut(a, ": "); ok {
		if after, shared := strings.CutPrefix(b, prefix+": "); shared {
			return prefix + ": " + strings.TrimSuffix(rest, ".") + "; " + after
		}
	}
	return a + " " + b
}
