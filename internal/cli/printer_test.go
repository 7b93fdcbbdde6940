package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func testPrinter(format string) (*printer, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	p := newPrinter(&out, &errOut, format, func(string) string { return "" })
	p.now = func() time.Time { return time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC) }
	return p, &out, &errOut
}

// jsonLines decodes every line of s as a JSON object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON object: %q: %v", l, err)
		}
		for _, k := range []string{"time", "level", "kind", "message"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line without %s: %s", k, l)
			}
		}
		objs = append(objs, m)
	}
	return objs
}

func TestPrinterJSON(t *testing.T) {
	p, out, errOut := testPrinter("json")
	p.info("registered %s", "web:3")
	p.warn("member foo is ignored")
	p.fail(errors.New("deployment failed: circuit breaker"), ExitFailed)
	p.commandError("deploy", errors.New("no region"), ExitError)
	p.taskExit(&taskExitError{code: 3, task: "abc", container: "app", exitCode: new(int32(3)), msg: "task abc: container app exited with code 3"})
	p.verified(check{1, "image x", verifyNG, "bad"})
	p.line("info", "with fields", map[string]any{"message": "cannot replace", "count": 2})

	got := jsonLines(t, out.String())
	want := []struct{ level, kind, message string }{
		{"info", "info", "registered web:3"},
		{"error", "failure", "FAILED: deployment failed: circuit breaker"},
		{"error", "exit", "task abc: container app exited with code 3"},
		{"error", "verify", "image x: bad"},
		{"info", "info", "with fields"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d stdout lines, want %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["kind"] != w.kind || got[i]["message"] != w.message {
			t.Errorf("line %d: %v, want %+v", i, got[i], w)
		}
		if got[i]["time"] != "2025-03-01T12:00:05Z" {
			t.Errorf("line %d: time %v", i, got[i]["time"])
		}
	}
	if got[1]["exitCode"] != float64(2) || got[2]["exitCode"] != float64(3) || got[2]["containerExitCode"] != float64(3) || got[4]["count"] != float64(2) {
		t.Errorf("fields: %v", got)
	}
	stderr := jsonLines(t, errOut.String())
	if len(stderr) != 2 || stderr[0]["level"] != "warn" || stderr[1]["kind"] != "error" || stderr[1]["command"] != "deploy" || stderr[1]["exitCode"] != float64(1) {
		t.Errorf("stderr: %v", stderr)
	}
}

func TestPrinterText(t *testing.T) {
	p, out, errOut := testPrinter("text")
	p.info("registered %s", "web:3")
	p.warn("member foo is ignored")
	p.commandError("deploy", errors.New("no region"), ExitError)
	p.verified(check{1, "image x", verifyNG, "bad"})
	local := time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC).Local().Format("15:04:05")
	if want := local + " registered web:3\n  [NG]   image x: bad\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if want := "warning: member foo is ignored\necsctl deploy: no region\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestPrinterDeploymentsJSONReportsChanges(t *testing.T) {
	p, out, _ := testPrinter("json")
	svc := service(2, 1, 1, deployment("ecs-svc/2", "PRIMARY", "web:3", 2, 1, 1, 0, inProgress, ""))
	p.deployments(svc, "ecs-svc/2", time.Second)
	p.deployments(svc, "ecs-svc/2", 2*time.Second) // no change: nothing
	svc.Deployments[0].RunningCount = 2
	svc.Deployments[0].PendingCount = 0
	p.deployments(svc, "ecs-svc/2", 3*time.Second)
	got := jsonLines(t, out.String())
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(got), out)
	}
	last := got[1]
	if last["kind"] != "deployment" || last["deploymentId"] != "ecs-svc/2" || last["runningCount"] != float64(2) ||
		last["rolloutState"] != "IN_PROGRESS" || last["watched"] != true || last["elapsedSeconds"] != float64(3) || last["taskDefinition"] != "web:3" {
		t.Errorf("deployment line: %v", last)
	}
}

func TestPrinterTextProgressOnlyOnChange(t *testing.T) {
	p, out, _ := testPrinter("text")
	svc := service(2, 1, 1, deployment("ecs-svc/2", "PRIMARY", "web:3", 2, 1, 1, 0, inProgress, ""))
	p.deployments(svc, "ecs-svc/2", time.Second)
	p.deployments(svc, "ecs-svc/2", 2*time.Second)
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d progress lines for one state, want 1:\n%s", n, out)
	}
	if !strings.Contains(out.String(), "new PRIMARY web:3 IN_PROGRESS: 1/2 running, 1 pending, 0 failed (1s)") {
		t.Errorf("progress line: %q", out)
	}
}

// The live block is redrawn in place: cursor up over it, clear, draw; other
// lines go above it.
func TestPrinterLiveRedraw(t *testing.T) {
	p, out, _ := testPrinter("text")
	p.live = true
	svc := service(2, 1, 1, deployment("ecs-svc/2", "PRIMARY", "web:3", 2, 1, 1, 0, inProgress, ""))
	p.deployments(svc, "ecs-svc/2", time.Second)
	first := out.String()
	if strings.Contains(first, "\x1b[") || strings.Count(first, "\n") != 2 {
		t.Fatalf("first draw: %q", first)
	}
	out.Reset()
	p.event("has started 1 tasks", time.Date(2025, 3, 1, 12, 0, 4, 0, time.UTC))
	local := time.Date(2025, 3, 1, 12, 0, 4, 0, time.UTC).Local().Format("15:04:05")
	if want := "\r\x1b[2A\x1b[J" + local + " has started 1 tasks\n" + first; out.String() != want {
		t.Errorf("event above the block:\n got %q\nwant %q", out, want)
	}
	out.Reset()
	p.deployments(svc, "ecs-svc/2", 2*time.Second)
	if !strings.HasPrefix(out.String(), "\r\x1b[2A\x1b[J") || !strings.Contains(out.String(), "· 2s\n") {
		t.Errorf("redraw: %q", out)
	}
	p.settle()
	out.Reset()
	p.info("done")
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("after settle the block stays: %q", out)
	}
}

// A failure's report leads with its cause; further lines are indented
// under it in text, kept whole in JSON.
func TestPrinterFailureLeadsWithTheCause(t *testing.T) {
	report := deploymentFailure("4 tasks failed: Essential container in task exited (exit code 1)\ndeployment failed after 3s: rolled back")
	p, out, _ := testPrinter("text")
	p.fail(report, ExitFailed)
	local := time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC).Local().Format("15:04:05")
	if want := local + " FAILED: 4 tasks failed: Essential container in task exited (exit code 1)\n  deployment failed after 3s: rolled back\n"; out.String() != want {
		t.Errorf("text %q, want %q", out, want)
	}
	p, out, _ = testPrinter("json")
	p.fail(report, ExitFailed)
	if got := jsonLines(t, out.String()); len(got) != 1 || got[0]["message"] != "FAILED: "+string(report) {
		t.Errorf("json: %v", got)
	}
	if !errors.Is(report, errDeploymentFailed) {
		t.Error("a deployment failure is not errDeploymentFailed (exit code 2)")
	}
}
