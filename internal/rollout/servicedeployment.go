package rollout

import (
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// The service-deployment record (DescribeServiceDeployments) of a
// deployment follows it: StartDeployment creates it IN_PROGRESS (and
// stops the one it supersedes), RecordServiceDeployment moves it after
// every Decide.
//
//	IN_PROGRESS ──breaker trips, rollback──▶ ROLLBACK_IN_PROGRESS ──rolled back──▶ ROLLBACK_SUCCESSFUL
//	IN_PROGRESS ──breaker trips, no rollback──▶ STOPPED
//	IN_PROGRESS ──completed, alone in deployments[]──▶ SUCCESSFUL
//	PENDING / IN_PROGRESS ──a newer deployment starts──▶ STOPPED

// RecordServiceDeployment returns sd, the service deployment of the
// deployment deploymentID, after plan was applied at now, and whether it
// changed (its updatedAt is set only then). It keeps the target revision's
// counts and the breaker's failure count in step with the deployment and
// makes the transitions above. sd itself is not modified.
func RecordServiceDeployment(sd types.ServiceDeployment, deploymentID string, plan Plan, now time.Time) (types.ServiceDeployment, bool) {
	out := cloneServiceDeployment(sd)
	var target, primary *Deployment
	for i := range plan.Deployments {
		d := &plan.Deployments[i]
		if d.ID == deploymentID {
			target = d
		}
		if d.Status == ecsmodel.DeploymentPrimary {
			primary = d
		}
	}
	if target != nil && out.TargetServiceRevision != nil {
		out.TargetServiceRevision.RequestedTaskCount = target.DesiredCount
		out.TargetServiceRevision.RunningTaskCount = target.RunningCount
		out.TargetServiceRevision.PendingTaskCount = target.PendingCount
	}
	cb := out.DeploymentCircuitBreaker
	if cb != nil && target != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		cb.FailureCount = target.FailedTasks
	}
	alone := len(plan.Deployments) == 1
	switch {
	case plan.Rollback != nil && plan.Rollback.FailedDeploymentID == deploymentID:
		rollingBack(&out, plan.Rollback, now)
	case out.Status == types.ServiceDeploymentStatusInProgress && target != nil && target.RolloutState == types.DeploymentRolloutStateFailed:
		// Tripped without a rollback: the deployment stops where it is.
		out.Status = types.ServiceDeploymentStatusStopped
		out.StatusReason = aws.String(BreakerFailedReason)
		out.StoppedAt, out.FinishedAt = aws.Time(now), aws.Time(now)
		if cb != nil {
			cb.Status = types.ServiceDeploymentRollbackMonitorsStatusTriggered
		}
	case out.Status == types.ServiceDeploymentStatusInProgress && target != nil && target.RolloutState == types.DeploymentRolloutStateCompleted && alone:
		out.Status = types.ServiceDeploymentStatusSuccessful
		out.FinishedAt = aws.Time(now)
		if cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
			cb.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
		}
	case out.Status == types.ServiceDeploymentStatusRollbackInProgress && primary != nil && primary.RolloutState == types.DeploymentRolloutStateCompleted && alone:
		out.Status = types.ServiceDeploymentStatusRollbackSuccessful
		out.FinishedAt = aws.Time(now)
	}
	if reflect.DeepEqual(out, sd) {
		return sd, false
	}
	out.UpdatedAt = aws.Time(now)
	return out, true
}

// rollingBack marks sd ROLLBACK_IN_PROGRESS: its breaker TRIGGERED, the
// rollback's reason, start and target revision recorded.
func rollingBack(sd *types.ServiceDeployment, rb *Rollback, now time.Time) {
	sd.Status = types.ServiceDeploymentStatusRollbackInProgress
	sd.StatusReason = aws.String(BreakerFailedReason)
	if cb := sd.DeploymentCircuitBreaker; cb != nil {
		cb.Status = types.ServiceDeploymentRollbackMonitorsStatusTriggered
	}
	acct, cluster, name := serviceParts(aws.ToString(sd.ServiceArn))
	sd.Rollback = &types.Rollback{
		Reason:             aws.String(BreakerRollbackReason(rb.ToDeploymentID)),
		StartedAt:          aws.Time(now),
		ServiceRevisionArn: aws.String(acct.ServiceRevisionARN(cluster, name, rb.ToDeploymentID)),
	}
}

// supersede stops a service deployment that a newer one replaces while it
// is still pending or in progress; ok is false when it had ended.
func supersede(sd types.ServiceDeployment, now time.Time) (types.ServiceDeployment, bool) {
	switch sd.Status {
	case types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress:
	default:
		return sd, false
	}
	out := cloneServiceDeployment(sd)
	out.Status = types.ServiceDeploymentStatusStopped
	out.StatusReason = aws.String(SupersededReason)
	out.StoppedAt = aws.Time(now)
	out.UpdatedAt = aws.Time(now)
	if cb := out.DeploymentCircuitBreaker; cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		cb.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
	}
	return out, true
}

// cloneServiceDeployment copies sd with its own copies of the members the
// transitions change in place.
func cloneServiceDeployment(sd types.ServiceDeployment) types.ServiceDeployment {
	if r := sd.TargetServiceRevision; r != nil {
		c := *r
		sd.TargetServiceRevision = &c
	}
	if cb := sd.DeploymentCircuitBreaker; cb != nil {
		c := *cb
		sd.DeploymentCircuitBreaker = &c
	}
	return sd
}
