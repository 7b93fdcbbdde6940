package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/cli"
)

// TestOperationsEndToEnd walks a service through scale, tasks, run,
// verify and delete against a real ecsd.
func TestOperationsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	c, e := useECSD(t)
	ctx := context.Background()
	describe := func() (status string, desired, running int32) {
		t.Helper()
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil {
			t.Fatalf("describe service: %v", err)
		}
		if len(out.Services) == 0 {
			return "MISSING", 0, 0
		}
		s := out.Services[0]
		return aws.ToString(s.Status), s.DesiredCount, s.RunningCount
	}
	must := func(want string, args ...string) string {
		t.Helper()
		code, out := e.ecsctl(args...)
		if code != cli.ExitOK || !strings.Contains(out, want) {
			t.Fatalf("ecsctl %s: exit %d, want output with %q:\n%s", strings.Join(args, " "), code, want, out)
		}
		return out
	}

	must("succeeded", "deploy")
	// ecsd answers Application Auto Scaling (no scalable targets): nothing
	// to suspend, and no warning.
	if out := must("no scalable target for service/default/web: no auto scaling to suspend", "deploy", "--skip-task-definition", "--suspend-auto-scaling"); strings.Contains(out, "warning") {
		t.Fatalf("deploy --suspend-auto-scaling warns against ecsd:\n%s", out)
	}

	// scale: desiredCount only, then wait for 3 running.
	must("succeeded", "scale", "--tasks", "3")
	if st, desired, running := describe(); st != "ACTIVE" || desired != 3 || running != 3 {
		t.Fatalf("after scale --tasks 3: %s desired %d running %d", st, desired, running)
	}

	// tasks lists the three running tasks.
	out := must("RUNNING", "tasks", "--desired-status", "RUNNING", "--output", "tsv")
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 3 {
		t.Fatalf("tasks: %d lines, want 3:\n%s", len(lines), out)
	} else {
		for _, l := range lines {
			if f := strings.Split(l, "\t"); len(f) != 10 || f[1] != "web:1" || f[2] != "service:web" || f[3] != "RUNNING" {
				t.Errorf("tasks line %q", l)
			}
		}
	}
	must("TASK DEFINITION", "tasks")
	if code, out := e.ecsctl("tasks", "--stop"); code != cli.ExitError || !strings.Contains(out, "pass --force") {
		t.Fatalf("tasks --stop without a terminal: exit %d\n%s", code, out)
	}

	// run: a one-off task whose container exits 3 after a second; ecsctl
	// exits 3 and says why.
	overrides := `{"containerOverrides":[{"name":"app","environment":[{"name":"DEMO_CRASH_AFTER","value":"1s"},{"name":"DEMO_EXIT_CODE","value":"3"}]}]}`
	code, out := e.ecsctl("run", "--overrides", overrides)
	if code != 3 {
		t.Fatalf("run: exit %d, want the container's 3:\n%s", code, out)
	}
	for _, want := range []string{"registered arn:aws:ecs:us-east-1:000000000000:task-definition/web:2", "RUNNING", "stopped: Essential container in task exited", "container app: exit code 3", "container app exited with code 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	// tasks shows the one-off run too, with its exit code.
	out = must("family:web", "tasks", "--desired-status", "STOPPED", "--output", "tsv")
	if !strings.Contains(out, "\tEssentialContainerExited\tapp=3\tEssential container in task exited") {
		t.Errorf("tasks does not show the stopped one-off task:\n%s", out)
	}
	exit0 := strings.ReplaceAll(overrides, `"3"`, `"0"`)
	must("container app exited with code 0", "run", "--skip-task-definition", "--overrides", exit0)
	exitLater := strings.ReplaceAll(exit0, `"1s"`, `"2s"`) // it must not outlive the test
	must("1 task(s) running", "run", "--revision", "1", "--wait-until", "running", "--overrides", exitLater)
	if code, out := e.ecsctl("run", "--overrides", `{"containerOverride":[]}`); code != cli.ExitError || !strings.Contains(out, "containerOverride not part of a RunTask overrides object") {
		t.Fatalf("run with a misspelt override: exit %d\n%s", code, out)
	}

	// verify: OK for the demo config; NG for a load balancer on an unmapped
	// port, with the target group checked or skipped.
	must("verify: ", "verify")
	out = must("[OK]   image ecsd/demoapp:v1", "verify")
	if strings.Contains(out, "[NG]") {
		t.Fatalf("verify found NG items in the demo config:\n%s", out)
	}
	cfg := loadBalancerConfig(t, "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/0123456789abcdef", 9999)
	code, out = e.run("verify", "--config", cfg)
	if code != cli.ExitError || !strings.Contains(out, "[NG]   loadBalancers[0] container app:9999: container app has no portMapping with containerPort 9999") ||
		!strings.Contains(out, "loadBalancers[0] target group arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/0123456789abcdef") {
		t.Fatalf("verify of a bad load balancer: exit %d\n%s", code, out)
	}

	elb := elbv2.New(elbv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.env["AWS_ENDPOINT_URL_ECS"]),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(8080), TargetType: elbv2types.TargetTypeEnumIp})
	if err != nil {
		t.Logf("this ecsd does not answer ELBv2 (%v); not verifying an existing target group", err)
	} else {
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		code, out := e.run("verify", "--config", loadBalancerConfig(t, arn, 8080))
		if code != cli.ExitOK || !strings.Contains(out, "[OK]   loadBalancers[0] target group "+arn) {
			t.Fatalf("verify of an existing target group: exit %d\n%s", code, out)
		}
	}

	// delete: without a terminal --force is required; a service with tasks
	// needs --terminate.
	if code, out := e.ecsctl("delete"); code != cli.ExitError || !strings.Contains(out, "stdin is not a terminal") {
		t.Fatalf("delete without --force: exit %d\n%s", code, out)
	}
	if code, out := e.ecsctl("delete", "--force"); code != cli.ExitError || !strings.Contains(out, "pass --terminate") {
		t.Fatalf("delete --force of a running service: exit %d\n%s", code, out)
	}
	if st, _, _ := describe(); st != "ACTIVE" {
		t.Fatalf("a refused delete left the service %s", st)
	}
	must("service web is gone", "delete", "--force", "--terminate")
	if st, _, _ := describe(); st != "INACTIVE" && st != "MISSING" {
		t.Fatalf("after delete the service is %s", st)
	}
	if code, out := e.ecsctl("tasks", "--desired-status", "RUNNING"); code != cli.ExitOK || strings.Contains(out, "service:web") {
		t.Fatalf("tasks after delete: exit %d\n%s", code, out)
	}
}

