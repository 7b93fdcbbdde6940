package rollout

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Task classification and health: the rules every deployment family shares
// (ROLLING today; task sets and blue/green stages later). A family groups
// its tasks (by deployment, task set or revision), classifies each with a
// judge and decides from the groups.

// class is where a task stands for the scheduler.
type class uint8

const (
	classStopped   class = iota // lastStatus STOPPED
	classStopping               // told to stop (or stopping by itself), not STOPPED yet
	classPending                // desired RUNNING, not RUNNING yet
	classWaiting                // RUNNING, not healthy yet (or unhealthy within the grace period)
	classHealthy                // RUNNING and healthy
	classUnhealthy              // RUNNING and failing health checks past the grace period
)

// checks says which health checks gate a task's health.
type checks struct {
	container bool // an essential container has a health check: HEALTHY is needed
	target    bool // the task is a load balancer target: a healthy target is needed
}

// observedChecks guesses the checks of a task whose deployment is unknown
// (an orphan) from what its record shows.
func observedChecks(t *Task) checks {
	return checks{
		container: t.HealthStatus == types.HealthStatusHealthy || t.HealthStatus == types.HealthStatusUnhealthy,
		target:    t.Target != TargetNone,
	}
}

// judge classifies tasks at one moment. It remembers the earliest later
// moment at which a verdict changes by itself (a grace period or the 40 s
// rule ends), so the caller can look again then.
type judge struct {
	now          time.Time
	grace        time.Duration // Service.HealthCheckGracePeriod
	healthyAfter time.Duration // Params.HealthyAfterRunning (ECS: 40 s)
	wake         time.Time
}

// wakeAt notes that something changes by itself at t.
func (j *judge) wakeAt(t time.Time) {
	if t.After(j.now) && (j.wake.IsZero() || t.Before(j.wake)) {
		j.wake = t
	}
}

// classOf classifies one task:
//   - STOPPED, or stopping (told to stop, or DEACTIVATING...DEPROVISIONING);
//   - pending until RUNNING;
//   - with no check at all, healthy once RUNNING for healthyAfter (40 s);
//   - unhealthy when a check it has fails, but only after the grace period
//     (counted from RUNNING); until then waiting;
//   - healthy when every check it has passes; else waiting.
func (j *judge) classOf(t *Task, c checks) class {
	switch {
	case t.LastStatus == ecsmodel.TaskStopped:
		return classStopped
	case t.DesiredStatus == ecsmodel.TaskStopped:
		return classStopping
	}
	switch t.LastStatus {
	case ecsmodel.TaskRunning:
	case ecsmodel.TaskDeactivating, ecsmodel.TaskStopping, ecsmodel.TaskDeprovisioning:
		return classStopping
	default:
		return classPending
	}
	started := t.StartedAt
	if started.IsZero() {
		started = t.CreatedAt
	}
	if (c.container && t.HealthStatus == types.HealthStatusUnhealthy) || (c.target && t.Target == TargetUnhealthy) {
		if graceEnd := started.Add(j.grace); j.now.Before(graceEnd) {
			j.wakeAt(graceEnd)
			return classWaiting
		}
		return classUnhealthy
	}
	if !c.container && !c.target {
		if at := started.Add(j.healthyAfter); j.now.Before(at) {
			j.wakeAt(at)
			return classWaiting
		}
		return classHealthy
	}
	if (!c.container || t.HealthStatus == types.HealthStatusHealthy) && (!c.target || t.Target == TargetHealthy) {
		return classHealthy
	}
	return classWaiting
}

// group is the tasks of one deployment (or of a deployment missing from
// deployments[]: orphans), by class, with its counts. The lists hold
// indices into State.Tasks, live tasks only.
type group struct {
	dep    Deployment // the output record
	known  bool       // present in deployments[]
	checks checks

	pending   []int
	waiting   []int
	healthy   []int
	unhealthy []int

	remaining  int32 // tasks not STOPPED
	running    int32 // lastStatus RUNNING
	preRunning int32 // lastStatus before RUNNING
	stops      int32 // tasks stopped by this step
	replacing  int32 // tasks started by this step (Plan.Replacements)

	scalingReason string // cached ScalingReason for this group's stops
}

// add files task i (t) of class c in the group.
func (g *group) add(i int, t *Task, c class) {
	if c != classStopped {
		g.remaining++
		switch t.LastStatus {
		case ecsmodel.TaskRunning:
			g.running++
		case ecsmodel.TaskProvisioning, ecsmodel.TaskPending, ecsmodel.TaskActivating, "":
			g.preRunning++
		}
	}
	switch c {
	case classPending:
		g.pending = append(g.pending, i)
	case classWaiting:
		g.waiting = append(g.waiting, i)
	case classHealthy:
		g.healthy = append(g.healthy, i)
	case classUnhealthy:
		g.unhealthy = append(g.unhealthy, i)
	}
}

// live counts the group's tasks that are neither stopped nor told to stop.
func (g *group) live() int32 {
	return int32(len(g.pending) + len(g.waiting) + len(g.healthy) + len(g.unhealthy))
}

// notUnhealthy counts live tasks that are not unhealthy: the ones that
// count towards the group's desired count.
func (g *group) notUnhealthy() int32 { return g.live() - int32(len(g.unhealthy)) }

func (g *group) inProgress() bool {
	return g.dep.RolloutState == types.DeploymentRolloutStateInProgress
}

// unhealthyToStop is how many of g's unhealthy tasks to stop now when g
// should run want tasks. An unhealthy task is replaced by a task of g's
// own: the replacement starts first when it can (canStart), and the
// unhealthy task stops once healthy tasks cover want; when tasks are
// missing and no replacement can start, every unhealthy task stops at
// once to make room.
//
// Worked example: want 2, one healthy and one unhealthy task. With room
// to start: 1 + 1 − 2 = 0 stops now; a replacement starts; once it is
// healthy, 2 + 1 − 2 = 1: the unhealthy task stops. At maximumPercent 100
// (no room): it stops at once and the next step starts its replacement.
func (g *group) unhealthyToStop(want int32, canStart bool) int32 {
	u := int32(len(g.unhealthy))
	if missing := want - g.notUnhealthy(); missing > 0 && !canStart {
		return u
	}
	return min(max(int32(len(g.healthy))+u-want, 0), u)
}
