package rollout

import "github.com/aws/aws-sdk-go-v2/service/ecs/types"

// The step of a ROLLING deployment, in named phases (doc.go, "Steps"):
// five kinds of stop, then, if nothing stopped, the starts. Each phase
// spends the step's budget.

// budget is what one step may do. It is computed once, before any stop,
// from the classified tasks; the phases spend room and stoppable.
type budget struct {
	desired   int32 // tasks the PRIMARY should run (0 while draining)
	room      int32 // upper − live tasks: how many may still start
	stoppable int32 // healthy − lower: how many healthy tasks may still stop
	good      int32 // PRIMARY tasks that are not unhealthy
	inFlight  bool  // a task is pending or waiting: the state changes by itself
	draining  bool  // DRAINING service: everything stops, nothing starts
	frozen    bool  // FAILED PRIMARY: it launches nothing, ACTIVE deployments hold
	throttled bool  // the start-failure back-off holds launches
}

// need is how many PRIMARY tasks are missing.
func (b *budget) need() int32 { return b.desired - b.good }

// budget computes the step's budget. With desired 12, min 75 %, max
// 150 % and 12 healthy old tasks: lower 9, upper 18, so room 18 − 12 = 6
// and stoppable 12 − 9 = 3.
func (d *decider) budget() budget {
	n := d.desired()
	minPercent, maxPercent := Percents(d.s.Service.DeploymentConfiguration)
	lower, upper := Bounds(n, minPercent, maxPercent)
	b := budget{desired: n, draining: d.draining(), throttled: d.plan.Memory.Backoff.Until.After(d.now)}
	var healthy, live int32
	for _, g := range d.groups {
		healthy += int32(len(g.healthy))
		live += g.live()
		b.inFlight = b.inFlight || len(g.pending) > 0 || len(g.waiting) > 0
	}
	b.room = upper - live
	b.stoppable = healthy - lower
	if p := d.primary; p != nil {
		b.frozen = !b.draining && p.dep.RolloutState == types.DeploymentRolloutStateFailed
		b.good = p.notUnhealthy()
	}
	return b
}

// step chooses this call's stops, or else its starts. Stops come first and
// a step that stops anything starts nothing: the next call sees the stops
// applied.
func (d *decider) step() {
	b := d.budget()
	d.plan.DesiredCount = b.desired
	old := d.oldGroups()

	d.stopUnhealthyActive(old, &b)
	d.stopUnhealthyPrimary(&b)
	held := d.holdActive(old, &b)
	d.stopUnreadyActive(old, &b)
	d.stopHealthyActive(old, &b)
	d.stopPrimarySurplus(&b)

	if len(d.plan.Stops) > 0 {
		ids := make([]string, len(d.plan.Stops))
		for i, st := range d.plan.Stops {
			ids[i] = TaskID(st.TaskARN)
		}
		d.plan.Events = append(d.plan.Events, stoppedEvent(d.s.Service.Name, ids))
	} else {
		d.startReplacements(held, &b)
		d.startPrimary(&b)
	}
	d.noteDeadlock()
}

// stopUnhealthyActive is kind 1: unhealthy tasks of ACTIVE deployments
// stop and are not replaced (the PRIMARY's tasks take their place). While
// the PRIMARY is FAILED, holdActive treats the deployments it did not
// replace instead; orphans' unhealthy tasks still stop here.
func (d *decider) stopUnhealthyActive(old []*group, b *budget) {
	for _, g := range old {
		if b.frozen && g.known {
			continue
		}
		for _, i := range g.unhealthy {
			d.stopUnhealthy(g, i)
		}
	}
}

// stopUnhealthyPrimary is kind 2: an unhealthy PRIMARY task is replaced by
// a task of its own deployment. The replacement starts first when the
// upper bound allows and the PRIMARY may launch; the unhealthy task stops
// once healthy PRIMARY tasks cover desired (group.unhealthyToStop has the
// worked numbers).
func (d *decider) stopUnhealthyPrimary(b *budget) {
	p := d.primary
	if p == nil {
		return
	}
	canStart := b.room > 0 && !b.frozen && !b.draining && !b.throttled
	for _, i := range p.unhealthy[:p.unhealthyToStop(b.desired, canStart)] {
		d.stopUnhealthy(p, i)
	}
}

// replacement is a number of tasks an ACTIVE deployment is missing.
type replacement struct {
	g     *group
	count int32
}