// loadBalancerConfig writes a copy of the demo config whose service
// definition puts target group tg in front of the app container's port.
func loadBalancerConfig(t *testing.T, tg string, port int) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"ecspresso.yml", "ecs-task-def.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/demo", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	sd := fmt.Sprintf(`{"desiredCount": 1, "loadBalancers": [{"targetGroupArn": %q, "containerName": "app", "containerPort": %d}]}`, tg, port)
	os.WriteFile(filepath.Join(dir, "ecs-service-def.json"), []byte(sd), 0o644)
	return filepath.Join(dir, "ecspresso.yml")
}

// TestJSONLogFormatEndToEnd checks that with --log-format json every line
// ecsctl prints, failures included, is a JSON object.
func TestJSONLogFormatEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	_, e := useECSD(t)
	type want struct {
		code  int
		kinds []string
	}
	for _, step := range []struct {
		args []string
		want want
	}{
		{[]string{"deploy", "--log-format", "json"}, want{cli.ExitOK, []string{"info", "deployment", "event"}}},
		{[]string{"scale", "--tasks", "1", "--log-format", "json"}, want{cli.ExitOK, []string{"deployment"}}},
		{[]string{"status", "--log-format", "json"}, want{cli.ExitOK, []string{"service", "deployment", "event"}}},
		{[]string{"tasks", "--log-format", "json"}, want{cli.ExitOK, []string{"task"}}},
		{[]string{"verify", "--log-format", "json"}, want{cli.ExitOK, []string{"verify"}}},
		{[]string{"run", "--log-format", "json", "--skip-task-definition", "--overrides",
			`{"containerOverrides":[{"name":"app","environment":[{"name":"DEMO_CRASH_AFTER","value":"0s"},{"name":"DEMO_EXIT_CODE","value":"7"}]}]}`},
			want{7, []string{"task", "stopped", "exit"}}},
		{[]string{"delete", "--force", "--log-format", "json"}, want{cli.ExitError, []string{"error"}}},
		{[]string{"scale", "--log-format", "json", "--tasks", "x"}, want{cli.ExitError, []string{"error"}}},
		{[]string{"delete", "--force", "--terminate", "--log-format", "json"}, want{cli.ExitOK, []string{"deleted"}}},
	} {
		code, out := e.ecsctl(step.args...)
		if code != step.want.code {
			t.Errorf("ecsctl %s: exit %d, want %d\n%s", strings.Join(step.args, " "), code, step.want.code, out)
		}
		kinds := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Errorf("ecsctl %s: line is not JSON: %q", strings.Join(step.args, " "), l)
				continue
			}
			if m["time"] == nil || m["level"] == nil || m["message"] == nil {
				t.Errorf("ecsctl %s: line without time, level or message: %q", strings.Join(step.args, " "), l)
			}
			kind, _ := m["kind"].(string)
			kinds[kind] = true
			if kind == "exit" && m["exitCode"] != float64(7) {
				t.Errorf("exit line: %q", l)
			}
		}
		for _, k := range step.want.kinds {
			if !kinds[k] {
				t.Errorf("ecsctl %s: no %q line in\n%s", strings.Join(step.args, " "), k, out)
			}
		}
	}
}
