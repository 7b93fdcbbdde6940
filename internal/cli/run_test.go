package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func stoppedTask(id, reason string, containers ...types.Container) types.Task {
	return types.Task{
		TaskArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/default/" + id), LastStatus: aws.String("STOPPED"),
		DesiredStatus: aws.String("STOPPED"), StoppedReason: aws.String(reason), StopCode: types.TaskStopCodeEssentialContainerExited,
		Containers: containers,
	}
}

func container(name string, exit *int32, reason string) types.Container {
	return types.Container{Name: aws.String(name), ExitCode: exit, Reason: aws.String(reason)}
}

func TestRunOutcome(t *testing.T) {
	exited := "Essential container in task exited"
	for _, tc := range []struct {
		name     string
		tasks    []types.Task
		code     int // 0: no error
		failed   bool
		contains string
	}{
		{"exit 0", []types.Task{stoppedTask("a", exited, container("app", aws.Int32(0), ""))}, 0, false, ""},
		{"exit 3", []types.Task{stoppedTask("a", exited, container("app", aws.Int32(3), ""))}, 3, false, "container app exited with code 3"},
		{"the watched container decides", []types.Task{stoppedTask("a", exited, container("sidecar", aws.Int32(1), ""), container("app", aws.Int32(0), ""))}, 0, false, ""},
		{"first non-zero of several", []types.Task{
			stoppedTask("a", exited, container("app", aws.Int32(0), "")),
			stoppedTask("b", exited, container("app", aws.Int32(4), "")),
			stoppedTask("c", exited, container("app", aws.Int32(5), "")),
		}, 4, false, "task b"},
		{"never ran", []types.Task{stoppedTask("a", "CannotPullContainerError", container("app", nil, "pull access denied"))}, ExitFailed, true,
			"stopped before container app ran: CannotPullContainerError: pull access denied"},
		{"still running (wait-until running)", []types.Task{{TaskArn: aws.String("x/a"), LastStatus: aws.String("RUNNING")}}, 0, false, ""},
		{"256 is not success", []types.Task{stoppedTask("a", exited, container("app", aws.Int32(256), ""))}, ExitError, false, "code 256"},
	} {
		e := runOutcome(tc.tasks, "app")
		switch {
		case tc.code == 0 && e != nil:
			t.Errorf("%s: %v, want success", tc.name, e)
		case tc.code != 0 && e == nil:
			t.Errorf("%s: success, want exit %d", tc.name, tc.code)
		case e != nil && (e.code != tc.code || e.failed != tc.failed || !strings.Contains(e.msg, tc.contains)):
			t.Errorf("%s: code %d failed %v %q; want %d %v containing %q", tc.name, e.code, e.failed, e.msg, tc.code, tc.failed, tc.contains)
		}
	}
}

func TestProcessExitCode(t *testing.T) {
	for in, want := range map[int32]int{0: 0, 1: 1, 3: 3, 137: 137, 255: 255, 256: 1, 257: 1, -1: 255} {
		if got := processExitCode(in); got != want {
			t.Errorf("processExitCode(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestReadOverrides(t *testing.T) {
	ov, err := readOverrides(`{"containerOverrides":[{"name":"app","command":["migrate"],"environment":[{"name":"A","value":"1"}]}],"memory":"512"}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if c := ov.ContainerOverrides[0]; aws.ToString(c.Name) != "app" || c.Command[0] != "migrate" || aws.ToString(c.Environment[0].Value) != "1" || aws.ToString(ov.Memory) != "512" {
		t.Errorf("decoded %+v", ov)
	}
	if ov, err := readOverrides("", ""); ov != nil || err != nil {
		t.Errorf("no overrides: %v, %v", ov, err)
	}
	file := filepath.Join(t.TempDir(), "ov.json")
	os.WriteFile(file, []byte(`{"ContainerOverrides":[{"Name":"app"}]}`), 0o644)
	if ov, err := readOverrides("", file); err != nil || aws.ToString(ov.ContainerOverrides[0].Name) != "app" {
		t.Errorf("file in SDK casing: %v, %v", ov, err)
	}
	for in, want := range map[string]string{
		`{"containerOverride":[{"name":"app"}]}`: "containerOverride not part of a RunTask overrides object",
		`{"containerOverrides":{"name":"app"}}`:  "--overrides:",
		`{"containerOverrides":[`:                "not valid JSON",
	} {
		if _, err := readOverrides(in, ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", in, err, want)
		}
	}
	if _, err := readOverrides("", filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "--overrides-file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestStoppedLines(t *testing.T) {
	task := stoppedTask("abc", "Essential container in task exited", container("app", aws.Int32(3), ""), container("log", nil, "never started"))
	var texts []string
	for _, l := range stoppedLines(task) {
		texts = append(texts, l.text)
	}
	want := "task abc stopped: Essential container in task exited (EssentialContainerExited)\n" +
		"  container app: exit code 3\n" +
		"  container log: no exit code (it did not run): never started"
	if got := strings.Join(texts, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWatchedContainer(t *testing.T) {
	td := &types.TaskDefinition{TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:0:task-definition/job:2"), ContainerDefinitions: []types.ContainerDefinition{
		{Name: aws.String("init"), Essential: aws.Bool(false)},
		{Name: aws.String("app")},
		{Name: aws.String("log"), Essential: aws.Bool(true)},
	}}
	if got, err := watchedContainer(td, ""); got != "app" || err != nil {
		t.Errorf("default: %q, %v", got, err)
	}
	if got, err := watchedContainer(td, "log"); got != "log" || err != nil {
		t.Errorf("named: %q, %v", got, err)
	}
	if _, err := watchedContainer(td, "nope"); err == nil || !strings.Contains(err.Error(), "job:2 has no such container (it has init, app, log)") {
		t.Errorf("unknown: %v", err)
	}
}

func TestTasksDone(t *testing.T) {
	st := func(s ...string) []types.Task {
		var ts []types.Task
		for _, x := range s {
			ts = append(ts, types.Task{LastStatus: aws.String(x)})
		}
		return ts
	}
	for _, tc := range []struct {
		tasks        []types.Task
		untilRunning bool
		want         bool
	}{
		{st("RUNNING", "STOPPED"), true, true},
		{st("PENDING", "RUNNING"), true, false},
		{st("RUNNING", "STOPPED"), false, false},
		{st("STOPPED", "STOPPED"), false, true},
	} {
		if got := tasksDone(tc.tasks, tc.untilRunning); got != tc.want {
			t.Errorf("tasksDone(%v, %v) = %v", tc.tasks, tc.untilRunning, got)
		}
	}
}
