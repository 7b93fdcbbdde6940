package rollout

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

const (
	testServiceARN = "arn:aws:ecs:us-east-1:123456789012:service/default/web"
	testClusterARN = "arn:aws:ecs:us-east-1:123456789012:cluster/default"
)

// inProgressSD is the service deployment of deployment 2, as
// StartDeployment makes it, with the circuit breaker monitoring.
func inProgressSD(status types.ServiceDeploymentStatus) types.ServiceDeployment {
	created := t0.Add(-time.Minute)
	return types.ServiceDeployment{
		ServiceDeploymentArn: aws.String("arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/sd2"),
		ServiceArn:           aws.String(testServiceARN),
		ClusterArn:           aws.String(testClusterARN),
		CreatedAt:            &created,
		UpdatedAt:            &created,
		Status:               status,
		DeploymentCircuitBreaker: &types.ServiceDeploymentCircuitBreaker{
			Status: types.ServiceDeploymentRollbackMonitorsStatusMonitoring, Threshold: 3,
		},
		TargetServiceRevision: &types.ServiceRevisionSummary{
			Arn: aws.String("arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/0000000000000000002"), RequestedTaskCount: 4,
		},
	}
}

func dep(n int, status string, state types.DeploymentRolloutState) Deployment {
	return Deployment{ID: depID(n), Status: status, RolloutState: state, DesiredCount: 4}
}

