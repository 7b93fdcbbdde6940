package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
)

const region = "us-east-1"

// ecsdLB is a private ecsd with one load balancer in front of the backend.
type ecsdLB struct {
	*benchkit.ECSD
	listenerURL string // http://127.0.0.1:PORT/ of the ELBv2 listener
	healthyIn   time.Duration
}

// startECSDListener starts `ecsd server --runtime fake` on a free port with
// a fresh data dir in dir and, through the aws-sdk-go-v2 ELBv2 client, creates an
// application load balancer, an HTTP target group of type ip (health check
// GET /health every 5 s, healthy after 2 successes) with the backend
// registered as 127.0.0.1:backendPort and an HTTP listener on a free port
// forwarding to the group, then waits until DescribeTargetHealth says
// healthy. The listener comes first, as on AWS: until a listener or rule
// uses the group, its targets are "unused" (Target.NotInUse), never
// healthy.
func startECSDListener(bin, dir string, backendPort int32) (*ecsdLB, error) {
	ecsd, err := benchkit.StartECSD(benchkit.ECSDOpts{Bin: bin, Dir: dir,
		Args: []string{"--runtime", "fake", "--region", region}, Grace: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	e := &ecsdLB{ECSD: ecsd}
	fmt.Printf("ecsd: API on %s (pid %d, --runtime fake)\n", e.Endpoint, e.Pid)

	c := elbv2.New(elbv2.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCHEXAMPLE", "bench-secret", ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fail := func(op string, err error) (*ecsdLB, error) {
		return nil, fmt.Errorf("ecsd ELBv2 %s: %w\n(ecsd log %s:)\n%s", op, err, e.Log, benchkit.Tail(e.Log))
	}
	lbOut, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("lbproxy"), Type: types.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return fail("CreateLoadBalancer", err)
	}
	tgOut, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("lbproxy"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(backendPort),
		TargetType:                 types.TargetTypeEnumIp,
		HealthCheckPath:            aws.String("/health"),
		HealthCheckIntervalSeconds: aws.Int32(5),
		HealthCheckTimeoutSeconds:  aws.Int32(2), // must be below the interval
		HealthyThresholdCount:      aws.Int32(2),
	})
	if err != nil {
		return fail("CreateTargetGroup", err)
	}
	tgARN := tgOut.TargetGroups[0].TargetGroupArn
	lport, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(lport)
	ls, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lbOut.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(int32(n)),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgARN}},
	})
	if err != nil {
		return fail("CreateListener", err)
	}
	e.listenerURL = fmt.Sprintf("http://127.0.0.1:%d/", aws.ToInt32(ls.Listeners[0].Port))
	t0 := time.Now()
	if _, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(backendPort)}}}); err != nil {
		return fail("RegisterTargets", err)
	}
	for last := ""; ; {
		th, err := c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgARN})
		if err != nil {
			return fail("DescribeTargetHealth", err)
		}
		if len(th.TargetHealthDescriptions) == 1 && th.TargetHealthDescriptions[0].TargetHealth != nil {
			h := th.TargetHealthDescriptions[0].TargetHealth
			if h.State == types.TargetHealthStateEnumHealthy {
				break
			}
			last = fmt.Sprintf("%s (%s: %s)", h.State, h.Reason, aws.ToString(h.Description))
		}
		select {
		case <-ctx.Done():
			return fail("DescribeTargetHealth", fmt.Errorf("target 127.0.0.1:%d not healthy after %s; last %s",
				backendPort, time.Since(t0).Round(time.Second), last))
		case <-time.After(200 * time.Millisecond):
		}
	}
	e.healthyIn = time.Since(t0)

	fmt.Printf("ecsd: target healthy after %s; listener %s\n", e.healthyIn.Round(100*time.Millisecond), e.listenerURL)
	return e, nil
}
