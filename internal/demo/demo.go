package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/cli"
	"github.com/ecsd/ecsd/internal/ecsdproc"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Options configure a demo run.
type Options struct {
	// ECSD is the ecsd binary the demo starts privately (usually
	// os.Executable()).
	ECSD string
	// Runtime is the private ecsd's --runtime: auto, docker or process.
	Runtime string
	// ListenerPort is the port the demo's load balancer listener asks for;
	// when it is taken the demo asks for a free one instead (ecsd itself
	// refuses a listener on a taken port).
	ListenerPort int32
	Out          io.Writer
}

const (
	region   = "us-east-1"
	service  = "demo"
	replicas = 4
)

// Run runs the demo; it returns an error when a step did not end as the
// demo expects (the summary says which).
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Runtime == "" {
		opts.Runtime = "auto"
	}
	if opts.ListenerPort == 0 {
		opts.ListenerPort = 8080
	}
	out := opts.Out
	dir, err := os.MkdirTemp("", "ecsd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	say(out, "Starting a private ecsd (runtime %s, data in %s)", opts.Runtime, dir)
	logPath := filepath.Join(dir, "ecsd.log")
	d, err := ecsdproc.Start(ctx, ecsdproc.Options{Bin: opts.ECSD, DataDir: filepath.Join(dir, "data"), Region: region,
		Runtime: opts.Runtime, Args: []string{"--log-level", "warn"}, LogFile: logPath})
	if err != nil {
		return fmt.Errorf("the private ecsd: %w", err)
	}
	defer func() {
		// Tasks being drained or stopped would outlive ecsd: wait for them.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		d.StopTasks(ctx)
		cancel()
		d.Stop()
		say(out, "Stopped the private ecsd; everything the demo made is gone.")
	}()
	say(out, "ecsd answers the ECS and ELBv2 APIs at %s", d.Endpoint)

	env := &demoEnv{dir: dir, out: out}
	env.ecs = ecs.NewFromConfig(d.AWSConfig())
	env.elb = elb.NewFromConfig(d.AWSConfig())
	defer env.cleanup()
	if err := env.loadBalancer(ctx, opts.ListenerPort); err != nil {
		return err
	}
	if err := env.writeConfig(); err != nil {
		return err
	}
	restore := setenv(map[string]string{
		"AWS_ENDPOINT_URL": d.Endpoint, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo",
		"AWS_CONFIG_FILE": filepath.Join(dir, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-aws-credentials"),
		"DEMO_TARGET_GROUP_ARN": env.tgARN,
		"VERSION":               "", "CRASH_AFTER": "", // set per step below
	})
	defer restore()

	results := []*result{}
	run := func(name, version, crash, expect string, wantCode int) *result {
		os.Setenv("VERSION", version)
		os.Setenv("CRASH_AFTER", crash)
		say(out, "%s", name)
		r := &result{name: name, expect: expect, wantCode: wantCode}
		start := time.Now()
		r.code = cli.Run([]string{"deploy", "--config", filepath.Join(dir, "ecspresso.yml")}, out, out)
		r.took = time.Since(start)
		results = append(results, r)
		return r
	}

	if r := run("1. Create the service: "+fmt.Sprint(replicas)+" tasks of v1 behind the load balancer", "v1", "", "deployed", cli.ExitOK); !r.ok() {
		summary(out, results, "", env.url)
		return fmt.Errorf("creating the service failed (exit %d); the private ecsd's log: %s", r.code, logPath)
	}
	tr := startTraffic(ctx, env.url)
	defer tr.stop()
	r := run("2. Roll to v2 while requests flow through "+env.url, "v2", "", "deployed, no failed request", cli.ExitOK)
	r.traffic = tr.take()
	r = run("3. Deploy v3, which crashes at start: the circuit breaker rolls back to v2", "v3", "0s", "rolled back (exit 2)", cli.ExitFailed)
	time.Sleep(time.Second) // a last look at the traffic after the rollback
	r.traffic = tr.take()
	primary, _ := env.primary(ctx)

	summary(out, results, primary, env.url)
	for _, r := range results {
		if !r.ok() {
			return fmt.Errorf("step %q did not end as expected (exit %d)", r.name, r.code)
		}
	}
	if !strings.HasSuffix(primary, ":2") {
		return fmt.Errorf("after the rollback the service runs %s, not revision 2", primary)
	}
	return nil
}

func say(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "\n==> "+format+"\n", args...)
}

