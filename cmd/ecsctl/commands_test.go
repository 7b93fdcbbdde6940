package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/cli"
)

// runAsECSCTL, set in its environment, makes this test binary run ecsctl
// (see TestMain): each test runs ecsctl as a child process with its own
// environment, so that tests run in parallel.
const runAsECSCTL = "ECSCTL_TEST_RUN_ECSCTL"

// ecsctlEnv is one test's ecsctl: the environment it runs with, on top of
// the test process's.
type ecsctlEnv struct {
	t   *testing.T
	env map[string]string
}

// useECSD starts an ecsd and returns a client of it and an ecsctl whose
// AWS SDK configuration points at it.
func useECSD(t *testing.T) (*ecs.Client, *ecsctlEnv) {
	t.Helper()
	endpoint := startECSD(t)
	e := &ecsctlEnv{t: t, env: map[string]string{
		"AWS_ENDPOINT_URL_ECS":        endpoint,
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"NO_COLOR":                    "1",
	}}
	return client(endpoint), e
}

// setenv sets a variable for the ecsctl runs that follow.
func (e *ecsctlEnv) setenv(key, value string) { e.env[key] = value }

// ecsctl runs ecsctl with the demo config and returns its exit code and
// output (stdout and stderr).
func (e *ecsctlEnv) ecsctl(args ...string) (int, string) {
	e.t.Helper()
	return e.run(append(args[:1:1], append([]string{"--config", "testdata/demo/ecspresso.yml"}, args[1:]...)...)...)
}

