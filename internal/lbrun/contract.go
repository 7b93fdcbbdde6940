package lbrun

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// The contract the ECS side uses: a service's tasks are targets at
// 127.0.0.1:port of the target groups in its loadBalancers. Register and
// deregister write the desired state (the stored target group, as
// RegisterTargets and DeregisterTargets do) and then reconcile, so the
// change serves before they return.

// ErrTargetGroupNotFound is returned for a target group ARN that names no
// stored target group.
var ErrTargetGroupNotFound = errors.New("target group not found")

// TargetGroupInfo describes a target group for ECS's CreateService
// validation.
type TargetGroupInfo struct {
	ARN, Name, TargetType string
	Port                  int32
	LoadBalancerARNs      []string // load balancers whose listeners forward to it
}

// TargetGroup describes the target group arn (whose region is the ARN's);
// false when there is none.
func (r *Runner) TargetGroup(arn string) (TargetGroupInfo, bool) {
	key, region, err := groupKey(arn)
	if err != nil {
		return TargetGroupInfo{}, false
	}
	var info TargetGroupInfo
	found := false
	err = r.store.View(func(tx *store.Tx) error {
		var rec store.TargetGroupRecord
		ok, err := tx.Get(store.TargetGroups, key, &rec)
		if err != nil || !ok || aws.ToString(rec.TargetGroup.TargetGroupArn) != arn {
			return err
		}
		refs, err := References(tx, region)
		if err != nil {
			return err
		}
		tg := rec.TargetGroup
		info = TargetGroupInfo{ARN: arn, Name: aws.ToString(tg.TargetGroupName), TargetType: string(tg.TargetType),
			Port: aws.ToInt32(tg.Port), LoadBalancerARNs: slices.Clone(refs[arn])}
		found = true
		return nil
	})
	return info, err == nil && found
}

// update changes the stored target group arn in one transaction; change
// reports whether it changed the record.
func (r *Runner) update(arn string, change func(rec *store.TargetGroupRecord) (bool, error)) error {
	key, _, err := groupKey(arn)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTargetGroupNotFound, err)
	}
	return r.store.Update(func(tx *store.Tx) error {
		var rec store.TargetGroupRecord
		found, err := tx.Get(store.TargetGroups, key, &rec)
		if err != nil {
			return err
		}
		if !found || aws.ToString(rec.TargetGroup.TargetGroupArn) != arn {
			return fmt.Errorf("%w: %s", ErrTargetGroupNotFound, arn)
		}
		changed, err := change(&rec)
		if err != nil || !changed {
			return err
		}
		return tx.Put(store.TargetGroups, key, &rec)
	})
}

func checkPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d is out of range: use 1-65535", port)
	}
	return nil
}

// RegisterTarget registers 127.0.0.1:port in the target group (Id
// 127.0.0.1 in an ip group, LocalInstanceID in an instance group), stored
// as RegisterTargets stores it. Registering a registered target does
// nothing; one still draining is ErrTargetDraining.
func (r *Runner) RegisterTarget(tgARN string, port int) error {
	if err := checkPort(port); err != nil {
		return err
	}
	now := r.clock.Now()
	err := r.update(tgARN, func(rec *store.TargetGroupRecord) (bool, error) {
		return AddTarget(rec, LocalTarget(rec.TargetGroup.TargetType, port), now)
	})
	if err != nil {
		return err
	}
	r.Sync()
	return nil
}

// closed is an already-closed channel.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// DeregisterTarget deregisters 127.0.0.1:port and starts draining it; the
// channel closes when the drain ends (its in-flight requests finished, or
// deregistration_delay.timeout_seconds passed since deregistration). A
// target that is not registered gives an already-closed channel and no
// error; a draining one gives its drain's channel, also after a restart
// (the drain then lasts until its stored deadline).
func (r *Runner) DeregisterTarget(tgARN string, port int) (<-chan struct{}, error) {
	if err := checkPort(port); err != nil {
		return nil, err
	}
	now := r.clock.Now()
	var addr string
	err := r.update(tgARN, func(rec *store.TargetGroupRecord) (bool, error) {
		t := LocalTarget(rec.TargetGroup.TargetType, port)
		addr = TargetAddr(rec.TargetGroup.TargetType, t)
		registered, _ := RemoveTarget(rec, t, now)
		return registered, nil
	})
	if err != nil {
		return nil, err
	}
	r.Sync()
	if d := r.drain(tgARN, addr); d != nil {
		return d.done, nil
	}
	return closed, nil
}

// TargetHealth reports the health of 127.0.0.1:port in the target group
// as DescribeTargetHealth does (unused with Target.NotInUse while no
// listener forwards to the group; draining after deregistration); false
// when the group or the target is unknown. After a restart a target
// reports its last known health until its checks say otherwise.
func (r *Runner) TargetHealth(tgARN string, port int) (lb.TargetHealth, bool) {
	ds, ok := r.DescribeTargetHealth(tgARN, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if !ok || ds[0].Health.Reason == lb.ReasonNotRegistered {
		return lb.TargetHealth{}, false
	}
	return ds[0].Health, true
}

// DescribeTargetHealth reports the named targets (host:port) of target
// group arn, or every registered and draining target when none is named
// (registration order, then drains recovered from the store); false when
// the group has no live data plane. Unknown targets are unused with
// Target.NotRegistered.
func (r *Runner) DescribeTargetHealth(arn string, addrs ...string) ([]lb.TargetDescription, bool) {
	r.liveMu.RLock()
	g := r.groups[arn]
	drains := make(map[string]*drain, len(r.drains[arn]))
	for addr, d := range r.drains[arn] {
		drains[addr] = d
	}
	r.liveMu.RUnlock()
	if g == nil {
		return nil, false
	}
	ds := g.tg.DescribeTargetHealth(addrs...)
	recovered := func(addr string) lb.TargetDescription {
		d := lb.TargetDescription{Target: addr, HealthCheckPort: g.tg.HealthCheck().Port, Health: lb.DrainingHealth()}
		if d.HealthCheckPort == lb.TrafficPort {
			_, d.HealthCheckPort, _ = net.SplitHostPort(addr)
		}
		return d
	}
	if len(addrs) > 0 {
		for i, d := range ds {
			if d.Health.Reason == lb.ReasonNotRegistered && drains[d.Target] != nil {
				ds[i] = recovered(d.Target)
			}
		}
		return ds, true
	}
	live := map[string]bool{}
	for _, d := range ds {
		live[d.Target] = true
	}
	var extra []string
	for addr, d := range drains {
		if d.timer != nil && !live[addr] {
			extra = append(extra, addr)
		}
	}
	slices.Sort(extra)
	for _, addr := range extra {
		ds = append(ds, recovered(addr))
	}
	return ds, true
}
