package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/cli"
)

// startECSD builds and runs a real ecsd (process runtime) for ecsctl to
// deploy to.
func startECSD(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ecsd")
	build := exec.Command("go", "build", "-o", bin, "../ecsd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building ecsd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "server", "--listen", addr, "--data-dir", filepath.Join(dir, "data"), "--runtime", "process", "--healthy-after", "1s")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + addr
	t.Cleanup(func() {
		c := client(endpoint)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web"), Force: aws.Bool(true)})
		for ctx.Err() == nil {
			l, err := c.ListTasks(ctx, &ecs.ListTasksInput{})
			if err != nil || len(l.TaskArns) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // let the last stops finish
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("ecsd did not start: %s", logs.String())
		}
	}
}

func client(endpoint string) *ecs.Client {
	return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// ecsctl runs the CLI in-process and returns its exit code and output.
func ecsctl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := cli.Run(append(args[:1:1], append([]string{"--config", "testdata/demo/ecspresso.yml"}, args[1:]...)...), &out, &out)
	return code, out.String()
}

func TestDeployEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	endpoint := startECSD(t)
	t.Setenv("AWS_ENDPOINT_URL_ECS", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	c := client(endpoint)
	ctx := context.Background()
	primaryTD := func() string {
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe: %v", err)
		}
		for _, d := range out.Services[0].Deployments {
			if aws.ToString(d.Status) == "PRIMARY" {
				return aws.ToString(d.TaskDefinition)
			}
		}
		return ""
	}

	if code, out := ecsctl(t, "render", "taskdef"); code != 0 || !strings.Contains(out, `"image": "ecsd/demoapp:v1"`) {
		t.Fatalf("render: %d\n%s", code, out)
	}
	if code, out := ecsctl(t, "deploy", "--dry-run"); code != 0 || !strings.Contains(out, "would create service web") {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	if code, out := ecsctl(t, "deploy"); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("first deploy: %d\n%s", code, out)
	}
	t.Setenv("VERSION", "v2")
	if code, out := ecsctl(t, "deploy", "--wait-until", "deployed"); code != 0 {
		t.Fatalf("v2 deploy: %d\n%s", code, out)
	}
	if td := primaryTD(); !strings.HasSuffix(td, "task-definition/web:2") {
		t.Fatalf("PRIMARY after v2: %s", td)
	}
	if code, out := ecsctl(t, "deploy", "--dry-run"); code != 0 || !strings.Contains(out, "would update service web") {
		t.Fatalf("dry run update: %d\n%s", code, out)
	}

	t.Setenv("VERSION", "v3")
	t.Setenv("CRASH_AFTER", "0s")
	// Beside ecsctl, wait the way ecspresso 2.3 does (the SDK's
	// ServicesStable waiter from the moment of the deploy) to compare.
	start := time.Now()
	type verdict struct {
		err error
		at  time.Time
	}
	stable := make(chan verdict, 1)
	go func() {
		// ecspresso starts waiting once its UpdateService returned: here,
		// once the new deployment shows.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // polling a real ecsd
			if s, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}); err == nil && len(s.Services) == 1 &&
				slices.ContainsFunc(s.Services[0].Deployments, func(d types.Deployment) bool { return strings.HasSuffix(aws.ToString(d.TaskDefinition), ":3") }) {
				break
			}
		}
		w := ecs.NewServicesStableWaiter(c, func(o *ecs.ServicesStableWaiterOptions) { o.MinDelay, o.MaxDelay = time.Second, time.Second })
		err := w.Wait(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}, 10*time.Minute)
		stable <- verdict{err, time.Now()}
	}()
	code, out := ecsctl(t, "deploy")
	exited := time.Now()
	if code != cli.ExitFailed || !strings.Contains(out, "circuit breaker") {
		t.Fatalf("crashing deploy: exit %d\n%s", code, out)
	}
	// The failure leads with its cause and count; the rollback's own stops
	// are no cause.
	failure := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d FAILED: (.*)\n`).FindStringSubmatch(out)
	if failure == nil || !regexp.MustCompile(`^[3-9] tasks failed: Essential container in task exited \(exit code 1\)$`).MatchString(failure[1]) || strings.Contains(out, "Scaling activity initiated") {
		t.Fatalf("crashing deploy: the failure does not lead with the cause:\n%s", out)
	}
	// The breaker tripped at the "deployment failed" event; ecsctl must have
	// exited within 2 s of it (its poll interval is 1 s).
	svc, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var tripped time.Time
	for _, e := range svc.Services[0].Events {
		if strings.HasSuffix(aws.ToString(e.Message), "deployment failed: tasks failed to start.") {
			tripped = aws.ToTime(e.CreatedAt)
			break
		}
	}
	if tripped.IsZero() || exited.Sub(tripped) > 2*time.Second {
		t.Fatalf("ecsctl exited %s after the breaker tripped (at %s)", exited.Sub(tripped), tripped)
	}
	t.Logf("crashing deploy reported %s after the breaker tripped:\n%s", exited.Sub(tripped).Round(time.Millisecond), out)
	v := <-stable
	t.Logf("time to failure: ecsctl exited %d (failed, rolled back) %s after the deploy began; a ServicesStable wait (ecspresso 2.3) returned %v — success — %s after it",
		code, exited.Sub(start).Round(100*time.Millisecond), v.err, v.at.Sub(start).Round(100*time.Millisecond))
	if v.err != nil {
		t.Errorf("the ServicesStable waiter should see the rolled-back service as stable (that is the weakness ecsctl fixes): %v", v.err)
	}

	if code, out := ecsctl(t, "status"); code != 0 || !strings.Contains(out, "rolling back to deployment") {
		t.Fatalf("status: %d\n%s", code, out)
	}
}
