package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

func (p ecsdProcess) elbClient() *elb.Client { return elb.NewFromConfig(p.AWSConfig()) }

// balancer creates a load balancer, a target group with fast health checks
// and drainDelay of deregistration delay, and an HTTP listener; it returns
// the target group's ARN and the listener's URL.
func balancer(t *testing.T, p ecsdProcess, drainDelay int) (tgARN, url string) {
	t.Helper()
	ctx := context.Background()
	c := p.elbClient()
	lb, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	tgARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(drainDelay))}}}); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var n int32
	fmt.Sscan(addr[strings.LastIndexByte(addr, ':')+1:], &n)
	ls, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(n),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}})
	if err != nil {
		t.Fatal(err)
	}
	return tgARN, fmt.Sprintf("http://127.0.0.1:%d/", aws.ToInt32(ls.Listeners[0].Port))
}

// loadBalancedService creates service web: 4 tasks of td behind tgARN.
func loadBalancedService(t *testing.T, p ecsdProcess, td, tgARN string) {
	t.Helper()
	_, err := p.client().CreateService(context.Background(), &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(4),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitCompleted waits until the service has one deployment, COMPLETED:
// its tasks are healthy in the target group. (The ServicesStable waiter
// only asks for RUNNING tasks, as on ECS.)
func waitCompleted(t *testing.T, p ecsdProcess, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) { // polling a real ecsd
		s := describeService(t, p)
		if len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed deployment after %s: %+v\n%s", within, s.Deployments, p.Logs())
		}
	}
}

// answer is one request through the listener.
type answer struct {
	at      time.Time
	version string
	err     error
}

// load sends requests through url from workers goroutines until stop; a
// worker whose request failed waits 10 ms before its next one.
type load struct {
	mu      sync.Mutex
	answers []answer
	stop    chan struct{}
	done    sync.WaitGroup
}

func startLoad(url string, workers int) *load {
	l := &load{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				a := answer{at: time.Now()}
				resp, err := client.Get(url)
				if err == nil {
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case rerr != nil:
						err = rerr
					case resp.StatusCode != http.StatusOK:
						err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
					}
					a.version = strings.TrimSpace(string(body))
				}
				a.err = err
				l.mu.Lock()
				l.answers = append(l.answers, a)
				l.mu.Unlock()
				if err != nil {
					// As a retrying client would: a port that refuses
					// connections is not hammered.
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

func (l *load) finish() []answer {
	close(l.stop)
	l.done.Wait()
	return l.answers
}

// TestZeroDowntimeRollingDeployment: a rolling deployment of 4 demoapp
// tasks behind the built-in load balancer under constant load drops no
// request; both versions answer during the rollout, only the new one
// after it.
func TestZeroDowntimeRollingDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{Runtime: "process", NoFsync: true})
	tgARN, url := balancer(t, p, 3)
	slow := map[string]string{"DEMO_LATENCY": "300ms"}
	loadBalancedService(t, p, registerDemo(t, p.client(), "v1", slow), tgARN)
	waitCompleted(t, p, 2*time.Minute)

	l := startLoad(url, 4)
	time.Sleep(time.Second) // some v1-only traffic first
	updated := time.Now()
	if _, err := p.client().UpdateService(context.Background(), &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(registerDemo(t, p.client(), "v2", slow))}); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, p, 2*time.Minute)
	stable := time.Now()
	time.Sleep(2 * time.Second) // traffic after the rollout
	answers := l.finish()

	var failed []string
	during, after := map[string]int{}, map[string]int{}
	for _, a := range answers {
		switch {
		case a.err != nil:
			failed = append(failed, a.at.Format("15:04:05.000")+" "+a.err.Error())
		case a.at.After(stable):
			after[a.version]++
		case a.at.After(updated):
			during[a.version]++
		}
	}
	t.Logf("%d requests; during the rollout %v, after it %v; rollout took %s", len(answers), during, after, stable.Sub(updated).Round(time.Millisecond))
	if len(failed) > 0 {
		t.Fatalf("%d of %d requests failed:\n%s\n%s", len(failed), len(answers), strings.Join(failed[:min(len(failed), 20)], "\n"), p.Logs())
	}
	if during["v1"] == 0 || during["v2"] == 0 {
		t.Errorf("both versions must answer during the rollout: %v", during)
	}
	if len(after) != 1 || after["v2"] == 0 {
		t.Errorf("only v2 may answer after the rollout: %v", after)
	}
	var msgs []string
	for _, e := range describeService(t, p).Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	for _, want := range []string{
		"(service web) registered 1 targets in (target-group " + tgARN + ")",
		"(service web) deregistered 1 targets in (target-group " + tgARN + ")",
		"has begun draining connections on 1 tasks.",
	} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("no event %q in\n%s", want, strings.Join(msgs, "\n"))
		}
	}
}

// TestELBHealthCheckFailuresTripTheBreaker: tasks whose targets fail the
// target group's health checks are stopped with ECS's reason, count
// toward the circuit breaker, and the deployment rolls back.
func TestELBHealthCheckFailuresTripTheBreaker(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{Runtime: "process", NoFsync: true})
	tgARN, _ := balancer(t, p, 0)
	v1 := registerDemo(t, p.client(), "v1", nil)
	loadBalancedService(t, p, v1, tgARN)
	waitCompleted(t, p, 2*time.Minute)
	if _, err := p.client().UpdateService(context.Background(), &ecs.UpdateServiceInput{Service: aws.String("web"),
		TaskDefinition: aws.String(registerDemo(t, p.client(), "v2", map[string]string{"DEMO_HEALTH": "fail"}))}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var svc types.Service
	for {
		svc = describeService(t, p)
		if len(svc.Deployments) == 1 && aws.ToString(svc.Deployments[0].TaskDefinition) == v1 && svc.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
			break
		}
		if time.Now().After(deadline) {
			var msgs []string
			for _, e := range svc.Events {
				msgs = append(msgs, aws.ToTime(e.CreatedAt).Format("15:04:05.000 ")+aws.ToString(e.Message))
			}
			t.Fatalf("no rollback to v1: %+v\nevents:\n%s\n%s", svc.Deployments, strings.Join(msgs, "\n"), p.Logs())
		}
		time.Sleep(500 * time.Millisecond) // polling a real ecsd
	}
	var msgs []string
	for _, e := range svc.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"is unhealthy in (target-group " + tgARN + ")", "deployment failed: tasks failed to start.", "rolling back to deployment"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no event containing %q in\n%s", want, joined)
		}
	}
	stopped, err := p.client().ListTasks(context.Background(), &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) == 0 {
		t.Fatalf("stopped tasks: %v %v", err, stopped)
	}
	tasks, err := p.client().DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: stopped.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	want := "Task failed ELB health checks in (target-group " + tgARN + ")"
	if !slices.ContainsFunc(tasks.Tasks, func(tk types.Task) bool { return aws.ToString(tk.StoppedReason) == want }) {
		t.Errorf("no task stopped with %q", want)
	}
}
