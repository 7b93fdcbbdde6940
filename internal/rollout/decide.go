package rollout

import (
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Bounds returns a rolling update's bounds for desired tasks: at least
// lower = ceil(desired × minimumHealthyPercent / 100) tasks must stay
// healthy and at most upper = floor(desired × maximumPercent / 100) tasks
// may be RUNNING or PENDING.
//
// Worked example (the seed article's): desired 12, min 75 %, max 150 % →
// lower 9, upper 18. From 12 old healthy tasks the scheduler may stop
// 12 - 9 = 3 old tasks, then start 18 - 9 = 9 new ones, wait for them to be
// healthy (18 healthy), stop the remaining 9 old ones (9 left) and start the
// last 3 new ones. Desired 100 with 90/110 moves in batches of 110 - 90 =
// 20; with 90/150, batches of 60.
func Bounds(desired, minPercent, maxPercent int32) (lower, upper int32) {
	d := int64(max(desired, 0))
	lower = int32((d*int64(max(minPercent, 0)) + 99) / 100)
	upper = int32(d * int64(max(maxPercent, 0)) / 100)
	return lower, upper
}

// Percents returns the minimumHealthyPercent and maximumPercent of cfg,
// with ECS's defaults (100 and 200) for unset values.
func Percents(cfg *types.DeploymentConfiguration) (minPercent, maxPercent int32) {
	minPercent, maxPercent = 100, 200
	if cfg != nil {
		if cfg.MinimumHealthyPercent != nil {
			minPercent = *cfg.MinimumHealthyPercent
		}
		if cfg.MaximumPercent != nil {
			maxPercent = *cfg.MaximumPercent
		}
	}
	return minPercent, maxPercent
}

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

// group is one deployment's tasks (or tasks of a deployment missing from
// deployments[]: orphans).
type group struct {
	dep     Deployment // the output record
	known   bool       // present in deployments[]
	hc, lb  bool
	pending []int // indices into State.Tasks, by class, live tasks only
	waiting []int
	healthy []int
	unhealt []int

	remaining  int32 // tasks not STOPPED
	running    int32 // lastStatus RUNNING
	preRunning int32 // lastStatus before RUNNING
	stops      int32 // tasks stopped by this step
	replacing  int32 // tasks started by this step (Plan.Replacements)

	scalingReason string // cached ScalingReason for this group's stops
}

func (g *group) live() int32 {
	return int32(len(g.pending) + len(g.waiting) + len(g.healthy) + len(g.unhealt))
}

func (g *group) inProgress() bool {
	return g.dep.RolloutState == types.DeploymentRolloutStateInProgress
}

type decider struct {
	s      State
	now    time.Time
	params Params
	plan   Plan

	groups  []*group // deployments[] order, then orphans
	byID    map[string]*group
	primary *group
	wake    time.Time
}

// Decide is the ROLLING deployment scheduler of one service: given the
// service's state and the time, it returns the next step. It reads no clock
// and does no I/O. Each call moves the rollout one step: if tasks may be
// stopped the step stops them, otherwise it starts tasks for the PRIMARY
// deployment; the next call sees the applied result.
//
// Order of work in one call:
//  1. classify tasks (pending, waiting, healthy, unhealthy past grace);
//  2. account for first-time healthy tasks (circuit breaker reset) and newly
//     STOPPED tasks (circuit breaker count, start-failure back-off);
//  3. trip the circuit breaker (FAILED, rollback);
//  4. choose stops: unhealthy tasks (replacement first when the upper
//     bound allows), then old deployments' tasks that are not healthy, then
//     their healthy tasks, oldest deployment first, while at least lower
//     healthy tasks remain, then PRIMARY tasks above desired;
//  5. if nothing is stopped, start PRIMARY tasks up to desired within the
//     upper bound, unless throttled, FAILED or deadlocked;
//  6. update deployments[] (counts, COMPLETED, drained ACTIVE ones removed)
//     and the service's state events.
func Decide(s State, now time.Time) Plan {
	d := &decider{s: s, now: now, params: s.Params.resolved(), byID: make(map[string]*group, len(s.Deployments)+1)}
	d.plan.Memory = s.Memory
	d.buildGroups()
	newlyStopped, successSinceBackoff := d.classify()
	d.account(newlyStopped, successSinceBackoff)
	d.breaker()
	d.step()
	d.records()
	if !d.wake.IsZero() && d.wake.After(now) {
		d.plan.RequeueAfter = d.wake.Sub(now)
	}
	return d.plan
}

func (d *decider) draining() bool {
	return d.s.Service.Status == ecsmodel.ServiceDraining || d.s.Service.Status == ecsmodel.ServiceInactive
}

func (d *decider) desired() int32 {
	if d.draining() {
		return 0
	}
	return max(d.s.Service.DesiredCount, 0)
}

func (d *decider) wakeAt(t time.Time) {
	if t.After(d.now) && (d.wake.IsZero() || t.Before(d.wake)) {
		d.wake = t
	}
}

func (d *decider) breakerConfig() *types.DeploymentCircuitBreaker {
	if cfg := d.s.Service.DeploymentConfiguration; cfg != nil && cfg.DeploymentCircuitBreaker != nil && cfg.DeploymentCircuitBreaker.Enable {
		return cfg.DeploymentCircuitBreaker
	}
	return nil
}

// buildGroups indexes deployments and picks the PRIMARY: the newest
// deployment marked PRIMARY, else the newest deployment.
func (d *decider) buildGroups() {
	var newestPrimary, newest *group
	for _, dep := range d.s.Deployments {
		if _, dup := d.byID[dep.ID]; dup {
			continue
		}
		g := &group{dep: dep, known: true, hc: dep.ContainerHealthCheck, lb: dep.LoadBalanced}
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
		ContainerHealthCheck: g.hc,
		LoadBalanced:         g.lb,
	}
}

// classify sorts tasks into their groups and classes. It returns the
// indices of STOPPED tasks not yet accounted for, and whether a task
// launched since the back-off last rose has reached RUNNING.
func (d *decider) classify() (newlyStopped []int, successSinceBackoff bool) {
	b := d.plan.Memory.Backoff
	for i := range d.s.Tasks {
		t := &d.s.Tasks[i]
		g := d.byID[t.DeploymentID]
		if g == nil {
			g = &group{dep: Deployment{ID: t.DeploymentID}}
			d.groups = append(d.groups, g)
			d.byID[t.DeploymentID] = g
		}
		hc, lb := g.hc, g.lb
		if !g.known {
			hc = t.HealthStatus == types.HealthStatusHealthy || t.HealthStatus == types.HealthStatusUnhealthy
			lb = t.Target != TargetNone
		}
		c := d.classOf(t, hc, lb)
		if b.Level > 0 && (c == classHealthy || t.SeenHealthy) && !t.CreatedAt.Before(b.Since) {
			successSinceBackoff = true
		}
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
		case classStopped:
			if !t.Accounted {
				newlyStopped = append(newlyStopped, i)
			}
		case classPending:
			g.pending = append(g.pending, i)
		case classWaiting:
			g.waiting = append(g.waiting, i)
		case classHealthy:
			g.healthy = append(g.healthy, i)
		case classUnhealthy:
			g.unhealt = append(g.unhealt, i)
		}
	}
	return newlyStopped, successSinceBackoff
}