// holdActive applies while the PRIMARY is FAILED (circuit breaker without
// rollback): it launches nothing, so each ACTIVE deployment it did not
// replace keeps its desired count, replacing unhealthy or missing tasks
// with tasks of its own revision (the replacement first when the upper
// bound allows). It stops what must stop now and returns what is missing,
// for startReplacements.
func (d *decider) holdActive(old []*group, b *budget) []replacement {
	if !b.frozen {
		return nil
	}
	var missing []replacement
	for _, g := range old {
		if !g.known {
			continue
		}
		want := max(g.dep.DesiredCount, 0)
		for _, i := range g.unhealthy[:g.unhealthyToStop(want, b.room > 0 && !b.throttled)] {
			d.stopUnhealthy(g, i)
		}
		if n := want - g.notUnhealthy(); n > 0 {
			missing = append(missing, replacement{g, n})
		}
	}
	return missing
}

// stopUnreadyActive is kind 3: ACTIVE deployments' tasks that are not
// healthy (waiting, then pending) stop at once: stopping them costs no
// healthy capacity. In the seed's example a deployment superseded while
// its 9 tasks were still in the 40 s window loses all 9 in one step.
func (d *decider) stopUnreadyActive(old []*group, b *budget) {
	if b.frozen {
		return
	}
	for _, g := range old {
		for _, i := range g.waiting {
			d.stop(g, i, StopScaling)
		}
		for _, i := range g.pending {
			d.stop(g, i, StopScaling)
		}
	}
}

// stopHealthyActive is kind 4: ACTIVE deployments' healthy tasks stop,
// oldest deployment first, while at least lower healthy tasks remain.
// With desired 12, min 75 %: 12 healthy old tasks, lower 9: 3 stop in the
// first step; later, with 9 old and 9 new healthy, the other 9 old stop.
func (d *decider) stopHealthyActive(old []*group, b *budget) {
	if b.frozen {
		return
	}
	for _, g := range old {
		for _, i := range g.healthy {
			if b.stoppable <= 0 {
				return
			}
			d.stop(g, i, StopScaling)
			b.stoppable--
		}
	}
}

// stopPrimarySurplus is kind 5: PRIMARY tasks above desired (scale-in,
// deletion) stop: pending first, then not yet healthy, then healthy ones,
// newest first, within what stopHealthyActive left of the budget. Scaling
// 5 healthy tasks to 2 at min 100 % stops 3: lower is ceil(2 × 100 %) = 2.
func (d *decider) stopPrimarySurplus(b *budget) {
	p := d.primary
	if p == nil || b.good <= b.desired {
		return
	}
	surplus := b.good - b.desired
	for _, list := range [][]int{p.pending, p.waiting} {
		for j := len(list) - 1; j >= 0 && surplus > 0; j-- {
			d.stop(p, list[j], StopScaling)
			surplus--
		}
	}
	for j := len(p.healthy) - 1; j >= 0 && surplus > 0 && b.stoppable > 0; j-- {
		d.stop(p, p.healthy[j], StopScaling)
		surplus--
		b.stoppable--
	}
}

// startReplacements starts, within the upper bound, the tasks that
// ACTIVE deployments held by holdActive are missing.
func (d *decider) startReplacements(held []replacement, b *budget) {
	if b.draining || b.throttled {
		return
	}
	for _, r := range held {
		if n := min(r.count, b.room); n > 0 {
			d.plan.Replacements = append(d.plan.Replacements, Start{DeploymentID: r.g.dep.ID, TaskDefinition: r.g.dep.TaskDefinition, Count: n})
			r.g.replacing = n
			b.room -= n
		}
	}
}

// startPrimary starts min(desired − PRIMARY tasks that are not unhealthy,
// upper − live) PRIMARY tasks: 9 in the seed's second step (upper 18, 9
// live). Throttled, it waits for the back-off; with no room and nothing
// pending or waiting that could free some, the rollout is deadlocked
// (e.g. 100/100: lower = upper = desired).
func (d *decider) startPrimary(b *budget) {
	p := d.primary
	if p == nil || b.draining || b.frozen || b.need() <= 0 {
		return
	}
	switch {
	case b.throttled:
		d.plan.Throttled = true
		d.judge.wakeAt(d.plan.Memory.Backoff.Until)
	case b.room > 0:
		d.plan.Start = Start{DeploymentID: p.dep.ID, TaskDefinition: p.dep.TaskDefinition, Count: min(b.need(), b.room)}
	case !b.inFlight:
		d.plan.Deadlocked = true
	}
}

// noteDeadlock keeps Memory.Deadlocked and emits the deadlock event when
// the deadlock begins, not on every step.
func (d *decider) noteDeadlock() {
	if d.plan.Deadlocked && !d.plan.Memory.Deadlocked {
		d.plan.Events = append(d.plan.Events, deadlockEvent(d.s.Service.Name))
	}
	d.plan.Memory.Deadlocked = d.plan.Deadlocked
}
