package taskrun

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Stop reasons ECS writes.
const (
	ReasonEssentialExited = "Essential container in task exited"
	ReasonUserStopped     = "Task stopped by user"
)

// ApplyEvent folds one driver event into the task record, at time now;
// spec is what the driver runs for the task. It returns true when the task
// must now be stopped because an essential container ended while the task
// was meant to run.
func ApplyEvent(t *types.Task, spec driver.TaskSpec, ev driver.Event, now time.Time) (stop bool) {
	essential := func(name string) bool {
		c, ok := container(spec, name)
		return ok && c.Essential
	}
	t.Version++
	if ev.Kind == driver.TaskStopped {
		t.LastStatus = aws.String(ecsmodel.TaskDeprovisioning)
		t.ExecutionStoppedAt = aws.Time(now)
		return false
	}
	i := slices.IndexFunc(t.Containers, func(c types.Container) bool { return aws.ToString(c.Name) == ev.Container })
	if i < 0 {
		return false
	}
	c := &t.Containers[i]
	switch ev.Kind {
	case driver.PullStarted:
		if t.PullStartedAt == nil {
			t.PullStartedAt = aws.Time(now)
		}
	case driver.PullStopped:
		t.PullStoppedAt = aws.Time(now)
	case driver.Started:
		c.LastStatus = aws.String(ecsmodel.ContainerRunning)
		c.RuntimeId = aws.String(ev.RuntimeID)
		c.NetworkBindings = bindings(ev.Bindings)
		if ev.Health != "" {
			c.HealthStatus = types.HealthStatus(ev.Health)
		}
		if aws.ToString(t.LastStatus) == ecsmodel.TaskPending && allUp(t, essential) {
			t.LastStatus = aws.String(ecsmodel.TaskActivating)
		}
	case driver.HealthChanged:
		c.HealthStatus = types.HealthStatus(ev.Health)
	case driver.PullFailed, driver.StartFailed, driver.Exited:
		c.LastStatus = aws.String(ecsmodel.ContainerStopped)
		c.ExitCode = ev.ExitCode
		if ev.Reason != "" {
			c.Reason = aws.String(ev.Reason)
		}
		if !essential(ev.Container) {
			if aws.ToString(t.LastStatus) == ecsmodel.TaskPending && allUp(t, essential) {
				t.LastStatus = aws.String(ecsmodel.TaskActivating)
			}
			break
		}
		if aws.ToString(t.DesiredStatus) == ecsmodel.TaskStopped {
			break // already stopping for another reason; keep that one
		}
		t.DesiredStatus = aws.String(ecsmodel.TaskStopped)
		if ev.Kind == driver.Exited {
			t.StopCode = types.TaskStopCodeEssentialContainerExited
			t.StoppedReason = aws.String(ReasonEssentialExited)
		} else {
			t.StopCode = types.TaskStopCodeTaskFailedToStart
			t.StoppedReason = aws.String(ev.Reason)
		}
		stop = true
	}
	t.HealthStatus = taskHealth(t, spec)
	return stop
}

// allUp: no container is still waiting to start, and an essential one runs.
func allUp(t *types.Task, essential func(string) bool) bool {
	running := false
	for _, c := range t.Containers {
		switch aws.ToString(c.LastStatus) {
		case ecsmodel.ContainerRunning:
			running = running || essential(aws.ToString(c.Name))
		case ecsmodel.ContainerStopped:
		default:
			return false
		}
	}
	return running
}

// taskHealth: UNHEALTHY if any essential container is; HEALTHY if every
// essential container that has a health check is; UNKNOWN otherwise, and
// when no essential container has a health check.
func taskHealth(t *types.Task, spec driver.TaskSpec) types.HealthStatus {
	checked, healthy := 0, 0
	for _, c := range t.Containers {
		cs, ok := container(spec, aws.ToString(c.Name))
		if !ok || !cs.Essential || cs.HealthCheck == nil {
			continue
		}
		checked++
		switch c.HealthStatus {
		case types.HealthStatusUnhealthy:
			return types.HealthStatusUnhealthy
		case types.HealthStatusHealthy:
			healthy++
		}
	}
	if checked > 0 && healthy == checked {
		return types.HealthStatusHealthy
	}
	return types.HealthStatusUnknown
}

func container(spec driver.TaskSpec, name string) (driver.ContainerSpec, bool) {
	for _, c := range spec.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return driver.ContainerSpec{}, false
}

func bindings(bs []driver.NetworkBinding) []types.NetworkBinding {
	out := make([]types.NetworkBinding, 0, len(bs))
	for _, b := range bs {
		out = append(out, types.NetworkBinding{
			BindIP:        aws.String(b.BindIP),
			ContainerPort: aws.Int32(b.ContainerPort),
			HostPort:      aws.Int32(b.HostPort),
			Protocol:      types.TransportProtocol(b.Protocol),
		})
	}
	return out
}

// describeStopFailure is the stopped reason for a task the driver refused.
func describeStopFailure(err error) string {
	return fmt.Sprintf("CannotStartContainerError: %v", err)
}
