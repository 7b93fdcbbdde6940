package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func sampleTasks() []types.Task {
	at := func(min int) *time.Time { return aws.Time(time.Date(2025, 3, 1, 12, min, 0, 0, time.UTC)) }
	td := "arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"
	return []types.Task{
		{
			TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/0aa1"), TaskDefinitionArn: aws.String(td),
			LastStatus: aws.String("STOPPED"), DesiredStatus: aws.String("STOPPED"), HealthStatus: types.HealthStatusUnknown,
			CreatedAt: at(0), StartedAt: at(1), StoppedAt: at(3), StopCode: types.TaskStopCodeEssentialContainerExited,
			StoppedReason: aws.String("Essential container in task exited"),
			Containers:    []types.Container{{Name: aws.String("app"), ExitCode: aws.Int32(1), LastStatus: aws.String("STOPPED")}},
		},
		{
			TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/0bb2"), TaskDefinitionArn: aws.String(td),
			LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"), HealthStatus: types.HealthStatusHealthy,
			CreatedAt: at(5), StartedAt: at(6), Group: aws.String("service:web"),
			Containers: []types.Container{{Name: aws.String("app"), LastStatus: aws.String("RUNNING")}},
		},
		{
			TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/1cc3"), TaskDefinitionArn: aws.String(td),
			LastStatus: aws.String("PENDING"), DesiredStatus: aws.String("RUNNING"), CreatedAt: at(2),
		},
		{
			TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/2dd4"), TaskDefinitionArn: aws.String(td),
			LastStatus: aws.String("STOPPED"), DesiredStatus: aws.String("STOPPED"), CreatedAt: at(0), StoppedAt: at(4),
			StopCode: types.TaskStopCodeUserInitiated, StoppedReason: aws.String("Task stopped by user"),
		},
	}
}

func TestWriteTasks(t *testing.T) {
	tasks := sampleTasks()
	sortTasks(tasks)
	var ids []string
	for _, tk := range tasks {
		ids = append(ids, taskID(aws.ToString(tk.TaskArn)))
	}
	if got := strings.Join(ids, " "); got != "1cc3 0bb2 2dd4 0aa1" {
		t.Errorf("order %s: want running oldest first, then stopped latest first", got)
	}
	for _, output := range []string{"table", "tsv", "json"} {
		var b bytes.Buffer
		writeTasks(&b, tasks, output, output == "table", time.UTC)
		golden(t, "tasks/"+output+".golden", b.String())
		if output == "json" {
			for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("json output line %q: %v", l, err)
				}
			}
		}
	}
	var b bytes.Buffer
	writeTasks(&b, nil, "table", false, time.UTC)
	if b.String() != "no tasks\n" {
		t.Errorf("empty table: %q", b.String())
	}
}

func TestPickTask(t *testing.T) {
	tasks := sampleTasks()
	for _, tc := range []struct {
		ref      string
		byNumber bool
		want     string // ID, or an error fragment
	}{
		{"0bb2", false, "0bb2"},
		{"arn:aws:ecs:us-east-1:000000000000:task/default/2dd4", false, "2dd4"},
		{"1c", false, "1cc3"},
		{"0", false, "2 tasks have IDs starting with 0"},
		{"2", true, "0bb2"},
		{"2", false, "2dd4"},
		{"9", true, "no listed task has the ID 9"},
		{"", true, "no task named"},
	} {
		got, err := pickTask(tasks, tc.ref, tc.byNumber)
		switch {
		case err != nil && !strings.Contains(err.Error(), tc.want):
			t.Errorf("pickTask(%q, %v): %v, want %s", tc.ref, tc.byNumber, err, tc.want)
		case err == nil && taskID(aws.ToString(got.TaskArn)) != tc.want:
			t.Errorf("pickTask(%q, %v) = %s, want %s", tc.ref, tc.byNumber, aws.ToString(got.TaskArn), tc.want)
		}
	}
}
