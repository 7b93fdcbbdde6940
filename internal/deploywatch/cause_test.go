package deploywatch

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const tgARN = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef"

var t0 = time.Unix(1700000000, 0)

// stopped is a stopped task; at orders tasks (later = newer).
func stopped(id string, at int, code types.TaskStopCode, reason string, containers ...types.Container) types.Task {
	return types.Task{
		TaskArn:       aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/" + id),
		StoppedAt:     aws.Time(t0.Add(time.Duration(at) * time.Second)),
		StopCode:      code,
		StoppedReason: aws.String(reason),
		Containers:    containers,
	}
}

func exited(name string, code int32) types.Container {
	return types.Container{Name: aws.String(name), ExitCode: aws.Int32(code)}
}

func event(msg string) types.ServiceEvent { return types.ServiceEvent{Message: aws.String(msg)} }

func TestCauses(t *testing.T) {
	crash := func(id string, at int) types.Task {
		return stopped(id, at, types.TaskStopCodeEssentialContainerExited, "Essential container in task exited", exited("app", 1))
	}
	rollbackStop := func(id string, at int) types.Task {
		return stopped(id, at, types.TaskStopCodeServiceSchedulerInitiated, "Scaling activity initiated by (deployment ecs-svc/2)", exited("app", 143))
	}
	elbStop := func(id string, at int) types.Task {
		return stopped(id, at, types.TaskStopCodeServiceSchedulerInitiated, "Task failed ELB health checks in (target-group "+tgARN+")", exited("app", 143))
	}
	unhealthyEvent := func(id, why string) types.ServiceEvent {
		return event("(service web) (task " + id + ") (port 32768) is unhealthy in (target-group " + tgARN + ") due to (reason " + why + ").")
	}
	for _, tc := range []struct {
		name   string
		tasks  []types.Task
		events []types.ServiceEvent
		want   []string // Cause.String(), in order
	}{
		{"crashes, the rollback's stops newer: the crash leads, the rollback's stops are no cause",
			[]types.Task{crash("a", 1), crash("b", 2), crash("c", 3), crash("d", 4), rollbackStop("e", 10), rollbackStop("f", 11)}, nil,
			[]string{"4 tasks failed: Essential container in task exited (exit code 1)"}},
		{"one task",
			[]types.Task{crash("a", 1)}, nil,
			[]string{"1 task failed: Essential container in task exited (exit code 1)"}},
		{"ELB health checks with the event's reason, by task",
			[]types.Task{elbStop("a", 1), elbStop("b", 2), elbStop("c", 3)},
			[]types.ServiceEvent{unhealthyEvent("c", "Health checks failed with these codes: [500]"), unhealthyEvent("b", "Health checks failed with these codes: [500]"), unhealthyEvent("a", "Health checks failed with these codes: [500]")},
			[]string{"3 tasks failed: Task failed ELB health checks in (target-group " + tgARN + ") (reason Health checks failed with these codes: [500])"}},
		{"ELB health checks, events naming the instance: the target group's latest reason",
			[]types.Task{elbStop("a", 1)},
			[]types.ServiceEvent{
				event("(service web) (instance i-0123) (port 32768) is unhealthy in (target-group " + tgARN + ") due to (reason Request timed out)."),
				event("(service web) (instance i-0123) (port 32769) is unhealthy in (target-group " + tgARN + ") due to (reason Health checks failed with these codes: [502])."),
			},
			[]string{"1 task failed: Task failed ELB health checks in (target-group " + tgARN + ") (reason Request timed out)"}},
		{"ELB health checks without an event",
			[]types.Task{elbStop("a", 1)}, nil,
			[]string{"1 task failed: Task failed ELB health checks in (target-group " + tgARN + ")"}},
		{"container health checks name the unhealthy container",
			[]types.Task{stopped("a", 1, types.TaskStopCodeServiceSchedulerInitiated, "Task failed container health checks",
				types.Container{Name: aws.String("app"), HealthStatus: types.HealthStatusUnhealthy}, types.Container{Name: aws.String("log"), HealthStatus: types.HealthStatusUnknown})}, nil,
			[]string{"1 task failed: Task failed container health checks (unhealthy: app)"}},
		{"several containers: the one that failed, named, with its reason",
			[]types.Task{stopped("a", 1, types.TaskStopCodeEssentialContainerExited, "Essential container in task exited",
				exited("log", 0), types.Container{Name: aws.String("app"), ExitCode: aws.Int32(137), Reason: aws.String("OutOfMemoryError: Container killed due to memory usage")})}, nil,
			[]string{"1 task failed: Essential container in task exited (container app, exit code 137: OutOfMemoryError: Container killed due to memory usage)"}},
		{"start failures as ECS words them; the most frequent first",
			[]types.Task{
				stopped("a", 1, types.TaskStopCodeTaskFailedToStart, "CannotPullContainerError: pull access denied for nope"),
				crash("b", 2), crash("c", 3),
			}, nil,
			[]string{"2 tasks failed: Essential container in task exited (exit code 1)", "1 task failed: CannotPullContainerError: pull access denied for nope"}},
		{"ties: the most recent first",
			[]types.Task{
				stopped("a", 1, types.TaskStopCodeTaskFailedToStart, "CannotPullContainerError: x"),
				crash("b", 2),
			}, nil,
			[]string{"1 task failed: Essential container in task exited (exit code 1)", "1 task failed: CannotPullContainerError: x"}},
		{"different exit codes are different causes",
			[]types.Task{crash("a", 1), stopped("b", 2, types.TaskStopCodeEssentialContainerExited, "Essential container in task exited", exited("app", 2))}, nil,
			[]string{"1 task failed: Essential container in task exited (exit code 2)", "1 task failed: Essential container in task exited (exit code 1)"}},
		{"user stops and stops without a reason are no cause",
			[]types.Task{stopped("a", 1, types.TaskStopCodeUserInitiated, "Task stopped by user"), stopped("b", 2, "", "")}, nil,
			nil},
	} {
		got := Causes(tc.tasks, tc.events)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d causes %v, want %d %v", tc.name, len(got), got, len(tc.want), tc.want)
			continue
		}
		for i := range got {
			if got[i].String() != tc.want[i] {
				t.Errorf("%s: cause %d is %q, want %q", tc.name, i, got[i].String(), tc.want[i])
			}
		}
	}
}

