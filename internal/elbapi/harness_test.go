package elbapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
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
	"github.com/aws/smithy-go"

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

// check is one health check the API observed.
type check struct {
	tg, target string
	health     lb.TargetHealth
}

// env is a real ecsd endpoint serving ELBv2 over a temporary store, with
// the data plane's clock under the test's control.
type env struct {
	t      *testing.T
	dir    string
	store  *store.Store
	clk    *clock.Fake
	api    *elbapi.API
	live   *lbrun.Runner
	url    string
	client *elbv2.Client
	checks chan check
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: clock.NewFake(time.Time{})}
	st, err := store.OpenWith(e.dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	t.Cleanup(func() { e.store.Close() })
	e.start()
	return e
}

// start builds the load balancers of e.store (lbrun recovers them) and
// the API over them, and serves it.
func (e *env) start() {
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
	e.t.Cleanup(live.Close)
	e.api = elbapi.New(elbapi.Config{Store: e.store, AccountID: account, Clock: e.clk, Logger: logger, Live: live})
	api := e.api
	h := server.New("us-east-1", logger)
	h.HandleQuery(elbapi.Version, api)
	srv := httptest.NewServer(h)
	e.t.Cleanup(srv.Close)
	e.url = srv.URL
	e.client = elbv2.New(elbv2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// restart stops the load balancers (their sockets and health checks) and
// starts new ones and a new API over the same store.
func (e *env) restart() {
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

// code is the AWS error code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("got error %q (%v), want %s", got, err, want)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() == "" {
		t.Fatalf("error %s has no message", want)
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

// raw posts a hand-made form and returns the status and error code.
func (e *env) raw(form string) (int, string, string) {
	e.t.Helper()
	resp, err := http.Post(e.url, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var shape struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != 200 {
		if err := xml.Unmarshal(body, &shape); err != nil {
			e.t.Fatalf("error body is not XML: %s", body)
		}
	}
	return resp.StatusCode, shape.Error.Code, string(body)
}

// snapshot is every ELBv2 description of a region, to prove bad input
// changed nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	var parts []any
	lbs := must[*elbv2.DescribeLoadBalancersOutput](e.t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}))
	parts = append(parts, lbs.LoadBalancers)
	for _, l := range lbs.LoadBalancers {
		ls := must[*elbv2.DescribeListenersOutput](e.t)(e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: l.LoadBalancerArn}))
		parts = append(parts, ls.Listeners)
		for _, li := range ls.Listeners {
			rs := must[*elbv2.DescribeRulesOutput](e.t)(e.client.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: li.ListenerArn}))
			parts = append(parts, rs.Rules)
		}
	}
	tgs := must[*elbv2.DescribeTargetGroupsOutput](e.t)(e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}))
	parts = append(parts, tgs.TargetGroups)
	for _, tg := range tgs.TargetGroups {
		at := must[*elbv2.DescribeTargetGroupAttributesOutput](e.t)(e.client.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn}))
		th := must[*elbv2.DescribeTargetHealthOutput](e.t)(e.client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn}))
		var targets []string
		for _, d := range th.TargetHealthDescriptions {
			targets = append(targets, fmt.Sprintf("%s:%d", *d.Target.Id, *d.Target.Port))
		}
		parts = append(parts, at.Attributes, targets)
	}
	b, err := json.Marshal(parts)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// unchanged runs bad (which must fail with code) and checks nothing changed.
func (e *env) unchanged(name, want string, bad func() error) {
	e.t.Helper()
	before := e.snapshot()
	err := bad()
	if got := code(err); got != want {
		e.t.Errorf("%s: got %q (%v), want %s", name, got, err, want)
	}
	if after := e.snapshot(); after != before {
		e.t.Errorf("%s changed state:\nbefore %s\nafter  %s", name, before, after)
	}
}

// fixture builders

func (e *env) loadBalancer(name string) types.LoadBalancer {
	e.t.Helper()
	out := must[*elbv2.CreateLoadBalancerOutput](e.t)(e.client.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name)}))
	return out.LoadBalancers[0]
}

// targetGroup creates an ip target group with fast health checks
// (interval 5 s, 2 to be healthy) and a deregistration delay of 10 s.
func (e *env) targetGroup(name string) string {
	e.t.Helper()
	out := must[*elbv2.CreateTargetGroupOutput](e.t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2),
	}))
	arn := *out.TargetGroups[0].TargetGroupArn
	must[*elbv2.ModifyTargetGroupAttributesOutput](e.t)(e.client.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(arn), Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("10")}},
	}))
	return arn
}

// listener creates an HTTP listener on a free port forwarding to tgARN
// and returns it.
func (e *env) listener(lbARN string, actions ...types.Action) types.Listener {
	e.t.Helper()
	out := must[*elbv2.CreateListenerOutput](e.t)(e.client.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(int32(freePort(e.t))), DefaultActions: actions,
	}))
	return out.Listeners[0]
}

func forward(tgARN string) types.Action {
	return types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}
}

func fixed(code, body string) types.Action {
	return types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String(code), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}
}

// backend is a real HTTP server on 127.0.0.1 answering name.
type backend struct {
	*httptest.Server
	port int
}

func newBackend(t *testing.T, name string) *backend {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name) }))
	t.Cleanup(srv.Close)
	return &backend{srv, srv.Listener.Addr().(*net.TCPAddr).Port}
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

var httpClient = &http.Client{Timeout: guard, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// get requests url (with an optional Host header) and returns status and body.
func get(t *testing.T, rawURL, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func listenerURL(l types.Listener) string {
	return "http://127.0.0.1:" + strconv.Itoa(int(*l.Port))
}

func health(t *testing.T, c *elbv2.Client, tgARN string, targets ...types.TargetDescription) []types.TargetHealthDescription {
	t.Helper()
	out := must[*elbv2.DescribeTargetHealthOutput](t)(c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN), Targets: targets}))
	return out.TargetHealthDescriptions
}

func state(d types.TargetHealthDescription) string {
	return fmt.Sprintf("%s/%s", d.TargetHealth.State, d.TargetHealth.Reason)
}

// otherID is arn with another resource ID: an ARN that names nothing.
func otherID(arn string) string {
	i := strings.LastIndexByte(arn, '/')
	return arn[:i+1] + "0000000000000000"
}

func portOf(srv *httptest.Server) int { return srv.Listener.Addr().(*net.TCPAddr).Port }

// listenOn takes 127.0.0.1:port.
func listenOn(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