func (d *decider) classOf(t *Task, hc, lb bool) class {
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
	if (hc && t.HealthStatus == types.HealthStatusUnhealthy) || (lb && t.Target == TargetUnhealthy) {
		if graceEnd := started.Add(d.s.Service.HealthCheckGracePeriod); d.now.Before(graceEnd) {
			d.wakeAt(graceEnd)
			return classWaiting
		}
		return classUnhealthy
	}
	if !hc && !lb {
		if at := started.Add(d.params.HealthyAfterRunning); d.now.Before(at) {
			d.wakeAt(at)
			return classWaiting
		}
		return classHealthy
	}
	if (!hc || t.HealthStatus == types.HealthStatusHealthy) && (!lb || t.Target == TargetHealthy) {
		return classHealthy
	}
	return classWaiting
}

// failure kinds of a stopped task.
type failure uint8

const (
	failNone   failure = iota
	failStart          // stopped before it was ever healthy, not by the scheduler or a user
	failHealth         // stopped by the scheduler for failed container or ELB health checks
)

func failureOf(t *Task) failure {
	if t.StoppedReason == ContainerHealthReason || strings.HasPrefix(t.StoppedReason, elbHealthReasonPrefix) {
		return failHealth
	}
	// A task that never reached RUNNING failed to start; so did one whose
	// essential container exited before the task ever counted as healthy
	// (a crash at start-up often happens just after RUNNING). A task that
	// was healthy once and then stopped is an ordinary stop.
	if t.SeenHealthy {
		return failNone
	}
	switch t.StopCode {
	case types.TaskStopCodeServiceSchedulerInitiated, types.TaskStopCodeUserInitiated:
		return failNone
	}
	if strings.HasPrefix(t.StoppedReason, "Scaling activity initiated by") {
		return failNone
	}
	return failStart
}