// run runs ecsctl with exactly args (no config added).
func (e *ecsctlEnv) run(args ...string) (int, string) {
	e.t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// The race detector's default 1 s pause at exit would dominate.
	cmd.Env = append(os.Environ(), runAsECSCTL+"=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for k, v := range e.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		e.t.Fatalf("running ecsctl %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestRevisionCommandsEndToEnd walks a service through register,
// revisions, diff, rollback, init and deregister against a real ecsd.
func TestRevisionCommandsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	c, e := useECSD(t)
	ctx := context.Background()
	serviceTD := func() string {
		t.Helper()
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe service: %v", err)
		}
		return aws.ToString(out.Services[0].TaskDefinition)
	}
	status := func(name string) types.TaskDefinitionStatus {
		t.Helper()
		out, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(name)})
		if err != nil {
			t.Fatalf("describe %s: %v", name, err)
		}
		return out.TaskDefinition.Status
	}
	must := func(want string, args ...string) string {
		t.Helper()
		code, out := e.ecsctl(args...)
		if code != cli.ExitOK || !strings.Contains(out, want) {
			t.Fatalf("ecsctl %s: exit %d, want output with %q:\n%s", strings.Join(args, " "), code, want, out)
		}
		return out
	}
	noDiff := func(out string) {
		t.Helper()
		if strings.Contains(out, "@@") || !strings.Contains(out, "no differences") {
			t.Fatalf("diff is not clean:\n%s", out)
		}
	}

	must("succeeded", "deploy")
	noDiff(must("", "diff"))

	// register: a dry run registers nothing; then web:2 with the v2 image.
	e.setenv("VERSION", "v2")
	must(`"image": "ecsd/demoapp:v2"`, "register", "--dry-run")
	if out := must("", "revisions", "--output", "tsv"); out != "web:1\tPRIMARY deployment\n" {
		t.Fatalf("revisions after a dry run:\n%s", out)
	}
	if out := must("task-definition/web:2", "register"); out != "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2\n" {
		t.Fatalf("register prints the ARN alone, got:\n%s", out)
	}

	// revisions: both, the one the service runs marked.
	if out := must("", "revisions", "--output", "tsv"); out != "web:1\tPRIMARY deployment\nweb:2\t\n" {
		t.Fatalf("revisions --output tsv:\n%s", out)
	}
	must(`{"name":"web:1","in_use":"PRIMARY deployment"}`, "revisions", "--output", "json")
	must("web:1  PRIMARY deployment", "revisions")
	must(`"revision": 2`, "revisions", "--revision", "latest")
	must(`"revision": 1`, "revisions", "--revision", "current")

	// diff: the live task definition (web:1) against the local v2 file;
	// the service definition has not changed.
	out := must("", "diff")
	for _, want := range []string{
		"--- arn:aws:ecs:us-east-1:000000000000:task-definition/web:1\n",
		"+++ testdata/demo/ecs-task-def.json\n",
		`-      "image": "ecsd/demoapp:v1",`,
		`+      "image": "ecsd/demoapp:v2",`,
		`-          "value": "v1"`,
		`+          "value": "v2"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "service/default/web") {
		t.Errorf("diff shows a service change that was not made:\n%s", out)
	}

	// Deploy the registered v2, then roll back to web:1.
	must("succeeded", "deploy", "--revision", "2")
	if td := serviceTD(); !strings.HasSuffix(td, "/web:2") {
		t.Fatalf("service runs %s after deploying web:2", td)
	}
	must("would roll back service web: task definition web:2 → web:1", "rollback", "--dry-run")
	if td := serviceTD(); !strings.HasSuffix(td, "/web:2") || status("web:2") != types.TaskDefinitionStatusActive {
		t.Fatalf("a dry run changed something: service on %s, web:2 %s", td, status("web:2"))
	}
	if code, out := e.ecsctl("rollback", "--no-wait"); code != cli.ExitError || !strings.Contains(out, "--deregister-task-definition=false") {
		t.Fatalf("rollback --no-wait must ask for --deregister-task-definition=false: exit %d\n%s", code, out)
	}
	must("deregistered web:2", "rollback")
	if td := serviceTD(); !strings.HasSuffix(td, "/web:1") {
		t.Fatalf("service runs %s after the rollback", td)
	}
	if st := status("web:2"); st != types.TaskDefinitionStatusInactive {
		t.Fatalf("web:2 is %s after the rollback, want INACTIVE", st)
	}
	if code, out := e.ecsctl("rollback"); code != cli.ExitError || !strings.Contains(out, "no ACTIVE revision of web older than web:1") {
		t.Fatalf("rollback with nothing older: exit %d\n%s", code, out)
	}

	// init writes files from the live service that diff clean.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ecspresso.yml")
	initArgs := []string{"init", "--service", "web", "--config", cfg,
		"--task-definition-path", filepath.Join(dir, "ecs-task-def.json"),
		"--service-definition-path", filepath.Join(dir, "ecs-service-def.json")}
	if code, out := e.run(initArgs...); code != cli.ExitOK {
		t.Fatalf("init: exit %d\n%s", code, out)
	}
	files := map[string]string{}
	for _, name := range []string{"ecspresso.yml", "ecs-task-def.json", "ecs-service-def.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	if want := "region: us-east-1\ncluster: default\nservice: web\nservice_definition: ecs-service-def.json\ntask_definition: ecs-task-def.json\n"; !strings.HasPrefix(files["ecspresso.yml"], want) {
		t.Errorf("config:\n%s", files["ecspresso.yml"])
	}
	for _, gone := range []string{`"taskDefinitionArn"`, `"revision"`, `"status"`, `"registeredAt"`, `"compatibilities"`, `"requiresAttributes"`} {
		if strings.Contains(files["ecs-task-def.json"], gone) {
			t.Errorf("task definition file has %s:\n%s", gone, files["ecs-task-def.json"])
		}
	}
	for _, gone := range []string{`"serviceName"`, `"cluster"`, `"taskDefinition"`, `"desiredCount"`, `"status"`, `"deployments"`, `"events"`} {
		if strings.Contains(files["ecs-service-def.json"], gone) {
			t.Errorf("service definition file has %s:\n%s", gone, files["ecs-service-def.json"])
		}
	}
	if !strings.Contains(files["ecs-task-def.json"], `"image": "ecsd/demoapp:v1"`) || !strings.Contains(files["ecs-service-def.json"], `"minimumHealthyPercent": 50`) {
		t.Errorf("init did not write the live definitions:\n%s\n%s", files["ecs-task-def.json"], files["ecs-service-def.json"])
	}
	code, out := e.run("diff", "--config", cfg)
	if code != cli.ExitOK {
		t.Fatalf("diff of the init files: exit %d\n%s", code, out)
	}
	noDiff(out)
	if code, out := e.run(initArgs...); code != cli.ExitError || !strings.Contains(out, "--force-overwrite") {
		t.Fatalf("init over existing files: exit %d\n%s", code, out)
	}

	// deregister --keeps: web:1 is in use and stays; of web:3 and web:4
	// only the newest is kept.
	e.setenv("VERSION", "v3")
	must("task-definition/web:3", "register")
	e.setenv("VERSION", "v4")
	must("task-definition/web:4", "register")
	must("dry run: would deregister web:3", "deregister", "--keeps", "1", "--dry-run")
	if st := status("web:3"); st != types.TaskDefinitionStatusActive {
		t.Fatalf("a dry run deregistered web:3 (%s)", st)
	}
	out = must("deregistered web:3", "deregister", "--keeps", "1", "--force")
	if !strings.Contains(out, "web:1 is in use (PRIMARY deployment); keeping it") || strings.Contains(out, "deregistered web:4") {
		t.Fatalf("deregister --keeps 1:\n%s", out)
	}
	if out := must("", "revisions", "--output", "tsv"); out != "web:1\tPRIMARY deployment\nweb:4\t\n" {
		t.Fatalf("revisions after deregister:\n%s", out)
	}
	if code, out := e.ecsctl("deregister", "--revision", "1", "--force"); code != cli.ExitError || !strings.Contains(out, "web:1 is in use") {
		t.Fatalf("deregistering the revision in use: exit %d\n%s", code, out)
	}
	if st := status("web:1"); st != types.TaskDefinitionStatusActive {
		t.Fatalf("web:1 is %s", st)
	}
}
