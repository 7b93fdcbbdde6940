package ecsmodel

import (
	"strconv"
	"strings"
)

// Account is the region and AWS account ID that ECS resources' ARNs name.
type Account struct {
	Region string
	ID     string
}

func (a Account) arn(resource string) string {
	return "arn:aws:ecs:" + a.Region + ":" + a.ID + ":" + resource
}

// ClusterARN is arn:aws:ecs:REGION:ACCOUNT:cluster/CLUSTER.
func (a Account) ClusterARN(cluster string) string { return a.arn("cluster/" + cluster) }

// ServiceARN is arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE.
func (a Account) ServiceARN(cluster, service string) string {
	return a.arn("service/" + cluster + "/" + service)
}

// TaskARN is arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/TASKID.
func (a Account) TaskARN(cluster, taskID string) string {
	return a.arn("task/" + cluster + "/" + taskID)
}

// ContainerARN is arn:aws:ecs:REGION:ACCOUNT:container/CLUSTER/TASKID/UUID.
func (a Account) ContainerARN(cluster, taskID, id string) string {
	return a.arn("container/" + cluster + "/" + taskID + "/" + id)
}

// TaskDefinitionARN is arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.
func (a Account) TaskDefinitionARN(family string, revision int32) string {
	return a.arn("task-definition/" + family + ":" + strconv.Itoa(int(revision)))
}

// ServiceDeploymentARN is
// arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID, ID a
// NewShortID.
func (a Account) ServiceDeploymentARN(cluster, service, id string) string {
	return a.arn("service-deployment/" + cluster + "/" + service + "/" + id)
}

// ServiceRevisionARN is the ARN of the service revision a deployment runs:
// arn:aws:ecs:REGION:ACCOUNT:service-revision/CLUSTER/SERVICE/N for the
// deployment "ecs-svc/N".
func (a Account) ServiceRevisionARN(cluster, service, deploymentID string) string {
	return a.arn("service-revision/" + cluster + "/" + service + "/" + strings.TrimPrefix(deploymentID, deploymentIDPrefix))
}

// Owns tells whether arn names a resource of this region and account.
func (a Account) Owns(arn ARN) bool { return arn.Region == a.Region && arn.Account == a.ID }

// ARN is an ECS ARN split into its parts.
type ARN struct {
	Region, Account string
	Type            string   // cluster, service, task, task-definition, ...
	Path            []string // the resource path after the type, split at '/'
}

// ParseARN splits an ECS ARN ("arn:PARTITION:ecs:REGION:ACCOUNT:TYPE/PATH");
// ok is false when s is not one.
func ParseARN(s string) (arn ARN, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return ARN{}, false
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || rest == "" {
		return ARN{}, false
	}
	return ARN{Region: parts[3], Account: parts[4], Type: typ, Path: strings.Split(rest, "/")}, true
}

// TaskIDFromARN is the task ID at the end of a task ARN (either format:
// task/CLUSTER/ID or task/ID). A string without '/' is returned as it is.
func TaskIDFromARN(taskARN string) string {
	return taskARN[strings.LastIndexByte(taskARN, '/')+1:]
}
