package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

func elbv2Client(p ecsdProcess) *elbv2.Client { return elbv2.NewFromConfig(p.AWSConfig()) }

// getBody GETs url and returns its status and body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A target group and a listener acknowledged before a SIGKILL are there
// after a restart, and the listener serves again on its port.
func TestELBv2SurvivesRestart(t *testing.T) {
	t.Parallel()
	// fsync on: durability is what this tests.
	p := startECSD(t, ecsdproc.Options{})
	c := elbv2Client(p)
	ctx := context.Background()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "backend") }))
	defer backend.Close()
	backendPort := int32(backend.Listener.Addr().(*net.TCPAddr).Port)

	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(backendPort), TargetType: elbv2types.TargetTypeEnumIp, HealthCheckPath: aws.String("/health")})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []elbv2types.TargetDescription{{Id: aws.String("127.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	var port int32
	fmt.Sscan(freeAddr(t)[len("127.0.0.1:"):], &port)
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(port), DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: tgARN}}})
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", *ls.Listeners[0].Port)
	if status, body := getBody(t, url); status != 200 || body != "backend" {
		t.Fatalf("before the restart: %d %q", status, body)
	}

	p.Kill()
	if _, err := http.Get(url); err == nil {
		t.Fatal("the listener answers while ecsd is down")
	}

	p.restart(t)
	c = elbv2Client(p)
	tgs, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"web"}})
	if err != nil || *tgs.TargetGroups[0].TargetGroupArn != *tgARN || *tgs.TargetGroups[0].HealthCheckPath != "/health" || len(tgs.TargetGroups[0].LoadBalancerArns) != 1 {
		t.Fatalf("target group after the restart: %v %+v", err, tgs)
	}
	after, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn})
	if err != nil || len(after.Listeners) != 1 || *after.Listeners[0].Port != *ls.Listeners[0].Port {
		t.Fatalf("listeners after the restart: %v %+v", err, after)
	}
	th, err := c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgARN})
	if err != nil || len(th.TargetHealthDescriptions) != 1 || *th.TargetHealthDescriptions[0].Target.Port != backendPort {
		t.Fatalf("targets after the restart: %v %+v", err, th)
	}
	if status, body := getBody(t, url); status != 200 || body != "backend" {
		t.Fatalf("after the restart: %d %q", status, body)
	}
}

// TestELBv2AWSCLIEndToEnd runs scripts/e2e-elbv2.sh: the real aws CLI
// against a real ecsd process, with a demoapp process as the target.
func TestELBv2AWSCLIEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (.ci/run installs it); skipping the end-to-end script")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; skipping the end-to-end script")
	}
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end script")
	}
	t.Parallel()
	cmd := exec.Command("bash", "../../scripts/e2e-elbv2.sh")
	cmd.Env = append(os.Environ(), "ECSD_BIN="+ecsdBin, "ECSD_UNSAFE_NO_FSYNC=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("e2e-elbv2.sh: %v", err)
	}
}
