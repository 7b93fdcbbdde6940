package controller

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// targetRank orders target states from best to worst.
var targetRank = map[rollout.TargetHealth]int{rollout.TargetHealthy: 1, rollout.TargetInitial: 2, rollout.TargetUnused: 2, rollout.TargetDraining: 3, rollout.TargetUnhealthy: 4}

// targetOf is a task's target health as the rollout reads it: none until
// the task runner registered it; with several target groups, the worst
// (unhealthy before initial before healthy), naming that target.
//
// Health not known anew — the load balancer does not know the target, or
// reports it initial — counts as the task's last known state when the task
// has been healthy: a registered target never goes back to initial by
// itself, so that is health lost by an ecsd restart (the load balancer
// resumes stored health, but a change in the instant before a kill -9 may
// not be stored). Counting such a task as waiting would let the scheduler
// stop it as "not healthy" for free while the new tasks' health is still
// unknown.
func (sv *serviceSync) targetOf(rec *store.TaskRecord) rollout.Task {
	var out rollout.Task
	if sv.s.targets == nil || len(rec.Targets) == 0 {
		return out
	}
	for _, tt := range rec.Targets {
		h, ok := sv.s.targets.TargetHealth(tt.TargetGroupARN, int(tt.Port))
		state := rollout.TargetInitial // registered, not yet checked
		if ok {
			state = targetHealth(h.State)
		}
		if state == rollout.TargetInitial && rec.SeenHealthy {
			state = rollout.TargetHealthy
		}
		if out.Target != rollout.TargetNone && targetRank[state] <= targetRank[out.Target] {
			continue
		}
		out.Target, out.TargetGroupARN, out.TargetPort = state, tt.TargetGroupARN, tt.Port
		out.TargetReason = h.Description
		if out.TargetReason == "" {
			out.TargetReason = string(h.Reason)
		}
	}
	return out
}

// targetHealth maps a load-balancer target state to the rollout's. A state
// the rollout does not know counts as initial: the task waits, neither
// healthy nor failed, rather than being replaced or counted as serving.
func targetHealth(s lb.HealthState) rollout.TargetHealth {
	switch s {
	case lb.StateInitial:
		return rollout.TargetInitial
	case lb.StateHealthy:
		return rollout.TargetHealthy
	case lb.StateUnhealthy:
		return rollout.TargetUnhealthy
	case lb.StateUnused:
		return rollout.TargetUnused
	case lb.StateDraining:
		return rollout.TargetDraining
	}
	return rollout.TargetInitial
}

// queueUsers queues the services of a region whose load balancers use
// the target group named tgName: a target's new health, recorded in the
// store by the load balancer, may let their rollouts move.
func (s *Services) queueUsers(region, tgName string) {
	marker := ":targetgroup/" + tgName + "/"
	var keys []string
	s.store.View(func(tx *store.Tx) error {
		return tx.Scan(store.Services, store.Prefix(region), "", func(key string, raw []byte) error {
			if !strings.Contains(string(raw), marker) {
				return nil // cheap pre-filter before decoding
			}
			var rec store.ServiceRecord
			if err := tx.Decode(store.Services, key, raw, &rec); err != nil {
				return err
			}
			if slices.ContainsFunc(rec.Service.LoadBalancers, func(l types.LoadBalancer) bool { return strings.Contains(aws.ToString(l.TargetGroupArn), marker) }) {
				keys = append(keys, key)
			}
			return nil
		})
	})
	for _, k := range keys {
		s.queue.add(k)
	}
}

// RecordEvent adds a service event that happened outside the scheduler
// (the task runner's target registrations and draining).
func (s *Services) RecordEvent(region, cluster, service, message string) {
	err := s.store.Update(func(tx *store.Tx) error {
		key := store.Key(region, cluster, service)
		var rec store.ServiceRecord
		found, err := tx.Get(store.Services, key, &rec)
		if err != nil || !found {
			return err
		}
		addEvents(&rec.Service, s.clock.Now().UTC().Truncate(timeUnit), []string{message})
		return tx.Put(store.Services, key, &rec)
	})
	if err != nil {
		s.log.Error("recording a service event", "service", service, "error", err)
	}
}
