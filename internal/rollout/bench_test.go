package rollout

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// benchState is a service of n tasks in the middle of a rollout: half of
// them belong to the old deployment (healthy), a quarter to the new one
// (healthy), a quarter to the new one (pending); desired n/2, 50/200.
func benchState(n int) State {
	desired := int32(n / 2)
	st := State{
		Service: Service{Name: "web", Status: ecsmodel.ServiceActive, DesiredCount: desired, DeploymentConfiguration: config(50, 200)},
		Deployments: []Deployment{
			{ID: depID(2), Status: ecsmodel.DeploymentPrimary, TaskDefinition: taskDef(2), CreatedAt: t0, DesiredCount: desired,
				RolloutState: types.DeploymentRolloutStateInProgress, ContainerHealthCheck: true},
			{ID: depID(1), Status: ecsmodel.DeploymentActive, TaskDefinition: taskDef(1), CreatedAt: t0.Add(-time.Hour), DesiredCount: desired,
				RolloutState: types.DeploymentRolloutStateCompleted, ContainerHealthCheck: true},
		},
		Memory: Memory{LastCompleted: &DeploymentRef{ID: depID(1), TaskDefinition: taskDef(1), DesiredCount: desired}},
	}
	st.Tasks = make([]Task, n)
	for i := range st.Tasks {
		t := &st.Tasks[i]
		t.ARN = fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/default/%032x", i)
		t.DesiredStatus, t.SeenHealthy = ecsmodel.TaskRunning, true
		switch {
		case i < n/2:
			t.DeploymentID, t.LastStatus, t.HealthStatus = depID(1), ecsmodel.TaskRunning, types.HealthStatusHealthy
			t.CreatedAt, t.StartedAt = t0.Add(-time.Hour), t0.Add(-time.Hour)
		case i < 3*n/4:
			t.DeploymentID, t.LastStatus, t.HealthStatus = depID(2), ecsmodel.TaskRunning, types.HealthStatusHealthy
			t.CreatedAt, t.StartedAt = t0, t0.Add(10*time.Second)
		default:
			t.DeploymentID, t.LastStatus, t.CreatedAt = depID(2), ecsmodel.TaskPending, t0
		}
	}
	return st
}

func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		st := benchState(n)
		now := t0.Add(time.Minute)
		if p := Decide(st, now); len(p.Stops) == 0 {
			b.Fatalf("benchmark state should stop tasks: %+v", p)
		}
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide(st, now)
			}
		})
	}
}