// account applies first-time healthy tasks and newly stopped tasks to the
// circuit breaker counts and the start-failure back-off.
func (d *decider) account(newlyStopped []int, successSinceBackoff bool) {
	p := d.primary
	cb := d.breakerConfig()
	reset := cb == nil || cb.ResetOnHealthyTask == nil || *cb.ResetOnHealthyTask

	// Healthy first: a task that became healthy resets the count.
	for _, g := range d.groups {
		for _, i := range g.healthy {
			t := &d.s.Tasks[i]
			if t.SeenHealthy {
				continue
			}
			d.plan.SeenHealthy = append(d.plan.SeenHealthy, t.ARN)
			if g == p && reset && g.inProgress() {
				g.dep.FailedTasks = 0
			}
		}
	}

	b := &d.plan.Memory.Backoff
	if p != nil && b.DeploymentID != p.dep.ID {
		*b = Backoff{DeploymentID: p.dep.ID} // a new deployment resets the back-off
	} else if successSinceBackoff && b.Level > 0 {
		*b = Backoff{DeploymentID: b.DeploymentID}
	}
	raised := false
	for _, i := range newlyStopped {
		t := &d.s.Tasks[i]
		d.plan.Accounted = append(d.plan.Accounted, t.ARN)
		f := failureOf(t)
		if f == failNone {
			continue
		}
		if g := d.byID[t.DeploymentID]; g == p && g.inProgress() {
			g.dep.FailedTasks++
		}
		if f == failStart && !raised && (b.Level == 0 || !t.CreatedAt.Before(b.Since)) {
			raised = true
			b.Level++
			b.Since = d.now
			b.Until = d.now.Add(d.params.delay(b.Level))
			if b.Level == 2 {
				d.plan.Events = append(d.plan.Events, throttledEvent(d.s.Service.Name))
			}
		}
	}
}

