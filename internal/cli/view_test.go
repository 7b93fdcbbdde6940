package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func deployment(id, status, td string, desired, running, pending, failed int32, state types.DeploymentRolloutState, reason string) types.Deployment {
	return types.Deployment{
		Id: aws.String(id), Status: aws.String(status),
		TaskDefinition: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/" + td),
		DesiredCount:   desired, RunningCount: running, PendingCount: pending, FailedTasks: failed,
		RolloutState: state, RolloutStateReason: aws.String(reason),
	}
}

func service(desired, running, pending int32, ds ...types.Deployment) types.Service {
	return types.Service{
		ServiceName: aws.String("web"), ClusterArn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/default"),
		Status: aws.String("ACTIVE"), DesiredCount: desired, RunningCount: running, PendingCount: pending, Deployments: ds,
	}
}

var (
	inProgress = types.DeploymentRolloutStateInProgress
	completed  = types.DeploymentRolloutStateCompleted
	failed     = types.DeploymentRolloutStateFailed
)

func TestRenderLive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		svc     types.Service
		watched string
		elapsed time.Duration
		width   int
	}{
		{"rolling", service(4, 6, 2,
			deployment("ecs-svc/1", "ACTIVE", "web:2", 4, 4, 0, 0, completed, "ECS deployment ecs-svc/1 completed."),
			deployment("ecs-svc/2", "PRIMARY", "web:3", 4, 2, 2, 0, inProgress, "ECS deployment ecs-svc/2 in progress.")),
			"ecs-svc/2", 12300 * time.Millisecond, 0},
		{"circuit-breaker", service(4, 4, 0,
			deployment("ecs-svc/1", "PRIMARY", "web:2", 4, 4, 0, 0, inProgress, "ECS deployment circuit breaker: rolling back to deployment ecs-svc/1."),
			deployment("ecs-svc/2", "ACTIVE", "web:3", 0, 0, 0, 10, failed, "ECS deployment circuit breaker: tasks failed to start.")),
			"ecs-svc/2", 95 * time.Second, 0},
		{"narrow-terminal", service(3, 1, 2,
			deployment("ecs-svc/3", "PRIMARY", "a-rather-long-family-name:12", 3, 1, 2, 0, inProgress, "")),
			"ecs-svc/3", 4 * time.Second, 40},
		{"scaling-to-zero", service(0, 2, 0,
			deployment("ecs-svc/3", "PRIMARY", "web:3", 0, 2, 0, 0, completed, "")),
			"ecs-svc/3", time.Second, 0},
		{"no-rollout-state", service(2, 2, 0,
			deployment("ecs-svc/3", "PRIMARY", "web:3", 2, 2, 0, 0, "", "")),
			"ecs-svc/3", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := renderLive(tc.svc, deploymentRows(tc.svc, tc.watched), tc.elapsed, tc.width)
			if tc.width > 0 {
				for _, l := range lines {
					if n := len([]rune(l)); n >= tc.width {
						t.Errorf("line of %d characters on a %d-wide terminal: %q", n, tc.width, l)
					}
				}
			}
			golden(t, filepath.Join("view", tc.name+".golden"), strings.Join(lines, "\n")+"\n")
		})
	}
}

func TestProgressLine(t *testing.T) {
	svc := service(4, 6, 2,
		deployment("ecs-svc/1", "ACTIVE", "web:2", 4, 4, 0, 0, completed, ""),
		deployment("ecs-svc/2", "PRIMARY", "web:3", 4, 2, 2, 1, inProgress, ""))
	got := progressLine(deploymentRows(svc, "ecs-svc/2"))
	want := "new PRIMARY web:3 IN_PROGRESS: 2/4 running, 2 pending, 1 failed | old ACTIVE web:2 COMPLETED: 4/4 running, 0 pending, 0 failed"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := progressLine(nil); got != "no deployments" {
		t.Errorf("no deployments: %q", got)
	}
}

func TestBarAndCut(t *testing.T) {
	for _, tc := range []struct {
		running, desired int32
		want             string
	}{{0, 4, "[----------]"}, {2, 4, "[#####-----]"}, {4, 4, "[##########]"}, {6, 4, "[##########]"}, {3, 0, "[----------]"}, {1, 3, "[###-------]"}} {
		if got := bar(tc.running, tc.desired); got != tc.want {
			t.Errorf("bar(%d, %d) = %s, want %s", tc.running, tc.desired, got, tc.want)
		}
	}
	if got := cut("service web · desired", 10); got != "service w…" {
		t.Errorf("cut: %q", got)
	}
	if got := cut("short", 10); got != "short" {
		t.Errorf("cut: %q", got)
	}
}
