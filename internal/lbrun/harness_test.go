package lbrun_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/elbapi"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/server"
	"github.com/ecsd/ecsd/internal/store"
)

// guard bounds waits for goroutines; it is a failure deadline, never a
// way to let time pass (health checks and draining run on the fake clock).
const guard = 10 * time.Second

const account = "123456789012"

var ctx = context.Background()

// check is one health check the Runner observed.
type check struct {
	tg, target string
	health     lb.TargetHealth
}

// env is a Runner over a temporary store, driven through a real ELBv2
// endpoint (elbapi), with the data plane's clock under the test's control.
type env struct {
	t      *testing.T
	store  *store.Store
	clk    *clock.Fake
	live   *lbrun.Runner
	client *elbv2.Client
	checks chan check
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	st, err := store.OpenWith(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	t.Cleanup(func() { e.store.Close() })
	e.start()
	return e
}

// start recovers the load balancers of e.store in a new Runner and serves
// the ELBv2 API over it.
func (e *env) start() {
	e.t.Helper()
	e.checks = make(chan check, 1000)
	checks := e.checks
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	live, err := lbrun.New(lbrun.Config{Store: e.store, Clock: e.clk, Logger: logger,
		OnCheck: func(tg, target string, _ lb.ProbeResult, h lb.TargetHealth) { checks <- check{tg, target, h} },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.live = live
	runCtx, stop := context.WithCancel(ctx)
	go live.Run(runCtx)
	e.t.Cleanup(func() {
		stop()
		live.Close()
	})
	h := server.New("us-east-1", logger)
	h.HandleQuery(elbapi.Version, elbapi.New(elbapi.Config{Store: e.store, AccountID: account, Clock: e.clk, Logger: logger, Live: live}))
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	e.client = elbv2.New(elbv2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// restart closes the Runner, as ecsd stopping does, and starts a new one
// (and API) over the same store.
func (e *env) restart() {
	e.t.Helper()
	e.live.Close()
	e.start()
}

// waitCheck waits for the next health check of target (host:port).
func (e *env) waitCheck(target string) lb.TargetHealth {
	e.t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case c := <-e.checks:
			if c.target == target {
				return c.health
			}
		case <-deadline:
			e.t.Fatalf("no health check of %s", target)
		}
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (e *env) loadBalancer(name string) types.LoadBalancer {
	e.t.Helper()
	return must[*elbv2.CreateLoadBalancerOutput](e.t)(e.client.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name)})).LoadBalancers[0]
}

// targetGroup creates an ip target group with fast health checks
// (interval 5 s, 2 to be healthy or unhealthy) and a deregistration delay
// of 10 s.
func (e *env) targetGroup(name string) string {
	e.t.Helper()
	out := must[*elbv2.CreateTargetGroupOutput](e.t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	}))
	arn := *out.TargetGroups[0].TargetGroupArn
	must[*elbv2.ModifyTargetGroupAttributesOutput](e.t)(e.client.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn), Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}},
	}))
	return arn
}

// listener creates an HTTP listener on a free port and returns it.
func (e *env) listener(lbARN string, actions ...types.Action) types.Listener {
	e.t.Helper()
	return must[*elbv2.CreateListenerOutput](e.t)(e.client.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(int32(freePort(e.t))), DefaultActions: actions,
	})).Listeners[0]
}

// health describes the target group's targets through the API.
func (e *env) health(tgARN string) []types.TargetHealthDescription {
	e.t.Helper()
	return must[*elbv2.DescribeTargetHealthOutput](e.t)(e.client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})).TargetHealthDescriptions
}

func forward(tgARN string) types.Action {
	return types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}
}

func fixed(code, body string) types.Action {
	return types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String(code), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}
}

// backend is a real HTTP server on 127.0.0.1 answering its name; a
// request to /slow waits until release is closed.
type backend struct {
	port    int
	arrived chan struct{}
	release chan struct{}
}

func newBackend(t *testing.T, name string) *backend {
	b := &backend{arrived: make(chan struct{}, 10), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			b.arrived <- struct{}{}
			<-b.release
		}
		fmt.Fprint(w, name)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	})
	b.port = srv.Listener.Addr().(*net.TCPAddr).Port
	return b
}

func (b *backend) addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

func (b *backend) target() types.TargetDescription {
	return types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(b.port))}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// listenOn takes 127.0.0.1:port.
func listenOn(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

var httpClient = &http.Client{Timeout: guard, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// get requests url and returns status and body, or an error.
func get(url string) (int, string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func listenerURL(l types.Listener) string {
	return "http://127.0.0.1:" + strconv.Itoa(int(*l.Port))
}

// otherID is arn with another resource ID: an ARN that names nothing.
func otherID(arn string) string {
	i := strings.LastIndexByte(arn, '/')
	return arn[:i+1] + "0000000000000000"
}

// closedWithin says whether ch closes within guard.
func closedWithin(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(guard):
		return false
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

var errNotFound = lbrun.ErrTargetGroupNotFound

func isNotFound(err error) bool { return errors.Is(err, errNotFound) }
