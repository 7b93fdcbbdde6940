package lbrun

import (
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// group is the live side of a stored target group.
type group struct {
	arn, key   string // ARN and store key (region/name)
	tg         *lb.TargetGroup
	hc         lb.HealthCheck    // as last applied
	attrs      map[string]string // as last applied
	registered map[string]bool   // host:port registered and not draining in tg
}

// drain is a deregistered target whose drain has not ended: in the live
// group (its in-flight requests finish, until the deadline at most), or,
// after a restart, only here: nothing can be in flight to it through this
// run's listeners, and it keeps draining until its stored deadline.
type drain struct {
	until time.Time
	done  chan struct{} // closed when the drain has ended (and is no longer stored)
	timer clock.Timer   // a drain recovered from the store: ends at until
}

func (d *drain) stop() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

// syncGroups brings the live target groups, their targets and drains to
// the snapshot. On the first pass of a run (resume) targets start in
// their stored health, and records left from the last run that no longer
// apply (health of targets that are gone, drains that ended while ecsd was
// down) are deleted.
func (r *Runner) syncGroups(st *snapshot, resume bool) {
	ended := map[string][]string{} // group ARN → drained host:port to forget
	for arn, sg := range st.groups {
		g := r.groups[arn]
		if g == nil {
			if g = r.newGroup(arn, sg); g == nil {
				continue
			}
		} else {
			r.updateGroup(g, sg)
		}
		g.tg.SetInUse(st.inUse[arn])
		r.syncTargets(g, sg, st.health)
		ended[arn] = r.syncDrains(g, sg)
	}
	for arn, g := range r.groups {
		if _, ok := st.groups[arn]; !ok {
			r.removeGroup(g)
		}
	}
	var stale []string
	if resume {
		stale = staleHealth(st)
	}
	for arn, addrs := range ended {
		if len(addrs) > 0 {
			r.forget(st.groups[arn].key, arn, addrs...)
		}
	}
	if len(stale) > 0 {
		r.deleteHealth(stale)
	}
}

// newGroup builds and adds the live target group of a stored one; nil
// when its stored configuration cannot run (logged).
func (r *Runner) newGroup(arn string, sg storedGroup) *group {
	g := &group{arn: arn, key: sg.key, hc: HealthCheckOf(&sg.rec.TargetGroup), attrs: AppliedAttributes(sg.rec.Attributes), registered: map[string]bool{}}
	opts := lb.Options{
		Clock:          r.clock,
		Prober:         r.cfg.Prober,
		Logger:         r.log.With("target_group_arn", arn),
		OnHealthChange: func(addr string, h lb.TargetHealth) { r.saveHealth(g, addr, h) },
		// Drain endings take the pass lock: never on the caller's goroutine,
		// which may be a pass.
		OnDrained: func(addr string, _ bool) { go r.drainEnded(arn, addr) },
	}
	if f := r.cfg.OnCheck; f != nil {
		opts.OnCheck = func(target string, res lb.ProbeResult, h lb.TargetHealth) { f(arn, target, res, h) }
	}
	tg, err := lb.NewTargetGroup(lb.TargetGroupConfig{Name: aws.ToString(sg.rec.TargetGroup.TargetGroupName), HealthCheck: g.hc, Attributes: g.attrs}, opts)
	if err != nil {
		r.log.Error("a stored target group cannot run; fix it with ModifyTargetGroup or ModifyTargetGroupAttributes", "target_group_arn", arn, "error", err)
		return nil
	}
	tg.SetInUse(false)
	g.tg = tg
	r.liveMu.Lock()
	r.groups[arn] = g
	r.liveMu.Unlock()
	return g
}

// updateGroup applies a changed health check or attributes.
func (r *Runner) updateGroup(g *group, sg storedGroup) {
	if hc := HealthCheckOf(&sg.rec.TargetGroup); hc != g.hc {
		if err := g.tg.SetHealthCheck(hc); err != nil {
			r.log.Error("applying a stored health check failed", "target_group_arn", g.arn, "error", err)
		} else {
			g.hc = hc
		}
	}
	if attrs := AppliedAttributes(sg.rec.Attributes); !maps.Equal(attrs, g.attrs) {
		if err := g.tg.SetAttributes(attrs); err != nil {
			r.log.Error("applying stored attributes failed", "target_group_arn", g.arn, "error", err)
		} else {
			g.attrs = attrs
		}
	}
}

// syncTargets registers the stored targets the live group lacks (in their
// stored health when health is given: the first pass of a run) and starts
// draining the live ones deregistered since.
func (r *Runner) syncTargets(g *group, sg storedGroup, health map[string]store.TargetHealthRecord) {
	tt := sg.rec.TargetGroup.TargetType
	want := map[string]bool{}
	for _, t := range sg.rec.Targets {
		addr := TargetAddr(tt, t)
		want[addr] = true
		if g.registered[addr] {
			continue
		}
		var err error
		if h, ok := health[healthKey(g.key, addr)]; ok && h.TargetGroupARN == g.arn {
			err = g.tg.Resume(lb.TargetHealth{State: lb.HealthState(h.State), Reason: lb.ReasonCode(h.Reason), Description: h.Description}, addr)
		} else {
			err = g.tg.Register(addr)
		}
		if err != nil {
			// A drain of the same address that has just ended may not be
			// finished in the data plane yet: try again shortly.
			r.log.Warn("registering a stored target failed; retrying", "target_group_arn", g.arn, "target", addr, "error", err)
			r.kickAfter(time.Second)
			continue
		}
		g.registered[addr] = true
	}
	until := map[string]time.Time{}
	for _, d := range sg.rec.Draining {
		until[TargetAddr(tt, d.Target)] = d.Until
	}
	for _, addr := range slices.Sorted(maps.Keys(g.registered)) {
		if want[addr] {
			continue
		}
		delete(g.registered, addr)
		end, ok := until[addr]
		if !ok {
			end = r.clock.Now() // removed with no drain recorded: it leaves at once
		}
		r.setDrain(g.arn, addr, &drain{until: end, done: make(chan struct{})})
		if _, err := g.tg.DeregisterBy(addr, end); err != nil {
			r.log.Error("deregistering a target in the data plane failed", "target_group_arn", g.arn, "target", addr, "error", err)
			go r.drainEnded(g.arn, addr)
		}
	}
}

// syncDrains follows the stored drains that have no live drain: after a
// restart, each drains until its stored deadline. It returns the drains
// whose deadline has passed, to be forgotten.
func (r *Runner) syncDrains(g *group, sg storedGroup) (ended []string) {
	now := r.clock.Now()
	for _, d := range sg.rec.Draining {
		addr := TargetAddr(sg.rec.TargetGroup.TargetType, d.Target)
		if g.registered[addr] || r.drain(g.arn, addr) != nil {
			continue
		}
		if !d.Until.After(now) {
			ended = append(ended, addr)
			continue
		}
		dr := &drain{until: d.Until, done: make(chan struct{})}
		arn := g.arn
		dr.timer = r.clock.AfterFunc(d.Until.Sub(now), func() { go r.drainEnded(arn, addr) })
		r.setDrain(arn, addr, dr)
		r.log.Info("target keeps draining until its stored deadline", "target_group_arn", arn, "target", addr, "until", d.Until)
	}
	return ended
}

// removeGroup closes the live side of a deleted target group: its drains
// end at once.
func (r *Runner) removeGroup(g *group) {
	r.liveMu.Lock()
	delete(r.groups, g.arn)
	drains := r.drains[g.arn]
	delete(r.drains, g.arn)
	r.liveMu.Unlock()
	for _, d := range drains {
		d.stop()
		close(d.done)
	}
	g.tg.Close()
	var keys []string
	err := r.store.View(func(tx *store.Tx) error {
		return tx.Scan(store.TargetHealth, g.key+"/", "", func(key string, raw []byte) error {
			var h store.TargetHealthRecord
			if err := tx.Decode(store.TargetHealth, key, raw, &h); err != nil {
				return err
			}
			if h.TargetGroupARN == g.arn {
				keys = append(keys, key)
			}
			return nil
		})
	})
	if err != nil {
		r.log.Error("reading the health of a deleted target group's targets failed", "target_group_arn", g.arn, "error", err)
	}
	r.deleteHealth(keys)
}

func (r *Runner) drain(arn, addr string) *drain {
	r.liveMu.RLock()
	defer r.liveMu.RUnlock()
	return r.drains[arn][addr]
}

func (r *Runner) setDrain(arn, addr string, d *drain) {
	r.liveMu.Lock()
	defer r.liveMu.Unlock()
	if r.drains[arn] == nil {
		r.drains[arn] = map[string]*drain{}
	}
	r.drains[arn][addr] = d
}

// drainEnded ends the drain of addr in group arn: it is no longer stored,
// and its channel closes. After Close it does nothing: the drain is still
// stored and the next run resumes it.
func (r *Runner) drainEnded(arn, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	d := r.drain(arn, addr)
	if d == nil {
		return
	}
	if g := r.groups[arn]; g != nil {
		r.forget(g.key, arn, addr)
	}
	r.liveMu.Lock()
	delete(r.drains[arn], addr)
	if len(r.drains[arn]) == 0 {
		delete(r.drains, arn)
	}
	r.liveMu.Unlock()
	d.stop()
	close(d.done)
}

// forget removes ended drains of addrs from the stored target group key
// (when it is still group arn) with their health records.
func (r *Runner) forget(key, arn string, addrs ...string) {
	err := r.store.Update(func(tx *store.Tx) error {
		var rec store.TargetGroupRecord
		found, err := tx.Get(store.TargetGroups, key, &rec)
		if err != nil || !found || aws.ToString(rec.TargetGroup.TargetGroupArn) != arn {
			return err
		}
		n := len(rec.Draining)
		rec.Draining = slices.DeleteFunc(rec.Draining, func(d store.DrainingTarget) bool {
			return slices.Contains(addrs, TargetAddr(rec.TargetGroup.TargetType, d.Target))
		})
		for _, addr := range addrs {
			if err := tx.Delete(store.TargetHealth, healthKey(key, addr)); err != nil {
				return err
			}
		}
		if len(rec.Draining) == n {
			return nil
		}
		return tx.Put(store.TargetGroups, key, &rec)
	})
	if err != nil {
		r.log.Error("recording the end of a drain failed", "target_group_arn", arn, "targets", addrs, "error", err)
	}
}

// saveHealth records a registered target's new health-check state, so
// that a restart resumes it. Draining is recorded by the drain itself.
// It runs on the target's health-check goroutine, after the change.
func (r *Runner) saveHealth(g *group, addr string, h lb.TargetHealth) {
	if h.State == lb.StateDraining {
		return
	}
	err := r.store.Update(func(tx *store.Tx) error {
		var rec store.TargetGroupRecord
		found, err := tx.Get(store.TargetGroups, g.key, &rec)
		if err != nil || !found || aws.ToString(rec.TargetGroup.TargetGroupArn) != g.arn {
			return err
		}
		tt := rec.TargetGroup.TargetType
		if !slices.ContainsFunc(rec.Targets, func(t types.TargetDescription) bool { return TargetAddr(tt, t) == addr }) {
			return nil // deregistered since the check
		}
		return tx.Put(store.TargetHealth, healthKey(g.key, addr), &store.TargetHealthRecord{
			TargetGroupARN: g.arn, State: string(h.State), Reason: string(h.Reason), Description: h.Description,
		})
	})
	if err != nil {
		r.log.Error("recording a target's health failed", "target_group_arn", g.arn, "target", addr, "state", h.State, "error", err)
	}
}

// staleHealth lists the health records of targets that are not
// registered (any more) in the stored group they name.
func staleHealth(st *snapshot) []string {
	registered := map[string]bool{}
	for arn, sg := range st.groups {
		for _, t := range sg.rec.Targets {
			registered[arn+" "+healthKey(sg.key, TargetAddr(sg.rec.TargetGroup.TargetType, t))] = true
		}
	}
	var stale []string
	for key, h := range st.health {
		if !registered[h.TargetGroupARN+" "+key] {
			stale = append(stale, key)
		}
	}
	return stale
}

func (r *Runner) deleteHealth(keys []string) {
	if len(keys) == 0 {
		return
	}
	err := r.store.Update(func(tx *store.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(store.TargetHealth, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.log.Error("deleting stale target health records failed", "error", err)
	}
}