// setenv sets variables and returns a function restoring them as they were
// (unset or their old values).
func setenv(vars map[string]string) func() {
	old := map[string]*string{}
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}

// demoEnv holds what the demo created, for its steps and its clean-up.
type demoEnv struct {
	dir   string
	out   io.Writer
	ecs   *ecs.Client
	elb   *elb.Client
	lbARN string
	tgARN string
	lsARN string
	url   string
}

// loadBalancer creates the load balancer, the target group (fast health
// checks, 3 s of draining) and the listener.
func (e *demoEnv) loadBalancer(ctx context.Context, port int32) error {
	say(e.out, "Creating a load balancer, a target group and a listener (ELBv2 API)")
	lb, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("demo"), Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		return fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	e.lbARN = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("demo-web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		return fmt.Errorf("CreateTargetGroup: %w", err)
	}
	e.tgARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := e.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(e.tgARN),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("3")}}}); err != nil {
		return fmt.Errorf("ModifyTargetGroupAttributes: %w", err)
	}
	asked := port
	if !portFree(port) {
		if port = freePort(); port == 0 {
			return fmt.Errorf("port %d is taken and no free port was found for the listener", asked)
		}
	}
	ls, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(e.lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(e.tgARN)}}})
	if err != nil {
		return fmt.Errorf("CreateListener: %w", err)
	}
	e.lsARN = aws.ToString(ls.Listeners[0].ListenerArn)
	got := aws.ToInt32(ls.Listeners[0].Port)
	e.url = fmt.Sprintf("http://127.0.0.1:%d/", got)
	if got != asked {
		fmt.Fprintf(e.out, "port %d is taken; the listener asked for port %d instead\n", asked, got)
	}
	fmt.Fprintf(e.out, "listener: %s  (health checks every 5s, healthy after 2, draining 3s)\n", e.url)
	return nil
}

// portFree says whether 127.0.0.1:port can be bound now.
func portFree(port int32) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// freePort returns a port free now on 127.0.0.1 (0 if none is).
func freePort() int32 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return int32(ln.Addr().(*net.TCPAddr).Port)
}

const (
	configYAML = `region: us-east-1
cluster: default
service: demo
service_definition: ecs-service-def.json
task_definition: ecs-task-def.json
timeout: 5m
`
	taskDefJSON = `{
  "family": "demo",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "ecsd/demoapp:{{ must_env ` + "`VERSION`" + ` }}",
      "memory": 64,
      "essential": true,
      "portMappings": [{ "containerPort": 8080 }],
      "stopTimeout": 5,
      "environment": [
        { "name": "VERSION", "value": "{{ must_env ` + "`VERSION`" + ` }}" },
        { "name": "DEMO_CRASH_AFTER", "value": "{{ env ` + "`CRASH_AFTER` ``" + ` }}" }
      ]
    }
  ]
}
`
	serviceDefJSON = `{
  "desiredCount": 4,
  "launchType": "EC2",
  "loadBalancers": [
    { "targetGroupArn": "{{ must_env ` + "`DEMO_TARGET_GROUP_ARN`" + ` }}", "containerName": "app", "containerPort": 8080 }
  ],
  "deploymentConfiguration": {
    "minimumHealthyPercent": 100,
    "maximumPercent": 200,
    "deploymentCircuitBreaker": { "enable": true, "rollback": true }
  }
}
`
)

