package rollout

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TargetHealth is the state of a task's target in its load balancer target
// group, as ELBv2 spells it. The empty value means the task has no target
// (not registered yet, or the deployment has no load balancer).
type TargetHealth string

// Target states.
const (
	TargetNone      TargetHealth = ""
	TargetInitial   TargetHealth = "initial"
	TargetHealthy   TargetHealth = "healthy"
	TargetUnhealthy TargetHealth = "unhealthy"
	TargetUnused    TargetHealth = "unused"
	TargetDraining  TargetHealth = "draining"
)

// Defaults applied to zero Params fields.
const (
	DefaultHealthyAfterRunning = 40 * time.Second
	DefaultBackoffBase         = 10 * time.Second
	DefaultBackoffMax          = 15 * time.Minute
)

// State is everything Decide needs about one service: the service's
// configuration, its deployments, its tasks, the bookkeeping the previous
// Plan asked the caller to keep (Memory) and tunable timings (Params).
type State struct {
	Service     Service
	Deployments []Deployment
	// Tasks are the service's tasks, in any order (the order breaks ties
	// when choosing which tasks to stop). Include STOPPED tasks until Decide
	// has accounted for them (Plan.Accounted); after that they may be left
	// out.
	Tasks  []Task
	Memory Memory
	Params Params
}

// Service is the part of an ECS service the rolling scheduler reads.
type Service struct {
	Name string
	// Status is ACTIVE, or DRAINING while the service is being deleted
	// (everything is stopped). Empty means ACTIVE.
	Status       string
	DesiredCount int32
	// DeploymentConfiguration supplies minimumHealthyPercent (nil: 100),
	// maximumPercent (nil: 200) and the deployment circuit breaker (nil or
	// Enable false: off). Other fields are ignored.
	DeploymentConfiguration *types.DeploymentConfiguration
	// HealthCheckGracePeriod: unhealthy container and target health
	// results are ignored this long after a task reached RUNNING.
	HealthCheckGracePeriod time.Duration
}

// Deployment is one entry of the service's deployments[] plus the
// scheduler's bookkeeping. Decide returns the updated list in
// Plan.Deployments; the caller stores it as is.
type Deployment struct {
	ID             string // ecs-svc/<19 digits>
	Status         string // PRIMARY or ACTIVE
	TaskDefinition string
	CreatedAt      time.Time
	DesiredCount   int32
	// RunningCount and PendingCount are outputs; Decide ignores them.
	RunningCount int32
	PendingCount int32
	// FailedTasks is the circuit breaker's failure count.
	FailedTasks        int32
	RolloutState       types.DeploymentRolloutState // empty is taken as IN_PROGRESS
	RolloutStateReason string
	// ContainerHealthCheck: the task definition has a container health
	// check on an essential container, so a task is healthy only when its
	// health status is HEALTHY.
	ContainerHealthCheck bool
	// LoadBalanced: the deployment's tasks are registered in a target group,
	// so a task is healthy only when its target is healthy.
	LoadBalanced bool
}

// Task is one task of the service as the scheduler sees it.
type Task struct {
	ARN           string
	DeploymentID  string // the deployment that started it (startedBy)
	LastStatus    string // PROVISIONING ... RUNNING ... STOPPED
	DesiredStatus string // RUNNING or STOPPED; STOPPED means already told to stop
	CreatedAt     time.Time
	// StartedAt is when the task reached RUNNING; zero if it never did.
	StartedAt time.Time
	// HealthStatus is the task's container health (UNHEALTHY if any
	// essential container is); read only when the deployment has a
	// container health check.
	HealthStatus types.HealthStatus
	// Target is the task's target health; read only when the deployment is
	// load balanced. TargetGroupARN, TargetPort and TargetReason (an ELB
	// reason code or description) go into stop reasons and events.
	Target         TargetHealth
	TargetGroupARN string
	TargetPort     int32
	TargetReason   string
	// StopCode and StoppedReason say why a STOPPED task stopped. Stops
	// Decide asks for must be recorded with Stop.Code and Stop.Reason: the
	// circuit breaker recognises health-check stops by their reason.
	StopCode      types.TaskStopCode
	StoppedReason string
	StoppedAt     time.Time
	// Accounted is set by the caller for tasks listed in Plan.Accounted:
	// the STOPPED task's failure (if any) has been counted.
	Accounted bool
	// SeenHealthy is set by the caller for tasks listed in
	// Plan.SeenHealthy: the task's first healthy moment has been counted
	// (it reset the circuit breaker once).
	SeenHealthy bool
}

