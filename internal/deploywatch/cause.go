package deploywatch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS's words for the stops Causes tells apart.
const (
	essentialExited     = "Essential container in task exited"
	containerHealth     = "Task failed container health checks"
	elbHealthPrefix     = "Task failed ELB health checks"
	scalingPrefix       = "Scaling activity initiated by"
	breakerFailedReason = "ECS deployment circuit breaker: tasks failed to start"
)

// Cause is one reason tasks of a failed deployment stopped, in ECS's words
// made specific — an exit code, a failing health check and why — and how
// many tasks stopped for it.
type Cause struct {
	Reason string // e.g. "Essential container in task exited (exit code 1)"
	Count  int
}

// String is the cause as the first line of a failure report:
// "4 tasks failed: Essential container in task exited (exit code 1)".
func (c Cause) String() string {
	noun := "tasks"
	if c.Count == 1 {
		noun = "task"
	}
	return fmt.Sprintf("%d %s failed: %s", c.Count, noun, c.Reason)
}

// Causes reads why a deployment failed off the tasks it started that have
// stopped and the service's events (newest first, as DescribeServices
// gives them), most frequent cause first (ties: the most recent first).
//
// A cause is what stopped a task on its own: an essential container that
// exited (with its exit code, and the container's reason when ECS gives
// one), a failed container or ELB health check (with the reason the
// service event gives for the target), or a task that failed to start
// (CannotPullContainerError and the like). Tasks the scheduler stopped
// because the deployment shrank ("Scaling activity initiated by ...": a
// rollback's own stops) and tasks a user stopped are not causes.
func Causes(tasks []types.Task, events []types.ServiceEvent) []Cause {
	unhealthy := targetReasons(events)
	tasks = slices.Clone(tasks)
	slices.SortStableFunc(tasks, func(x, y types.Task) int { return aws.ToTime(y.StoppedAt).Compare(aws.ToTime(x.StoppedAt)) })
	var causes []Cause
	for _, t := range tasks {
		r := taskCause(t, unhealthy)
		if r == "" {
			continue
		}
		if i := slices.IndexFunc(causes, func(c Cause) bool { return c.Reason == r }); i >= 0 {
			causes[i].Count++
			continue
		}
		causes = append(causes, Cause{Reason: r, Count: 1})
	}
	slices.SortStableFunc(causes, func(x, y Cause) int { return cmp.Compare(y.Count, x.Count) })
	return causes
}

// taskCause is the cause a stopped task gives, or "" when it is none.
func taskCause(t types.Task, unhealthy targetHealth) string {
	reason := aws.ToString(t.StoppedReason)
	switch {
	case reason == "":
		return ""
	case strings.HasPrefix(reason, elbHealthPrefix):
		if why := unhealthy.reason(t, reason); why != "" {
			return reason + " (reason " + why + ")"
		}
		return reason
	case reason == containerHealth:
		var sick []string
		for _, c := range t.Containers {
			if c.HealthStatus == types.HealthStatusUnhealthy {
				sick = append(sick, aws.ToString(c.Name))
			}
		}
		if len(sick) > 0 {
			return fmt.Sprintf("%s (unhealthy: %s)", reason, strings.Join(sick, ", "))
		}
		return reason
	case strings.HasPrefix(reason, scalingPrefix),
		t.StopCode == types.TaskStopCodeServiceSchedulerInitiated,
		t.StopCode == types.TaskStopCodeUserInitiated:
		return ""
	case reason == essentialExited:
		return reason + exitDetail(t.Containers)
	}
	return reason
}

// exitDetail is " (exit code N)" for the container that exited, preferring
// one that failed (a non-zero code); its name when the task has several
// containers and its reason when ECS gives one.
func exitDetail(cs []types.Container) string {
	var exited *types.Container
	for i := range cs {
		c := &cs[i]
		if c.ExitCode == nil {
			continue
		}
		if exited == nil || aws.ToInt32(exited.ExitCode) == 0 && *c.ExitCode != 0 {
			exited = c
		}
	}
	if exited == nil {
		return ""
	}
	s := fmt.Sprintf("exit code %d", *exited.ExitCode)
	if len(cs) > 1 {
		s = "container " + aws.ToString(exited.Name) + ", " + s
	}
	if r := aws.ToString(exited.Reason); r != "" {
		s += ": " + r
	}
	return " (" + s + ")"
}

// targetHealth is what the service events say about unhealthy targets:
// "(service S) (task ID) (port P) is unhealthy in (target-group ARN) due to
// (reason R)." ECS names the target by task (awsvpc) or by instance; the
// latest reason per task and per target group is kept.
type targetHealth struct {
	byTask, byTargetGroup map[string]string
}

func targetReasons(events []types.ServiceEvent) targetHealth {
	h := targetHealth{byTask: map[string]string{}, byTargetGroup: map[string]string{}}
	for _, e := range events { // newest first: the first reason seen is the latest
		msg := aws.ToString(e.Message)
		_, rest, ok := strings.Cut(msg, " is unhealthy in (target-group ")
		if !ok {
			continue
		}
		tg, rest, ok := strings.Cut(rest, ")")
		if !ok {
			continue
		}
		_, why, ok := strings.Cut(rest, "due to (reason ")
		if !ok {
			continue
		}
		why = strings.TrimSuffix(strings.TrimSuffix(why, "."), ")")
		if _, seen := h.byTargetGroup[tg]; !seen {
			h.byTargetGroup[tg] = why
		}
		if _, after, ok := strings.Cut(msg, "(task "); ok {
			if id, _, ok := strings.Cut(after, ")"); ok {
				if _, seen := h.byTask[id]; !seen {
					h.byTask[id] = why
				}
			}
		}
	}
	return h
}

// reason is why task t's target failed, read off the stoppedReason's
// target group ("... in (target-group ARN)") and the events.
func (h targetHealth) reason(t types.Task, stoppedReason string) string {
	arn := aws.ToString(t.TaskArn)
	if why, ok := h.byTask[arn[strings.LastIndexByte(arn, '/')+1:]]; ok {
		return why
	}
	_, tg, _ := strings.Cut(stoppedReason, "(target-group ")
	return h.byTargetGroup[strings.TrimSuffix(tg, ")")]
}

// Report is the report of a failed deployment, cause first: the leading
// cause and its count on the first line, up to two more causes, then
// what ECS says became of the deployment (status). With no cause known
// (no stopped task says why) it is the status alone.
func Report(status string, causes []Cause) string {
	if len(causes) == 0 {
		return status
	}
	lines := []string{causes[0].String()}
	for _, c := range causes[1:min(3, len(causes))] {
		lines = append(lines, "also "+c.String())
	}
	// ECS's breaker says "tasks failed to start" whatever stopped them;
	// with the causes above, say only that it tripped.
	status = strings.Replace(status, breakerFailedReason, "the deployment circuit breaker tripped", 1)
	return strings.Join(append(lines, status), "\n")
}