// breaker fails the PRIMARY deployment when its failure count reaches the
// threshold and, with rollback, returns to the last COMPLETED deployment.
func (d *decider) breaker() {
	p, cb := d.primary, d.breakerConfig()
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
	to := d.byID[last.ID]
	if to == nil {
		to = &group{}
		d.groups = append(d.groups, to)
		d.byID[last.ID] = to
	}
	if !to.known {
		to.known = true
		to.hc, to.lb = last.ContainerHealthCheck, last.LoadBalanced
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

func (d *decider) stop(g *group, i int, cause StopCause) {
	t := &d.s.Tasks[i]
	st := Stop{TaskARN: t.ARN, DeploymentID: g.dep.ID, Cause: cause, Code: types.TaskStopCodeServiceSchedulerInitiated}
	name := d.s.Service.Name
	switch cause {
	case StopContainerHealth:
		st.Reason = ContainerHealthReason
		d.plan.Events = append(d.plan.Events, containerUnhealthyEvent(name, t.ID()))
	case StopELBHealth:
		st.Reason = ELBHealthReason(t.TargetGroupARN)
		d.plan.Events = append(d.plan.Events, targetUnhealthyEvent(name, t))
	default:
		if g.scalingReason == "" {
			id := g.dep.ID
			if id == "" && d.primary != nil {
				id = d.primary.dep.ID
			}
			g.scalingReason = ScalingReason(id)
		}
		st.Reason = g.scalingReason
	}
	g.stops++
	d.plan.Stops = append(d.plan.Stops, st)
}

func (d *decider) stopUnhealthy(g *group, i int) {
	t := &d.s.Tasks[i]
	if (g.hc || !g.known) && t.HealthStatus == types.HealthStatusUnhealthy {
		d.stop(g, i, StopContainerHealth)
		return
	}
	d.stop(g, i, StopELBHealth)
}

// step chooses this call's stops, or else its starts.
func (d *decider) step() {
	n := d.desired()
	d.plan.DesiredCount = n
	minPercent, maxPercent := Percents(d.s.Service.DeploymentConfiguration)
	lower, upper := Bounds(n, minPercent, maxPercent)
	var healthy, total int32
	inFlight := false
	for _, g := range d.groups {
		healthy += int32(len(g.healthy))
		total += g.live()
		inFlight = inFlight || len(g.pending) > 0 || len(g.waiting) > 0
	}
	p := d.primary
	draining := d.draining()
	frozen := p != nil && !draining && p.dep.RolloutState == types.DeploymentRolloutStateFailed
	b := d.plan.Memory.Backoff
	throttled := b.Until.After(d.now)
	budget := healthy - lower // healthy tasks that may still be stopped
	old := d.oldGroups()

	// Unhealthy tasks of old deployments: stopped, not replaced (the
	// PRIMARY's tasks take their place) — unless the PRIMARY is FAILED and
	// launches nothing: then each old deployment keeps its tasks and
	// replaces unhealthy ones with its own revision (below).
	for _, g := range old {
		if frozen && g.known {
			continue
		}
		for _, i := range g.unhealt {
			d.stopUnhealthy(g, i)
		}
	}

	var need, good int32
	room := upper - total
	if p != nil {
		u := int32(len(p.unhealt))
		good = p.live() - u
		need = n - good
		// An unhealthy PRIMARY task is replaced by a task of its own
		// deployment: start the replacement first when the upper bound
		// allows, and stop the unhealthy task once healthy tasks cover
		// desired; if no replacement can start now, stop it first.
		k := min(max(int32(len(p.healthy))+u-n, 0), u)
		if need > 0 && (room <= 0 || frozen || draining || throttled) {
			k = u
		}
		for _, i := range p.unhealt[:k] {
			d.stopUnhealthy(p, i)
		}
	}

	// With a FAILED PRIMARY, old deployments hold their desired counts:
	// unhealthy (or missing) tasks are replaced by tasks of their own
	// revision, the replacement first when the upper bound allows.
	type replacement struct {
		g     *group
		count int32
	}
	var replace []replacement
	if frozen {
		for _, g := range old {
			if !g.known {
				continue
			}
			want := max(g.dep.DesiredCount, 0)
			u := int32(len(g.unhealt))
			missing := max(want-(g.live()-u), 0)
			k := min(max(int32(len(g.healthy))+u-want, 0), u)
			if missing > 0 && (room <= 0 || throttled) {
				k = u
			}
			for _, i := range g.unhealt[:k] {
				d.stopUnhealthy(g, i)
			}
			if missing > 0 {
				replace = append(replace, replacement{g, missing})
			}
		}
	}

	if !frozen {
		// Old deployments' tasks that are not healthy: stopping them costs
		// no healthy capacity.
		for _, g := range old {
			for _, i := range g.waiting {
				d.stop(g, i, StopScaling)
			}
			for _, i := range g.pending {
				d.stop(g, i, StopScaling)
			}
		}
		// Old deployments' healthy tasks, oldest deployment first, while
		// lower healthy tasks remain.
		for _, g := range old {
			for _, i := range g.healthy {
				if budget <= 0 {
					break
				}
				d.stop(g, i, StopScaling)
				budget--
			}
		}
	}

	// PRIMARY tasks above desired (scale-in, deletion): pending first, then
	// not yet healthy, then healthy ones (newest first) within the budget.
	if p != nil && good > n {
		surplus := good - n
		for _, list := range [][]int{p.pending, p.waiting} {
			for j := len(list) - 1; j >= 0 && surplus > 0; j-- {
				d.stop(p, list[j], StopScaling)
				surplus--
			}
		}
		for j := len(p.healthy) - 1; j >= 0 && surplus > 0 && budget > 0; j-- {
			d.stop(p, p.healthy[j], StopScaling)
			surplus--
			budget--
		}
	}

	if len(d.plan.Stops) > 0 {
		ids := make([]string, len(d.plan.Stops))
		for i, st := range d.plan.Stops {
			ids[i] = TaskID(st.TaskARN)
		}
		d.plan.Events = append(d.plan.Events, stoppedEvent(d.s.Service.Name, ids))
	}

	if len(d.plan.Stops) == 0 && !draining && !throttled {
		for _, r := range replace {
			if n := min(r.count, room); n > 0 {
				d.plan.Replacements = append(d.plan.Replacements, Start{DeploymentID: r.g.dep.ID, TaskDefinition: r.g.dep.TaskDefinition, Count: n})
				r.g.replacing = n
				room -= n
			}
		}
	}

	deadlocked := false
	if len(d.plan.Stops) == 0 && p != nil && !draining && !frozen && need > 0 {
		switch {
		case throttled:
			d.plan.Throttled = true
			d.wakeAt(b.Until)
		case room > 0:
			d.plan.Start = Start{DeploymentID: p.dep.ID, TaskDefinition: p.dep.TaskDefinition, Count: min(need, room)}
		case !inFlight:
			deadlocked = true
		}
	}
	if deadlocked && !d.plan.Memory.Deadlocked {
		d.plan.Events = append(d.plan.Events, deadlockEvent(d.s.Service.Name))
	}
	d.plan.Deadlocked = deadlocked
	d.plan.Memory.Deadlocked = deadlocked
}

// records writes deployments[], the service counts, completion and the
// steady-state event.
func (d *decider) records() {
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
			dep.DesiredCount = n
			dep.PendingCount += d.plan.Start.Count
		} else {
			if g.remaining == 0 && g.replacing == 0 {
				d.plan.Removed = append(d.plan.Removed, g.dep.ID)
				continue
			}
			dep.Status = ecsmodel.DeploymentActive
			dep.DesiredCount = g.live() - g.stops
			if p != nil && p.dep.RolloutState == types.DeploymentRolloutStateFailed && !d.draining() {
				dep.DesiredCount = max(g.dep.DesiredCount, 0) // held: see step
			}
			dep.PendingCount += g.replacing
			d.plan.PendingCount += g.replacing
		}
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
