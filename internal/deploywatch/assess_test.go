package deploywatch

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func dep(id, status string, state types.DeploymentRolloutState, reason string) types.Deployment {
	return types.Deployment{Id: aws.String(id), Status: aws.String(status), RolloutState: state, RolloutStateReason: aws.String(reason)}
}

func svc(running, desired int32, ds ...types.Deployment) types.Service {
	return types.Service{Status: aws.String("ACTIVE"), RunningCount: running, DesiredCount: desired, Deployments: ds}
}

func TestAssess(t *testing.T) {
	inProgress := types.DeploymentRolloutStateInProgress
	completed := types.DeploymentRolloutStateCompleted
	failed := types.DeploymentRolloutStateFailed
	for _, tc := range []struct {
		name   string
		svc    types.Service
		sd     *types.ServiceDeployment
		until  Until
		want   Verdict
		reason string
	}{
		{"rolling", svc(4, 4, dep("new", "PRIMARY", inProgress, ""), dep("old", "ACTIVE", completed, "")), nil, UntilStable, Waiting, ""},
		{"stable", svc(4, 4, dep("new", "PRIMARY", completed, "")), nil, UntilStable, Succeeded, ""},
		{"counts not there yet", svc(3, 4, dep("new", "PRIMARY", completed, "")), nil, UntilStable, Waiting, ""},
		{"no rolloutState (older endpoints)", svc(4, 4, dep("new", "PRIMARY", "", "")), nil, UntilStable, Succeeded, ""},
		{"deployed while old tasks drain", svc(4, 4, dep("new", "PRIMARY", completed, ""), dep("old", "ACTIVE", completed, "")), nil, UntilDeployed, Succeeded, ""},
		{"circuit breaker", svc(4, 4, dep("new", "ACTIVE", failed, "ECS deployment circuit breaker: tasks failed to start."), dep("old", "PRIMARY", inProgress, "")), nil, UntilStable, Failed, "tasks failed to start"},
		{"failed without rollback", svc(0, 4, dep("new", "PRIMARY", failed, "ECS deployment circuit breaker: tasks failed to start.")), nil, UntilStable, Failed, "circuit breaker"},
		{"gone: rolled back", svc(4, 4, dep("old", "PRIMARY", completed, "")), nil, UntilStable, Failed, "rolled back or replaced"},
		{"replaced by a newer deployment", svc(4, 4, dep("newer", "PRIMARY", inProgress, ""), dep("new", "ACTIVE", inProgress, "")), nil, UntilStable, Failed, "replaced by newer"},
		{"service deployment rolling back", svc(4, 4, dep("new", "PRIMARY", inProgress, "")),
			&types.ServiceDeployment{Status: types.ServiceDeploymentStatusRollbackInProgress, StatusReason: aws.String("ECS deployment circuit breaker: tasks failed to start.")}, UntilStable, Failed, "rolled back"},
		{"service deployment successful, deployment gone", svc(4, 4, dep("other", "PRIMARY", completed, "")),
			&types.ServiceDeployment{Status: types.ServiceDeploymentStatusSuccessful}, UntilStable, Succeeded, ""},
		{"service draining", types.Service{Status: aws.String("DRAINING")}, nil, UntilStable, Failed, "DRAINING"},
	} {
		got := Assess(tc.svc, "new", tc.sd, tc.until)
		if got.Verdict != tc.want || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s: got %v %q, want %v containing %q", tc.name, got.Verdict, got.Reason, tc.want, tc.reason)
		}
	}
}

func TestRollbackReasonSaysTheBreakerOnce(t *testing.T) {
	sd := &types.ServiceDeployment{
		Status:       types.ServiceDeploymentStatusRollbackSuccessful,
		StatusReason: aws.String("ECS deployment circuit breaker: tasks failed to start."),
		Rollback:     &types.Rollback{Reason: aws.String("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.")},
	}
	got := Assess(svc(4, 4, dep("old", "PRIMARY", types.DeploymentRolloutStateCompleted, "")), "new", sd, UntilStable)
	want := "the deployment was rolled back (ROLLBACK_SUCCESSFUL): ECS deployment circuit breaker: tasks failed to start; rolling back to deploymentId ecs-svc/1."
	if got.Verdict != Failed || got.Reason != want {
		t.Errorf("got %v %q\nwant failed %q", got.Verdict, got.Reason, want)
	}
	if n := strings.Count(got.Reason, "circuit breaker"); n != 1 {
		t.Errorf("the breaker is named %d times: %q", n, got.Reason)
	}
}