// TestRecordServiceDeployment is the table of service-deployment
// transitions after a Decide step.
func TestRecordServiceDeployment(t *testing.T) {
	now := t0
	inProgress := types.DeploymentRolloutStateInProgress
	completed := types.DeploymentRolloutStateCompleted
	failed := types.DeploymentRolloutStateFailed
	for _, tc := range []struct {
		name     string
		sd       types.ServiceDeploymentStatus
		plan     Plan
		changed  bool
		status   types.ServiceDeploymentStatus
		cb       types.ServiceDeploymentRollbackMonitorsStatus
		failures int32
		running  int32
		finished bool
		stopped  bool
		reason   string
		rollback string // the rollback's reason, "" for none
	}{
		{
			name: "nothing new", sd: types.ServiceDeploymentStatusInProgress,
			plan:    Plan{Deployments: []Deployment{dep(2, ecsmodel.DeploymentPrimary, inProgress), dep(1, ecsmodel.DeploymentActive, completed)}},
			changed: false, status: types.ServiceDeploymentStatusInProgress, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
		},
		{
			name: "counts follow the deployment", sd: types.ServiceDeploymentStatusInProgress,
			plan: Plan{Deployments: []Deployment{
				{ID: depID(2), Status: ecsmodel.DeploymentPrimary, RolloutState: inProgress, DesiredCount: 4, RunningCount: 3, FailedTasks: 2},
				dep(1, ecsmodel.DeploymentActive, completed),
			}},
			changed: true, status: types.ServiceDeploymentStatusInProgress, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
			failures: 2, running: 3,
		},
		{
			name: "breaker trips with rollback: ROLLBACK_IN_PROGRESS", sd: types.ServiceDeploymentStatusInProgress,
			plan: Plan{
				Deployments: []Deployment{dep(1, ecsmodel.DeploymentPrimary, inProgress), {ID: depID(2), Status: ecsmodel.DeploymentActive, RolloutState: failed, FailedTasks: 3}},
				Rollback:    &Rollback{FailedDeploymentID: depID(2), ToDeploymentID: depID(1), TaskDefinition: taskDef(1)},
			},
			changed: true, status: types.ServiceDeploymentStatusRollbackInProgress, cb: types.ServiceDeploymentRollbackMonitorsStatusTriggered,
			failures: 3, reason: BreakerFailedReason, rollback: BreakerRollbackReason(depID(1)),
		},
		{
			name: "breaker trips without rollback: STOPPED", sd: types.ServiceDeploymentStatusInProgress,
			plan: Plan{Deployments: []Deployment{
				{ID: depID(2), Status: ecsmodel.DeploymentPrimary, RolloutState: failed, FailedTasks: 3},
				dep(1, ecsmodel.DeploymentActive, completed),
			}},
			changed: true, status: types.ServiceDeploymentStatusStopped, cb: types.ServiceDeploymentRollbackMonitorsStatusTriggered,
			failures: 3, finished: true, stopped: true, reason: BreakerFailedReason,
		},
		{
			name: "completed but the old deployment is still draining", sd: types.ServiceDeploymentStatusInProgress,
			plan:    Plan{Deployments: []Deployment{dep(2, ecsmodel.DeploymentPrimary, completed), dep(1, ecsmodel.DeploymentActive, completed)}},
			changed: false, status: types.ServiceDeploymentStatusInProgress, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
		},
		{
			name: "completed and alone: SUCCESSFUL", sd: types.ServiceDeploymentStatusInProgress,
			plan:    Plan{Deployments: []Deployment{dep(2, ecsmodel.DeploymentPrimary, completed)}},
			changed: true, status: types.ServiceDeploymentStatusSuccessful, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete,
			finished: true,
		},
		{
			name: "rolled back: ROLLBACK_SUCCESSFUL", sd: types.ServiceDeploymentStatusRollbackInProgress,
			plan:    Plan{Deployments: []Deployment{dep(1, ecsmodel.DeploymentPrimary, completed)}},
			changed: true, status: types.ServiceDeploymentStatusRollbackSuccessful, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
			finished: true,
		},
		{
			name: "rolling back, not done yet", sd: types.ServiceDeploymentStatusRollbackInProgress,
			plan:    Plan{Deployments: []Deployment{dep(1, ecsmodel.DeploymentPrimary, inProgress)}},
			changed: false, status: types.ServiceDeploymentStatusRollbackInProgress, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
		},
		{
			name: "stopped stays stopped", sd: types.ServiceDeploymentStatusStopped,
			plan:    Plan{Deployments: []Deployment{dep(2, ecsmodel.DeploymentPrimary, completed)}},
			changed: false, status: types.ServiceDeploymentStatusStopped, cb: types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inProgressSD(tc.sd)
			before := inProgressSD(tc.sd)
			got, changed := RecordServiceDeployment(in, depID(2), tc.plan, now)
			equal(t, "changed", changed, tc.changed)
			equal(t, "status", got.Status, tc.status)
			equal(t, "circuit breaker status", got.DeploymentCircuitBreaker.Status, tc.cb)
			equal(t, "circuit breaker failureCount", got.DeploymentCircuitBreaker.FailureCount, tc.failures)
			equal(t, "target revision runningTaskCount", got.TargetServiceRevision.RunningTaskCount, tc.running)
			equal(t, "finishedAt set", got.FinishedAt != nil, tc.finished)
			equal(t, "stoppedAt set", got.StoppedAt != nil, tc.stopped)
			equal(t, "statusReason", aws.ToString(got.StatusReason), tc.reason)
			equal(t, "updatedAt is now", aws.ToTime(got.UpdatedAt).Equal(now), tc.changed)
			if tc.rollback == "" {
				equal(t, "rollback recorded", got.Rollback != nil, false)
			} else if holds(t, "rollback recorded", got.Rollback != nil) {
				equal(t, "rollback reason", aws.ToString(got.Rollback.Reason), tc.rollback)
				equal(t, "rollback revision", aws.ToString(got.Rollback.ServiceRevisionArn),
					"arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/0000000000000000001")
				equal(t, "rollback startedAt", aws.ToTime(got.Rollback.StartedAt), now)
			}
			// The input is not modified.
			equal(t, "input circuit breaker status", in.DeploymentCircuitBreaker.Status, before.DeploymentCircuitBreaker.Status)
			equal(t, "input failureCount", in.DeploymentCircuitBreaker.FailureCount, before.DeploymentCircuitBreaker.FailureCount)
			equal(t, "input runningTaskCount", in.TargetServiceRevision.RunningTaskCount, before.TargetServiceRevision.RunningTaskCount)
		})
	}
}

func TestSupersede(t *testing.T) {
	for _, tc := range []struct {
		status types.ServiceDeploymentStatus
		stops  bool
	}{
		{types.ServiceDeploymentStatusPending, true},
		{types.ServiceDeploymentStatusInProgress, true},
		{types.ServiceDeploymentStatusSuccessful, false},
		{types.ServiceDeploymentStatusRollbackInProgress, false},
		{types.ServiceDeploymentStatusStopped, false},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			in := inProgressSD(tc.status)
			got, ok := supersede(in, t0)
			equal(t, "superseded", ok, tc.stops)
			if !tc.stops {
				equal(t, "status", got.Status, tc.status)
				return
			}
			equal(t, "status", got.Status, types.ServiceDeploymentStatusStopped)
			equal(t, "statusReason", aws.ToString(got.StatusReason), "Service deployment stopped because a newer service deployment started.")
			equal(t, "stoppedAt", aws.ToTime(got.StoppedAt), t0)
			equal(t, "circuit breaker status", got.DeploymentCircuitBreaker.Status, types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete)
			equal(t, "input circuit breaker status", in.DeploymentCircuitBreaker.Status, types.ServiceDeploymentRollbackMonitorsStatusMonitoring)
		})
	}
}