// ID is the task ID: the last element of its ARN.
func (t Task) ID() string { return TaskID(t.ARN) }

// Memory is the service-level bookkeeping Decide carries from one call to
// the next: the caller stores Plan.Memory and passes it back in
// State.Memory. The zero value is a service that never completed a
// deployment, is not throttled and has emitted no state events.
type Memory struct {
	// LastCompleted is the most recent deployment that reached COMPLETED,
	// kept after it leaves deployments[]: the circuit breaker rolls back to
	// it.
	LastCompleted *DeploymentRef
	Backoff       Backoff
	// Deadlocked is true while the deployment configuration allows neither
	// a stop nor a start; the deadlock event is emitted when it turns true.
	Deadlocked bool
	// Steady is true while the service is at steady state; the steady-state
	// event is emitted when it turns true.
	Steady bool
	// OverLimit is true while the service's desiredCount is above
	// Params.MaxTasksPerService; the over-limit event is emitted when it
	// turns true.
	OverLimit bool
}

// DeploymentRef is what a rollback needs to recreate a deployment.
type DeploymentRef struct {
	ID                   string
	TaskDefinition       string
	DesiredCount         int32
	ContainerHealthCheck bool
	LoadBalanced         bool
}

// Backoff is the start-failure throttle (ECS's service throttle logic).
// Level counts launch rounds in a row whose tasks stopped before they were
// ever healthy: a failed task raises it only if it was created at or after
// Since (i.e. launched after the previous raise), at most once per Decide.
// From level 2 on, launches wait until Until = Since + BackoffBase ×
// 2^(Level-2), capped at BackoffMax; ECS never gives up. A task created at
// or after Since that becomes healthy, or a new PRIMARY deployment, resets
// it.
type Backoff struct {
	DeploymentID string // the PRIMARY deployment the level applies to
	Level        int32
	Since        time.Time
	Until        time.Time
}

// Params are the limits and timings the server takes from flags. A zero
// field means its default; a negative duration means zero.
type Params struct {
	// HealthyAfterRunning is how long a task with neither a load balancer
	// nor a container health check must be RUNNING to count as healthy
	// (ECS: 40 s).
	HealthyAfterRunning time.Duration
	// BackoffBase is the first throttle delay; BackoffMax caps it (ECS: 15
	// minutes).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxTasksPerService caps the tasks a service runs (ECS's quota,
	// DefaultMaxTasksPerService when zero or negative). The API refuses a
	// larger desiredCount; one already stored is capped here.
	MaxTasksPerService int32
}

func (p Params) resolved() Params {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	limit := p.MaxTasksPerService
	if limit <= 0 {
		limit = DefaultMaxTasksPerService
	}
	return Params{
		HealthyAfterRunning: pick(p.HealthyAfterRunning, DefaultHealthyAfterRunning),
		BackoffBase:         pick(p.BackoffBase, DefaultBackoffBase),
		BackoffMax:          pick(p.BackoffMax, DefaultBackoffMax),
		MaxTasksPerService:  limit,
	}
}

// raise records a launch round that failed at now: one level up, and the
// launch wait that level imposes. It reports whether throttling began
// (level 2, the first level that waits).
func (b *Backoff) raise(now time.Time, p Params) (began bool) {
	b.Level++
	b.Since = now
	b.Until = now.Add(p.delay(b.Level))
	return b.Level == 2
}

// counts reports whether a start failure of a task created at created
// raises the back-off: at level 0 any does, later only one launched since
// the last raise (a round counts once).
func (b Backoff) counts(created time.Time) bool {
	return b.Level == 0 || !created.Before(b.Since)
}

// delay is the throttle delay at level.
func (p Params) delay(level int32) time.Duration {
	if level < 2 {
		return 0
	}
	d := p.BackoffBase
	for i := int32(2); i < level && d < p.BackoffMax; i++ {
		d *= 2
	}
	return min(d, p.BackoffMax)
}
