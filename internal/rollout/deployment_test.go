package rollout

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// runningService is service web with deployment 1 PRIMARY and COMPLETED.
func runningService(desired int32, cfg *types.DeploymentConfiguration) types.Service {
	created := t0.Add(-time.Hour)
	return types.Service{
		ServiceName:             aws.String("web"),
		ServiceArn:              aws.String(testServiceARN),
		ClusterArn:              aws.String(testClusterARN),
		Status:                  aws.String(ecsmodel.ServiceActive),
		DesiredCount:            desired,
		TaskDefinition:          aws.String(taskDef(1)),
		LaunchType:              types.LaunchTypeEc2,
		DeploymentConfiguration: cfg,
		Deployments: []types.Deployment{{
			Id: aws.String(depID(1)), Status: aws.String(ecsmodel.DeploymentPrimary), TaskDefinition: aws.String(taskDef(1)),
			DesiredCount: desired, RunningCount: desired, CreatedAt: &created, UpdatedAt: &created,
			RolloutState: types.DeploymentRolloutStateCompleted,
		}},
	}
}

func TestStartDeployment(t *testing.T) {
	cfg := withBreaker(config(50, 200), true)
	svc := runningService(25, cfg)
	current := inProgressSD(types.ServiceDeploymentStatusInProgress)
	got := StartDeployment(StartRequest{
		Service: svc, TaskDefinition: taskDef(2), Current: &current,
		DeploymentID: depID(2), ServiceDeploymentID: "sd3", Now: t0,
	})

	s := got.Service
	if !equal(t, "deployments", len(s.Deployments), 2) {
		t.Fatalf("deployments %+v", s.Deployments)
	}
	primary, old := s.Deployments[0], s.Deployments[1]
	equal(t, "new deployment id", aws.ToString(primary.Id), depID(2))
	equal(t, "new deployment status", aws.ToString(primary.Status), ecsmodel.DeploymentPrimary)
	equal(t, "new deployment task definition", aws.ToString(primary.TaskDefinition), taskDef(2))
	equal(t, "new deployment desiredCount", primary.DesiredCount, 25)
	equal(t, "new deployment rollout state", primary.RolloutState, types.DeploymentRolloutStateInProgress)
	equal(t, "new deployment rollout state reason", aws.ToString(primary.RolloutStateReason), "ECS deployment "+depID(2)+" in progress.")
	equal(t, "new deployment createdAt", aws.ToTime(primary.CreatedAt), t0)
	equal(t, "new deployment launch type", primary.LaunchType, types.LaunchTypeEc2)
	equal(t, "old deployment status", aws.ToString(old.Status), ecsmodel.DeploymentActive)
	equal(t, "old deployment updatedAt", aws.ToTime(old.UpdatedAt), t0)
	equal(t, "service task definition", aws.ToString(s.TaskDefinition), taskDef(2))
	equal(t, "service's current service deployment", aws.ToString(s.CurrentServiceDeployment),
		"arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/sd3")
	// The input's deployments are untouched.
	equal(t, "input deployment status", aws.ToString(svc.Deployments[0].Status), ecsmodel.DeploymentPrimary)

	sd := got.ServiceDeployment
	equal(t, "service deployment arn", aws.ToString(sd.ServiceDeploymentArn), "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/sd3")
	equal(t, "service deployment status", sd.Status, types.ServiceDeploymentStatusInProgress)
	equal(t, "circuit breaker status", sd.DeploymentCircuitBreaker.Status, types.ServiceDeploymentRollbackMonitorsStatusMonitoring)
	equal(t, "circuit breaker threshold", sd.DeploymentCircuitBreaker.Threshold, 13) // ceil(25 / 2)
	equal(t, "target revision", aws.ToString(sd.TargetServiceRevision.Arn), "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/0000000000000000002")
	equal(t, "target requestedTaskCount", sd.TargetServiceRevision.RequestedTaskCount, 25)
	if equal(t, "source revisions", len(sd.SourceServiceRevisions), 1) {
		equal(t, "source revision", aws.ToString(sd.SourceServiceRevisions[0].Arn), "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/0000000000000000001")
		equal(t, "source runningTaskCount", sd.SourceServiceRevisions[0].RunningTaskCount, 25)
	}
	if holds(t, "the in-progress service deployment superseded", got.Superseded != nil) {
		equal(t, "superseded status", got.Superseded.Status, types.ServiceDeploymentStatusStopped)
	}

	// A first deployment: no sources, nothing superseded, breaker off.
	first := runningService(2, &types.DeploymentConfiguration{})
	first.Deployments = nil
	got = StartDeployment(StartRequest{Service: first, TaskDefinition: taskDef(1), DeploymentID: depID(1), ServiceDeploymentID: "sd1", Now: t0})
	equal(t, "first deployment's deployments", len(got.Service.Deployments), 1)
	holds(t, "sources listed as an empty list", got.ServiceDeployment.SourceServiceRevisions != nil && len(got.ServiceDeployment.SourceServiceRevisions) == 0)
	equal(t, "nothing superseded", got.Superseded == nil, true)
	equal(t, "circuit breaker status", got.ServiceDeployment.DeploymentCircuitBreaker.Status, types.ServiceDeploymentRollbackMonitorsStatusDisabled)
}

