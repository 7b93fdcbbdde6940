package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TaskDefinitionRecord is one registered revision with its tags.
type TaskDefinitionRecord struct {
	TaskDefinition types.TaskDefinition
	Tags           []types.Tag
}

// FamilyRecord remembers a family's last revision number, so revisions keep
// counting up after deregistration and deletion, as in ECS.
type FamilyRecord struct {
	LastRevision int32
}

// ServiceRecord is a service as DescribeServices shows it (deployments,
// events and tags included), with the service scheduler's bookkeeping.
type ServiceRecord struct {
	Service types.Service
	// Scheduler is what the rolling scheduler remembers between steps
	// (the last completed deployment, start back-off, ...).
	Scheduler SchedulerMemory
	// ClientToken and RequestHash identify the CreateService request that
	// made the service: a retry with the same token and the same request
	// answers the service instead of failing.
	ClientToken string `json:",omitempty"`
	RequestHash string `json:",omitempty"`
}

// SchedulerMemory is the stored form of the service scheduler's memory
// (rollout.Memory; the controller converts). Its JSON field names are
// those data dirs already hold: change them only with a migration.
type SchedulerMemory struct {
	// LastCompleted is the deployment a circuit-breaker rollback returns to.
	LastCompleted *CompletedDeployment
	Backoff       StartBackoff
	// Deadlocked, Steady and OverLimit are states whose event is emitted
	// when they begin.
	Deadlocked bool
	Steady     bool
	OverLimit  bool `json:",omitempty"`
}

// CompletedDeployment is what a rollback needs to recreate a deployment.
type CompletedDeployment struct {
	ID                   string
	TaskDefinition       string
	DesiredCount         int32
	ContainerHealthCheck bool
	LoadBalanced         bool
}

// StartBackoff is the start-failure throttle of a service's PRIMARY
// deployment.
type StartBackoff struct {
	DeploymentID string
	Level        int32
	Since        time.Time
	Until        time.Time
}

// TaskRecord is a task as DescribeTasks shows it, with the service
// scheduler's marks.
type TaskRecord struct {
	Task types.Task
	// Accounted: the scheduler has counted this stopped task (circuit
	// breaker, back-off) and no longer needs to see it.
	Accounted bool
	// SeenHealthy: the task has been healthy at least once.
	SeenHealthy bool
	// LoadBalancers are the service's load balancers when the task was
	// started: the task runner registers the task in their target groups
	// once it runs.
	LoadBalancers []types.LoadBalancer `json:",omitempty"`
	// Targets are the targets the task runner registered for the task and
	// has not deregistered yet.
	Targets []TaskTarget `json:",omitempty"`
	// Draining are the targets the task runner deregistered when the task
	// was told to stop: the task stays DEACTIVATING until their drains end,
	// also across an ecsd restart.
	Draining []TaskTarget `json:",omitempty"`
}

// TaskTarget is a task's registration in a target group.
type TaskTarget struct {
	TargetGroupARN string
	Port           int32 // the host port on 127.0.0.1
}

// Key joins path elements into a store key.
func Key(parts ...string) string { return strings.Join(parts, "/") }

// Prefix is Key with a trailing separator, for scanning everything below.
func Prefix(parts ...string) string { return Key(parts...) + "/" }

// RevisionKey is the key of a task definition revision; revisions are zero
// padded so they sort numerically.
func RevisionKey(region, family string, revision int32) string {
	return Key(region, family, fmt.Sprintf("%010d", revision))
}

// ServiceDeploymentRecord is a service deployment as
// DescribeServiceDeployments shows it, tied to the deployments[] entry of
// the service it tracks.
type ServiceDeploymentRecord struct {
	ServiceDeployment types.ServiceDeployment
	DeploymentID      string // the ecs-svc/ ID of the matching deployments[] entry
}
