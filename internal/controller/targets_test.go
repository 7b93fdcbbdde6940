package controller

import (
	"testing"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

func TestTargetHealth(t *testing.T) {
	for _, c := range []struct {
		lb   lb.HealthState
		want rollout.TargetHealth
	}{
		{lb.StateInitial, rollout.TargetInitial},
		{lb.StateHealthy, rollout.TargetHealthy},
		{lb.StateUnhealthy, rollout.TargetUnhealthy},
		{lb.StateUnused, rollout.TargetUnused},
		{lb.StateDraining, rollout.TargetDraining},
		{"unavailable", rollout.TargetInitial}, // unknown: wait, do not act
		{"", rollout.TargetInitial},
	} {
		if got := targetHealth(c.lb); got != c.want {
			t.Errorf("targetHealth(%q) = %q, want %q", c.lb, got, c.want)
		}
	}
}

// fixedHealth answers TargetHealth from a table by port; ports not in it
// are unknown to the load balancer.
type fixedHealth map[int]lb.HealthState

func (f fixedHealth) TargetHealth(_ string, port int) (lb.TargetHealth, bool) {
	s, ok := f[port]
	return lb.TargetHealth{State: s}, ok
}

// A task that has been healthy keeps counting as healthy while its
// target's health is not known anew (after an ecsd restart); one that has
// not waits; a known state is taken as it is.
func TestTargetOfUnknownHealth(t *testing.T) {
	const tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	sv := &serviceSync{s: &Services{targets: fixedHealth{1: lb.StateInitial, 2: lb.StateHealthy, 3: lb.StateUnhealthy, 4: lb.StateDraining}}}
	for _, c := range []struct {
		name        string
		port        int32
		seenHealthy bool
		want        rollout.TargetHealth
	}{
		{"initial, never healthy", 1, false, rollout.TargetInitial},
		{"initial, healthy before", 1, true, rollout.TargetHealthy},
		{"unknown, never healthy", 9, false, rollout.TargetInitial},
		{"unknown, healthy before", 9, true, rollout.TargetHealthy},
		{"healthy", 2, false, rollout.TargetHealthy},
		{"unhealthy, healthy before", 3, true, rollout.TargetUnhealthy},
		{"draining, healthy before", 4, true, rollout.TargetDraining},
	} {
		rec := &store.TaskRecord{SeenHealthy: c.seenHealthy, Targets: []store.TaskTarget{{TargetGroupARN: tg, Port: c.port}}}
		if got := sv.targetOf(rec).Target; got != c.want {
			t.Errorf("%s: target %q, want %q", c.name, got, c.want)
		}
	}
}