// The desiredCount a new deployment records is the one Decide keeps: a
// deployment started by StartDeployment needs no change from its first
// Decide step.
func TestDesiredCountHasOneRule(t *testing.T) {
	svc := runningService(3, nil)
	svc.DesiredCount = 5
	deps := Rescale(svc, t0)
	equal(t, "PRIMARY desiredCount after a scale", deps[0].DesiredCount, 5)
	equal(t, "PRIMARY updatedAt after a scale", aws.ToTime(deps[0].UpdatedAt), t0)
	equal(t, "input untouched", svc.Deployments[0].DesiredCount, 3)

	s := newSim(t, 5, 3, nil)
	p := s.decide()
	equal(t, "Decide's PRIMARY desiredCount", p.Deployments[0].DesiredCount, deps[0].DesiredCount)

	// Deleting: DRAINING, every deployment wants 0.
	started := StartDeployment(StartRequest{Service: svc, TaskDefinition: taskDef(2), DeploymentID: depID(2), ServiceDeploymentID: "x", Now: t0})
	draining := started.Service
	draining.Status = aws.String(ecsmodel.ServiceDraining)
	draining.DesiredCount = 0
	for i, d := range Rescale(draining, t0) {
		equal(t, "desiredCount of a DRAINING service's deployment "+string(rune('0'+i)), d.DesiredCount, 0)
	}
}

// A desiredCount above the limit (stored by an older ecsd) is capped, with
// one event, and the plan says so until it is fixed.
func TestOverLimit(t *testing.T) {
	s := newSim(t, 2, 2, config(0, 100))
	s.st.Params.MaxTasksPerService = 3
	s.st.Service.DesiredCount = 2147483647
	p := s.decide()
	equal(t, "over limit", p.OverLimit, true)
	equal(t, "plan desiredCount", p.DesiredCount, 3)
	equal(t, "start count", p.Start.Count, 1)
	equal(t, "PRIMARY desiredCount", p.Deployments[0].DesiredCount, 3)
	if equal(t, "events", len(p.Events), 1) {
		equal(t, "event", p.Events[0].Message, "(service web) desiredCount 2147483647 is above the limit of 3 tasks per service: the scheduler runs at most 3. Lower desiredCount with UpdateService.")
	}
	s.tick()
	s.st.Service.DesiredCount = 2147483647 // the simulator wrote back the capped count; the controller does not
	p = s.decide()
	equal(t, "still over limit", p.OverLimit, true)
	equal(t, "no repeated event", s.hasEvent(EventOverLimit), 1)
	// Fixed through the API.
	s.st.Service.DesiredCount = 3
	p = s.decide()
	equal(t, "over limit once fixed", p.OverLimit, false)
	equal(t, "Memory.OverLimit once fixed", p.Memory.OverLimit, false)
}
