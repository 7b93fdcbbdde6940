package rollout

import (
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// decider is one Decide call: the state, the classified groups and the
// plan being built.
type decider struct {
	s      State
	now    time.Time
	params Params
	plan   Plan
	judge  judge

	groups  []*group // deployments[] order, then orphans
	byID    map[string]*group
	primary *group
}

// Decide is the ROLLING deployment scheduler of one service: given the
// service's state and the time, it returns the next step. It reads no clock
// and does no I/O. Each call moves the rollout one step: if tasks may be
// stopped the step stops them, otherwise it starts tasks for the PRIMARY
// deployment; the next call sees the applied result.
//
// Order of work in one call:
//  1. group and classify tasks (pending, waiting, healthy, unhealthy past
//     grace: health.go);
//  2. account for first-time healthy tasks (circuit breaker reset) and newly
//     STOPPED tasks (circuit breaker count, start-failure back-off);
//  3. trip the circuit breaker (FAILED, rollback);
//  4. the step (steps.go): the five kinds of stop, or else the starts;
//  5. update deployments[] (counts, COMPLETED, drained ACTIVE ones removed)
//     and the service's state events.
func Decide(s State, now time.Time) Plan {
	params := s.Params.resolved()
	d := &decider{
		s: s, now: now, params: params,
		judge: judge{now: now, grace: s.Service.HealthCheckGracePeriod, healthyAfter: params.HealthyAfterRunning},
		byID:  make(map[string]*group, len(s.Deployments)+1),
	}
	d.plan.Memory = s.Memory
	d.buildGroups()
	newlyStopped, successSinceBackoff := d.classify()
	d.account(newlyStopped, successSinceBackoff)
	d.breaker()
	d.checkLimit()
	d.step()
	d.settle()
	d.listDeployments()
	if wake := d.judge.wake; !wake.IsZero() && wake.After(now) {
		d.plan.RequeueAfter = wake.Sub(now)
	}
	return d.plan
}

func (d *decider) draining() bool {
	return d.s.Service.Status == ecsmodel.ServiceDraining || d.s.Service.Status == ecsmodel.ServiceInactive
}

// desired is how many tasks the PRIMARY deployment should run: the
// service's desiredCount within [0, MaxTasksPerService], 0 while draining.
func (d *decider) desired() int32 {
	if d.draining() {
		return 0
	}
	return min(max(d.s.Service.DesiredCount, 0), d.params.MaxTasksPerService)
}

// buildGroups indexes deployments and picks the PRIMARY: the newest
// deployment marked PRIMARY, else the newest deployment.
func (d *decider) buildGroups() {
	var newestPrimary, newest *group
	for _, dep := range d.s.Deployments {
		if _, dup := d.byID[dep.ID]; dup {
			continue
		}
		g := &group{dep: dep, known: true, checks: checks{container: dep.ContainerHealthCheck, target: dep.LoadBalanced}}
		if g.dep.RolloutState == "" {
			g.dep.RolloutState = types.DeploymentRolloutStateInProgress
			g.dep.RolloutStateReason = InProgressReason(dep.ID)
		}
		d.groups = append(d.groups, g)
		d.byID[dep.ID] = g
		if newest == nil || dep.CreatedAt.After(newest.dep.CreatedAt) {
			newest = g
		}
		if dep.Status == ecsmodel.DeploymentPrimary && (newestPrimary == nil || dep.CreatedAt.After(newestPrimary.dep.CreatedAt)) {
			newestPrimary = g
		}
	}
	d.primary = newestPrimary
	if d.primary == nil {
		d.primary = newest
	}
	if d.plan.Memory.LastCompleted == nil {
		// Fall back to the newest COMPLETED deployment still listed.
		var best *group
		for _, g := range d.groups {
			if g.dep.RolloutState == types.DeploymentRolloutStateCompleted && (best == nil || g.dep.CreatedAt.After(best.dep.CreatedAt)) {
				best = g
			}
		}
		if best != nil {
			d.plan.Memory.LastCompleted = refOf(best)
		}
	}
}

func refOf(g *group) *DeploymentRef {
	return &DeploymentRef{
		ID:                   g.dep.ID,
		TaskDefinition:       g.dep.TaskDefinition,
		DesiredCount:         g.dep.DesiredCount,
		ContainerHealthCheck: g.checks.container,
		LoadBalanced:         g.checks.target,
	}
}

// groupOf returns the group of deployment id, adding an orphan group when
// the deployment is not in deployments[].
func (d *decider) groupOf(id string) *group {
	g := d.byID[id]
	if g == nil {
		g = &group{dep: Deployment{ID: id}}
		d.groups = append(d.groups, g)
		d.byID[id] = g
	}
	return g
}

// checksFor returns the checks that gate task t of group g.
func (g *group) checksFor(t *Task) checks {
	if !g.known {
		return observedChecks(t)
	}
	return g.checks
}

// classify sorts tasks into their groups and classes. It returns the
// indices of STOPPED tasks not yet accounted for, and whether a task
// launched since the back-off last rose has been healthy.
func (d *decider) classify() (newlyStopped []int, successSinceBackoff bool) {
	b := d.plan.Memory.Backoff
	for i := range d.s.Tasks {
		t := &d.s.Tasks[i]
		g := d.groupOf(t.DeploymentID)
		c := d.judge.classOf(t, g.checksFor(t))
		if b.Level > 0 && (c == classHealthy || t.SeenHealthy) && !t.CreatedAt.Before(b.Since) {
			successSinceBackoff = true
		}
		if c == classStopped && !t.Accounted {
			newlyStopped = append(newlyStopped, i)
		}
		g.add(i, t, c)
	}
	return newlyStopped, successSinceBackoff
}

// account applies first-time healthy tasks and newly stopped tasks to the
// circuit breaker counts and the start-failure back-off.
func (d *decider) account(newlyStopped []int, successSinceBackoff bool) {
	d.accountHealthy()
	b := &d.plan.Memory.Backoff
	if p := d.primary; p != nil && b.DeploymentID != p.dep.ID {
		*b = Backoff{DeploymentID: p.dep.ID} // a new deployment resets the back-off
	} else if successSinceBackoff && b.Level > 0 {
		*b = Backoff{DeploymentID: b.DeploymentID}
	}
	d.accountStopped(newlyStopped)
}

// accountHealthy lists tasks healthy for the first time; each resets the
// IN_PROGRESS PRIMARY's failure count (resetOnHealthyTask, default true).
func (d *decider) accountHealthy() {
	reset := resetsOnHealthy(enabledBreaker(d.s.Service.DeploymentConfiguration))
	for _, g := range d.groups {
		for _, i := range g.healthy {
			t := &d.s.Tasks[i]
			if t.SeenHealthy {
				continue
			}
			d.plan.SeenHealthy = append(d.plan.SeenHealthy, t.ARN)
			if g == d.primary && reset && g.inProgress() {
				g.dep.FailedTasks = 0
			}
		}
	}
}

// accountStopped counts newly STOPPED tasks once: a failure of the
// IN_PROGRESS PRIMARY adds to its failedTasks, and the first start failure
// of a launch round raises the back-off.
func (d *decider) accountStopped(newlyStopped []int) {
	b := &d.plan.Memory.Backoff
	raised := false
	for _, i := range newlyStopped {
		t := &d.s.Tasks[i]
		d.plan.Accounted = append(d.plan.Accounted, t.ARN)
		f := failureOf(t)
		if f == failNone {
			continue
		}
		if g := d.byID[t.DeploymentID]; g == d.primary && g.inProgress() {
			g.dep.FailedTasks++
		}
		if f == failStart && !raised && b.counts(t.CreatedAt) {
			raised = true
			if b.raise(d.now, d.params) {
				d.plan.Events = append(d.plan.Events, throttledEvent(d.s.Service.Name))
			}
		}
	}
}

// breaker fails the PRIMARY deployment when its failure count reaches the
// threshold and, with rollback, returns to the last COMPLETED deployment.
func (d *decider) breaker() {
	p, cb := d.primary, enabledBreaker(d.s.Service.DeploymentConfiguration)
	if p == nil || cb == nil || !p.inProgress() || d.draining() {
		return
	}
	if p.dep.FailedTasks < BreakerThreshold(cb, d.desired()) {
		return
	}
	name := d.s.Service.Name
	p.dep.RolloutState = types.DeploymentRolloutStateFailed
	p.dep.RolloutStateReason = BreakerFailedReason
	d.plan.Events = append(d.plan.Events, failedEvent(name, p.dep.ID))
	last := d.plan.Memory.LastCompleted
	if !cb.Rollback || last == nil || last.ID == p.dep.ID {
		return // no rollback: the failed deployment stops launching tasks
	}
	to := d.groupOf(last.ID)
	if !to.known {
		to.known = true
		to.checks = checks{container: last.ContainerHealthCheck, target: last.LoadBalanced}
		to.dep = Deployment{
			ID:                   last.ID,
			TaskDefinition:       last.TaskDefinition,
			ContainerHealthCheck: last.ContainerHealthCheck,
			LoadBalanced:         last.LoadBalanced,
		}
	}
	to.dep.CreatedAt = d.now
	to.dep.FailedTasks = 0
	to.dep.RolloutState = types.DeploymentRolloutStateInProgress
	to.dep.RolloutStateReason = BreakerRollbackReason(last.ID)
	d.primary = to
	d.plan.Memory.Backoff = Backoff{DeploymentID: to.dep.ID}
	d.plan.Rollback = &Rollback{FailedDeploymentID: p.dep.ID, ToDeploymentID: to.dep.ID, TaskDefinition: to.dep.TaskDefinition}
	d.plan.Events = append(d.plan.Events, rollingBackEvent(name, last.ID))
}

// checkLimit notes a stored desiredCount above MaxTasksPerService: desired
// caps it, and the event says so once.
func (d *decider) checkLimit() {
	over := !d.draining() && d.s.Service.DesiredCount > d.params.MaxTasksPerService
	if over && !d.s.Memory.OverLimit {
		d.plan.Events = append(d.plan.Events, overLimitEvent(d.s.Service.Name, d.s.Service.DesiredCount, d.params.MaxTasksPerService))
	}
	d.plan.OverLimit = over
	d.plan.Memory.OverLimit = over
}

// settle completes the PRIMARY deployment when it has desired healthy
// tasks and nothing else is left, and notes the service's steady state.
func (d *decider) settle() {
	n := d.plan.DesiredCount
	p := d.primary
	name := d.s.Service.Name
	var remaining int32
	for _, g := range d.groups {
		remaining += g.remaining
	}
	settled := p != nil && !d.draining() && d.plan.Empty() &&
		int32(len(p.healthy)) == n && remaining == n
	if settled && p.inProgress() {
		p.dep.RolloutState = types.DeploymentRolloutStateCompleted
		p.dep.RolloutStateReason = CompletedReason(p.dep.ID)
		d.plan.Events = append(d.plan.Events, completedEvent(name, p.dep.ID))
	}
	if p != nil && p.dep.RolloutState == types.DeploymentRolloutStateCompleted {
		p.dep.DesiredCount = n
		d.plan.Memory.LastCompleted = refOf(p)
	}
	steady := settled && p.dep.RolloutState == types.DeploymentRolloutStateCompleted
	if steady && !d.s.Memory.Steady {
		d.plan.Events = append(d.plan.Events, steadyEvent(name))
	}
	d.plan.Memory.Steady = steady
}

// listDeployments writes deployments[] and the service's counts. It is
// the writer of every deployment's desiredCount during a rollout (see
// desiredOf); drained ACTIVE deployments leave the list.
func (d *decider) listDeployments() {
	p := d.primary
	out := make([]Deployment, 0, len(d.groups))
	for _, g := range d.groups {
		d.plan.RunningCount += g.running
		d.plan.PendingCount += g.preRunning
		if !g.known {
			continue
		}
		dep := g.dep
		dep.RunningCount, dep.PendingCount = g.running, g.preRunning
		if g == p {
			dep.Status = ecsmodel.DeploymentPrimary
			dep.PendingCount += d.plan.Start.Count
		} else {
			if g.remaining == 0 && g.replacing == 0 {
				d.plan.Removed = append(d.plan.Removed, g.dep.ID)
				continue
			}
			dep.Status = ecsmodel.DeploymentActive
			dep.PendingCount += g.replacing
			d.plan.PendingCount += g.replacing
		}
		dep.DesiredCount = d.desiredOf(g)
		out = append(out, dep)
	}
	d.plan.PendingCount += d.plan.Start.Count
	slices.SortStableFunc(out, func(a, b Deployment) int {
		if (a.Status == ecsmodel.DeploymentPrimary) != (b.Status == ecsmodel.DeploymentPrimary) {
			if a.Status == ecsmodel.DeploymentPrimary {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	d.plan.Deployments = out
}

// desiredOf is a deployment's desiredCount after this step: the PRIMARY's
// is the service's (capped, 0 while draining); an ACTIVE one's is what it
// keeps (its live tasks minus this step's stops), or, while a FAILED
// PRIMARY launches nothing, the count it held.
func (d *decider) desiredOf(g *group) int32 {
	switch {
	case g == d.primary:
		return d.plan.DesiredCount
	case d.primary != nil && d.primary.dep.RolloutState == types.DeploymentRolloutStateFailed && !d.draining():
		return max(g.dep.DesiredCount, 0) // held: see holdActive
	default:
		return g.live() - g.stops
	}
}

// oldGroups returns the groups other than the PRIMARY, oldest first
// (orphans, which have no creation time, come first).
func (d *decider) oldGroups() []*group {
	old := make([]*group, 0, len(d.groups))
	for _, g := range d.groups {
		if g != d.primary {
			old = append(old, g)
		}
	}
	slices.SortStableFunc(old, func(a, b *group) int { return a.dep.CreatedAt.Compare(b.dep.CreatedAt) })
	return old
}

// stop asks for task i of group g to stop for cause.
func (d *decider) stop(g *group, i int, cause StopCause) {
	t := &d.s.Tasks[i]
	st := Stop{TaskARN: t.ARN, DeploymentID: g.dep.ID, Cause: cause, Code: types.TaskStopCodeServiceSchedulerInitiated}
	if cause == StopScaling {
		if g.scalingReason == "" {
			id := g.dep.ID
			if id == "" && d.primary != nil {
				id = d.primary.dep.ID
			}
			g.scalingReason = ScalingReason(id)
		}
		st.Reason = g.scalingReason
	} else {
		var ev Event
		st.Reason, ev = healthStop(d.s.Service.Name, t, cause)
		d.plan.Events = append(d.plan.Events, ev)
	}
	g.stops++
	d.plan.Stops = append(d.plan.Stops, st)
}

// stopUnhealthy stops task i of group g for the health check it fails.
func (d *decider) stopUnhealthy(g *group, i int) {
	t := &d.s.Tasks[i]
	d.stop(g, i, healthCause(t, g.checksFor(t)))
}