// writeConfig writes the ecspresso-style config ecsctl deploys from.
func (e *demoEnv) writeConfig() error {
	for name, body := range map[string]string{"ecspresso.yml": configYAML, "ecs-task-def.json": taskDefJSON, "ecs-service-def.json": serviceDefJSON} {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// primary returns the task definition of the service's PRIMARY deployment.
func (e *demoEnv) primary(ctx context.Context) (string, error) {
	out, err := e.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{service}})
	if err != nil || len(out.Services) == 0 {
		return "", err
	}
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == ecsmodel.DeploymentPrimary {
			return aws.ToString(d.TaskDefinition), nil
		}
	}
	return "", nil
}

// cleanup deletes the service (waiting for its tasks to stop: process
// tasks outlive ecsd otherwise) and the load balancer.
func (e *demoEnv) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	say(e.out, "Cleaning up: deleting the service, its tasks and the load balancer")
	if _, err := e.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String(service), Force: aws.Bool(true)}); err != nil {
		var nf *types.ServiceNotFoundException
		if !errors.As(err, &nf) {
			fmt.Fprintln(e.out, "deleting the service:", err)
		}
	}
	for ctx.Err() == nil {
		l, err := e.ecs.ListTasks(ctx, &ecs.ListTasksInput{})
		if err != nil || len(l.TaskArns) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if e.lsARN != "" {
		e.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(e.lsARN)})
	}
	if e.lbARN != "" {
		e.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(e.lbARN)})
	}
	if e.tgARN != "" {
		e.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(e.tgARN)})
	}
}

// result is one deploy step's outcome.
type result struct {
	name     string
	expect   string
	wantCode int
	code     int
	took     time.Duration
	traffic  *trafficStats
}

func (r *result) ok() bool {
	return r.code == r.wantCode && (r.traffic == nil || r.traffic.failed == 0)
}

func summary(w io.Writer, results []*result, primary, url string) {
	say(w, "Summary")
	for _, r := range results {
		verdict := "as expected"
		if !r.ok() {
			verdict = "NOT as expected"
		}
		fmt.Fprintf(w, "  %-80s %6.1fs  exit %d  %s (%s)\n", r.name, r.took.Seconds(), r.code, verdict, r.expect)
		if t := r.traffic; t != nil {
			fmt.Fprintf(w, "      traffic through %s: %d requests, %d failed; answers: %s\n", url, t.ok+t.failed, t.failed, t.versions())
			if t.lastErr != "" {
				fmt.Fprintf(w, "      last failure: %s\n", t.lastErr)
			}
		}
	}
	fmt.Fprintf(w, "  the service now runs %s\n", primary)
}

// traffic sends requests through the listener one after another.
type traffic struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	cur *trafficStats
}

type trafficStats struct {
	ok, failed int
	seen       map[string]int
	lastErr    string
}

func (s *trafficStats) versions() string {
	keys := make([]string, 0, len(s.seen))
	for k := range s.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, s.seen[k])
	}
	return strings.Join(parts, ", ")
}

// startTraffic sends requests to url until stop.
func startTraffic(ctx context.Context, url string) *traffic {
	t := &traffic{url: url, done: make(chan struct{}), cur: &trafficStats{seen: map[string]int{}}}
	ctx, t.cancel = context.WithCancel(ctx)
	go t.run(ctx)
	return t
}

func (t *traffic) run(ctx context.Context) {
	defer close(t.done)
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		version, err := get(ctx, client, t.url)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		if err != nil {
			t.cur.failed++
			t.cur.lastErr = err.Error()
		} else {
			t.cur.ok++
			t.cur.seen[version]++
		}
		t.mu.Unlock()
	}
}

func get(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return strings.TrimSpace(string(body)), nil
}

// take returns the stats since the last take and starts afresh.
func (t *traffic) take() *trafficStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.cur
	t.cur = &trafficStats{seen: map[string]int{}}
	return s
}

func (t *traffic) stop() {
	t.cancel()
	<-t.done
}