func TestReport(t *testing.T) {
	status := "deployment failed after 3.0s: the deployment was rolled back (ROLLBACK_SUCCESSFUL): ECS deployment circuit breaker: tasks failed to start; rolling back to deploymentId ecs-svc/1."
	crash := Cause{"Essential container in task exited (exit code 1)", 4}
	for _, tc := range []struct {
		name   string
		causes []Cause
		want   string
	}{
		{"no cause known: the status as ECS says it", nil, status},
		{"the cause first, the breaker said once and not as 'failed to start'", []Cause{crash},
			"4 tasks failed: Essential container in task exited (exit code 1)\n" +
				"deployment failed after 3.0s: the deployment was rolled back (ROLLBACK_SUCCESSFUL): the deployment circuit breaker tripped; rolling back to deploymentId ecs-svc/1."},
		{"at most three causes", []Cause{crash, {"a", 2}, {"b", 1}, {"c", 1}},
			"4 tasks failed: Essential container in task exited (exit code 1)\nalso 2 tasks failed: a\nalso 1 task failed: b\n" +
				"deployment failed after 3.0s: the deployment was rolled back (ROLLBACK_SUCCESSFUL): the deployment circuit breaker tripped; rolling back to deploymentId ecs-svc/1."},
	} {
		got := Report(status, tc.causes)
		if got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
		if first, _, _ := strings.Cut(got, "\n"); len(tc.causes) > 0 && !strings.HasPrefix(first, "4 tasks failed: ") {
			t.Errorf("%s: the first line does not lead with the cause: %q", tc.name, first)
		}
	}
}
