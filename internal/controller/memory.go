package controller

import (
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// The scheduler's memory is rollout.Memory in a decision and
// store.SchedulerMemory on disk; these convert field by field.

func memoryOf(m store.SchedulerMemory) rollout.Memory {
	out := rollout.Memory{
		Backoff: rollout.Backoff{
			DeploymentID: m.Backoff.DeploymentID,
			Level:        m.Backoff.Level,
			Since:        m.Backoff.Since,
			Until:        m.Backoff.Until,
		},
		Deadlocked: m.Deadlocked,
		Steady:     m.Steady,
		OverLimit:  m.OverLimit,
	}
	if c := m.LastCompleted; c != nil {
		out.LastCompleted = &rollout.DeploymentRef{
			ID:                   c.ID,
			TaskDefinition:       c.TaskDefinition,
			DesiredCount:         c.DesiredCount,
			ContainerHealthCheck: c.ContainerHealthCheck,
			LoadBalanced:         c.LoadBalanced,
		}
	}
	return out
}

func storedMemory(m rollout.Memory) store.SchedulerMemory {
	out := store.SchedulerMemory{
		Backoff: store.StartBackoff{
			DeploymentID: m.Backoff.DeploymentID,
			Level:        m.Backoff.Level,
			Since:        m.Backoff.Since,
			Until:        m.Backoff.Until,
		},
		Deadlocked: m.Deadlocked,
		Steady:     m.Steady,
		OverLimit:  m.OverLimit,
	}
	if c := m.LastCompleted; c != nil {
		out.LastCompleted = &store.CompletedDeployment{
			ID:                   c.ID,
			TaskDefinition:       c.TaskDefinition,
			DesiredCount:         c.DesiredCount,
			ContainerHealthCheck: c.ContainerHealthCheck,
			LoadBalanced:         c.LoadBalanced,
		}
	}
	return out
}
