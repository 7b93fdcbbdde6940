package main

import (
	"context"
	"fmt"
	"os"
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
	"github.com/ecsd/ecsd/internal/ecsdproc"
)

// ecsdBin is ecsd, built once for the package's tests.
var ecsdBin string

func TestMain(m *testing.M) {
	if os.Getenv(runAsECSCTL) != "" {
		os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
	}
	var err error
	if ecsdBin, err = ecsdproc.Build(""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The tests wait on ecsd and its tasks, not on the CPU: run them all
	// at once.
	ecsdproc.ParallelTests(8)
	os.Exit(m.Run())
}

// startECSD runs a real ecsd (process runtime) for ecsctl to deploy to; its
// tasks stop when the test ends.
func startECSD(t *testing.T) string {
	t.Helper()
	return ecsdproc.StartTest(t, ecsdproc.Options{Bin: ecsdBin, Runtime: "process", HealthyAfter: time.Second, NoFsync: true}).Endpoint
}

func client(endpoint string) *ecs.Client {
	return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

func TestDeployEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	c, e := useECSD(t)
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

	if code, out := e.ecsctl("render", "taskdef"); code != 0 || !strings.Contains(out, `"image": "ecsd/demoapp:v1"`) {
		t.Fatalf("render: %d\n%s", code, out)
	}
	if code, out := e.ecsctl("deploy", "--dry-run"); code != 0 || !strings.Contains(out, "would create service web") {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	if code, out := e.ecsctl("deploy"); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("first deploy: %d\n%s", code, out)
	}
	e.setenv("VERSION", "v2")
	if code, out := e.ecsctl("deploy", "--wait-until", "deployed"); code != 0 {
		t.Fatalf("v2 deploy: %d\n%s", code, out)
	}
	if td := primaryTD(); !strings.HasSuffix(td, "task-definition/web:2") {
		t.Fatalf("PRIMARY after v2: %s", td)
	}
	if code, out := e.ecsctl("deploy", "--dry-run"); code != 0 || !strings.Contains(out, "would update service web") {
		t.Fatalf("dry run update: %d\n%s", code, out)
	}

	e.setenv("VERSION", "v3")
	e.setenv("CRASH_AFTER", "0s")
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
	code, out := e.ecsctl("deploy")
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

	if code, out := e.ecsctl("status"); code != 0 || !strings.Contains(out, "rolling back to deployment") {
		t.Fatalf("status: %d\n%s", code, out)
	}
}
