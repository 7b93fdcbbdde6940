package controller

import (
	"testing"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/rollout"
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
