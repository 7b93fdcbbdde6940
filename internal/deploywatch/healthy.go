package deploywatch

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// WaitsOnRunningTime reports whether deployment deploymentID, the
// service's PRIMARY, is waiting for its RUNNING tasks to have run long
// enough to count as healthy: it is IN_PROGRESS with tasks running, and
// nothing else can say they are healthy — the service has no load balancer
// and td (the deployment's task definition) no container health check. ECS
// then counts a task as healthy once it has been RUNNING for a while (40 s
// on ECS), and a rollout steps no faster. td nil means unknown: false.
func WaitsOnRunningTime(svc types.Service, deploymentID string, td *types.TaskDefinition) bool {
	if td == nil || len(svc.LoadBalancers) > 0 {
		return false
	}
	for _, c := range td.ContainerDefinitions {
		if hc := c.HealthCheck; hc != nil && len(hc.Command) > 0 && hc.Command[0] != "NONE" {
			return false
		}
	}
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != "PRIMARY" {
			continue
		}
		return aws.ToString(d.Id) == deploymentID && d.RolloutState == types.DeploymentRolloutStateInProgress && d.RunningCount > 0 &&
			aws.ToString(d.TaskDefinition) == aws.ToString(td.TaskDefinitionArn)
	}
	return false
}

// PrimaryTaskDefinition is the task definition ARN of the service's PRIMARY
// deployment, or "".
func PrimaryTaskDefinition(svc types.Service) string {
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.TaskDefinition)
		}
	}
	return ""
}
