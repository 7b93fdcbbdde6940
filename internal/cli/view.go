package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// deploymentRow is one deployment of a service as the progress output
// shows it.
type deploymentRow struct {
	ID             string
	Status         string // PRIMARY, ACTIVE, ...
	TaskDefinition string // family:revision
	Desired        int32
	Running        int32
	Pending        int32
	Failed         int32
	RolloutState   string
	Reason         string
	Watched        bool // the deployment the command waits for
}

// deploymentRows are the service's deployments, PRIMARY first, then ACTIVE,
// then any other, each group in the order DescribeServices gives.
func deploymentRows(svc types.Service, watched string) []deploymentRow {
	rows := make([]deploymentRow, 0, len(svc.Deployments))
	for _, d := range svc.Deployments {
		rows = append(rows, deploymentRow{
			ID:             aws.ToString(d.Id),
			Status:         aws.ToString(d.Status),
			TaskDefinition: taskDefinitionName(aws.ToString(d.TaskDefinition)),
			Desired:        d.DesiredCount,
			Running:        d.RunningCount,
			Pending:        d.PendingCount,
			Failed:         d.FailedTasks,
			RolloutState:   string(d.RolloutState),
			Reason:         aws.ToString(d.RolloutStateReason),
			Watched:        aws.ToString(d.Id) == watched,
		})
	}
	rank := func(status string) int {
		switch status {
		case ecsmodel.DeploymentPrimary:
			return 0
		case ecsmodel.DeploymentActive:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(rows, func(a, b deploymentRow) int { return cmp.Compare(rank(a.Status), rank(b.Status)) })
	return rows
}

// summary is the row as one phrase.
func (r deploymentRow) summary() string {
	s := fmt.Sprintf("%s %s", r.Status, r.TaskDefinition)
	if r.RolloutState != "" {
		s += " " + r.RolloutState
	}
	return s + fmt.Sprintf(": %d/%d running, %d pending, %d failed", r.Running, r.Desired, r.Pending, r.Failed)
}

// fields are the row's members in a JSON report, named as in the ECS API.
func (r deploymentRow) fields() map[string]any {
	return map[string]any{
		"deploymentId":       r.ID,
		"status":             r.Status,
		"taskDefinition":     r.TaskDefinition,
		"desiredCount":       r.Desired,
		"runningCount":       r.Running,
		"pendingCount":       r.Pending,
		"failedTasks":        r.Failed,
		"rolloutState":       r.RolloutState,
		"rolloutStateReason": r.Reason,
		"watched":            r.Watched,
	}
}

// progressLine is the plain-text progress: the watched ("new") deployment
// and the others ("old"), without the elapsed time so that it changes only
// when a deployment does.
func progressLine(rows []deploymentRow) string {
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		who := "old"
		if r.Watched {
			who = "new"
		}
		parts = append(parts, who+" "+r.summary())
	}
	slices.SortStableFunc(parts, func(a, b string) int { return cmp.Compare(a[:3], b[:3]) }) // "new" first
	if len(parts) == 0 {
		return "no deployments"
	}
	return strings.Join(parts, " | ")
}

// barCells is the width of a deployment's running/desired bar.
const barCells = 10

// renderLive is the live view of a service's deployments: a title line, a
// line per deployment (the watched one marked '>'), and the rolloutState
// reason of any that failed and of a PRIMARY that is not the watched one
// (a rollback says so there). Lines are cut to width-1 characters when width > 0, so that
// none wraps and the block can be redrawn in place.
func renderLive(svc types.Service, rows []deploymentRow, elapsed time.Duration, width int) []string {
	cluster := aws.ToString(svc.ClusterArn)
	cluster = cluster[strings.LastIndex(cluster, "/")+1:]
	title := fmt.Sprintf("service %s", aws.ToString(svc.ServiceName))
	if cluster != "" {
		title += " on " + cluster
	}
	title += fmt.Sprintf(" · desired %d, running %d, pending %d · %s", svc.DesiredCount, svc.RunningCount, svc.PendingCount, elapsed.Round(time.Second))
	lines := []string{title}
	statusW, tdW := 0, 0
	for _, r := range rows {
		statusW = max(statusW, len(r.Status))
		tdW = max(tdW, len(r.TaskDefinition))
	}
	for _, r := range rows {
		mark := " "
		if r.Watched {
			mark = ">"
		}
		state := r.RolloutState
		if state == "" {
			state = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %-*s %-*s %s %d/%d running  %d pending  %d failed  %s",
			mark, statusW, r.Status, tdW, r.TaskDefinition, bar(r.Running, r.Desired), r.Running, r.Desired, r.Pending, r.Failed, state))
		failedOrTakenOver := r.RolloutState == string(types.DeploymentRolloutStateFailed) || (r.Status == ecsmodel.DeploymentPrimary && !r.Watched)
		if failedOrTakenOver && r.Reason != "" {
			lines = append(lines, "    "+r.Reason)
		}
	}
	if len(rows) == 0 {
		lines = append(lines, "  no deployments")
	}
	if width > 0 {
		for i, l := range lines {
			lines[i] = cut(l, width-1)
		}
	}
	return lines
}

// bar is running out of desired as [#####-----].
func bar(running, desired int32) string {
	filled := 0
	if desired > 0 {
		filled = int(min(running, desired)) * barCells / int(desired)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", barCells-filled) + "]"
}

// cut shortens s to n characters, ending it with "…" when it was longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + "…"
}
