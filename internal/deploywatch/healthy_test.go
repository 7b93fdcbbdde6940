package deploywatch

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestWaitsOnRunningTime(t *testing.T) {
	const tdARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"
	plain := &types.TaskDefinition{TaskDefinitionArn: aws.String(tdARN), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app")}}}
	checked := &types.TaskDefinition{TaskDefinitionArn: aws.String(tdARN), ContainerDefinitions: []types.ContainerDefinition{
		{Name: aws.String("log")}, {Name: aws.String("app"), HealthCheck: &types.HealthCheck{Command: []string{"CMD", "true"}}}}}
	disabled := &types.TaskDefinition{TaskDefinitionArn: aws.String(tdARN), ContainerDefinitions: []types.ContainerDefinition{
		{Name: aws.String("app"), HealthCheck: &types.HealthCheck{Command: []string{"NONE"}}}}}
	primary := func(state types.DeploymentRolloutState, running int32) types.Deployment {
		return types.Deployment{Id: aws.String("ecs-svc/2"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdARN), RolloutState: state, RunningCount: running}
	}
	old := types.Deployment{Id: aws.String("ecs-svc/1"), Status: aws.String("ACTIVE"), RunningCount: 2, RolloutState: types.DeploymentRolloutStateCompleted}
	service := func(lb bool, ds ...types.Deployment) types.Service {
		s := types.Service{Status: aws.String("ACTIVE"), Deployments: ds}
		if lb {
			s.LoadBalancers = []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
		}
		return s
	}
	inProgress := types.DeploymentRolloutStateInProgress
	for _, tc := range []struct {
		name string
		svc  types.Service
		td   *types.TaskDefinition
		want bool
	}{
		{"running tasks, no load balancer, no health check", service(false, primary(inProgress, 2), old), plain, true},
		{"a health check disabled with NONE is none", service(false, primary(inProgress, 1), old), disabled, true},
		{"no task running yet", service(false, primary(inProgress, 0), old), plain, false},
		{"a container health check says when", service(false, primary(inProgress, 2), old), checked, false},
		{"a load balancer says when", service(true, primary(inProgress, 2), old), plain, false},
		{"completed", service(false, primary(types.DeploymentRolloutStateCompleted, 2)), plain, false},
		{"failed", service(false, primary(types.DeploymentRolloutStateFailed, 2)), plain, false},
		{"task definition not known", service(false, primary(inProgress, 2)), nil, false},
		{"the PRIMARY is another deployment (a rollback's)", service(false, types.Deployment{Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdARN), RolloutState: inProgress, RunningCount: 2}), plain, false},
		{"the task definition is not the PRIMARY's", service(false, primary(inProgress, 2)), &types.TaskDefinition{TaskDefinitionArn: aws.String("other")}, false},
	} {
		if got := WaitsOnRunningTime(tc.svc, "ecs-svc/2", tc.td); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
