package elbapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/elbapi"
)

// slowBackend answers "slow" on /slow only when released, and 404 on
// /missing; everything else answers "ok".
type slowBackend struct {
	*backend
	arrived chan struct{}
	release chan struct{}
}

func newSlowBackend(t *testing.T) *slowBackend {
	s := &slowBackend{arrived: make(chan struct{}, 10), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			s.arrived <- struct{}{}
			<-s.release
			fmt.Fprint(w, "slow")
		case "/missing":
			http.NotFound(w, r)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
	})
	s.backend = &backend{srv, portOf(srv)}
	return s
}

// Target health through its life: unused while no listener uses the
// group, initial, healthy after the healthy threshold on the fake clock,
// draining while a request is in flight after deregistration, gone once
// it finishes.
func TestTargetHealthStates(t *testing.T) {
	e := newEnv(t)
	tg := e.targetGroup("web")
	b := newSlowBackend(t)
	must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	if h := e.waitCheck(b.addr()); h.State != "initial" {
		t.Fatalf("after the first check: %+v", h)
	}
	d := health(t, e.client, tg)
	if len(d) != 1 || state(d[0]) != "unused/Target.NotInUse" || *d[0].Target.Id != "127.0.0.1" || *d[0].Target.Port != int32(b.port) {
		t.Fatalf("no listener yet: %+v", d)
	}
	web := e.loadBalancer("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	d = health(t, e.client, tg)
	if state(d[0]) != "initial/Elb.InitialHealthChecking" || *d[0].HealthCheckPort != fmt.Sprint(b.port) || aws.ToString(d[0].TargetHealth.Description) == "" {
		t.Fatalf("in use, one check done: %+v %+v", d[0], d[0].TargetHealth)
	}
	e.clk.Advance(5 * time.Second)
	if h := e.waitCheck(b.addr()); h.State != "healthy" {
		t.Fatalf("after the second check: %+v", h)
	}
	d = health(t, e.client, tg)
	if state(d[0]) != "healthy/" || d[0].TargetHealth.Description != nil {
		t.Fatalf("healthy: %+v", d[0].TargetHealth)
	}
	if status, body := get(t, listenerURL(l)+"/", ""); status != 200 || body != "ok" {
		t.Fatalf("through the listener: %d %q", status, body)
	}

	// A request in flight keeps the deregistered target draining.
	answered := make(chan string, 1)
	go func() {
		resp, err := httpClient.Get(listenerURL(l) + "/slow")
		if err != nil {
			answered <- err.Error()
			return
		}
		defer resp.Body.Close()
		answered <- resp.Status
	}()
	<-b.arrived
	must[*elbv2.DeregisterTargetsOutput](t)(e.client.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	d = health(t, e.client, tg)
	if len(d) != 1 || state(d[0]) != "draining/Target.DeregistrationInProgress" {
		t.Fatalf("deregistered with a request in flight: %+v", d)
	}
	// New requests no longer reach it.
	if status, _ := get(t, listenerURL(l)+"/", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("a request to a group with only a draining target: %d", status)
	}
	done, err := e.live.DeregisterTarget(tg, b.port) // the same draining: its channel
	if err != nil {
		t.Fatal(err)
	}
	close(b.release)
	if got := <-answered; got != "200 OK" {
		t.Fatalf("the in-flight request: %s", got)
	}
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("draining did not end when the request finished")
	}
	if d := health(t, e.client, tg); len(d) != 0 {
		t.Fatalf("after draining: %+v", d)
	}
	_, err = e.client.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}})
	wantCode(t, err, "InvalidTarget")
}

func TestUnhealthyTarget(t *testing.T) {
	e := newEnv(t)
	tg := e.targetGroup("web")
	must[*elbv2.ModifyTargetGroupOutput](t)(e.client.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(tg), HealthCheckPath: aws.String("/missing")}))
	web := e.loadBalancer("web")
	e.listener(*web.LoadBalancerArn, forward(tg))
	b := newSlowBackend(t)
	must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	e.waitCheck(b.addr())
	e.clk.Advance(5 * time.Second)
	if h := e.waitCheck(b.addr()); h.State != "unhealthy" {
		t.Fatalf("after two failed checks: %+v", h)
	}
	d := health(t, e.client, tg)
	if state(d[0]) != "unhealthy/Target.ResponseCodeMismatch" || aws.ToString(d[0].TargetHealth.Description) != "Health checks failed with these codes: [404]" {
		t.Fatalf("unhealthy: %+v", d[0].TargetHealth)
	}
}

func TestRegisterTargetsValidation(t *testing.T) {
	e := newEnv(t)
	ip := e.targetGroup("ip")
	inst := must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("inst"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080)})).TargetGroups[0].TargetGroupArn
	target := func(id string, port int32) []types.TargetDescription {
		td := types.TargetDescription{Id: aws.String(id)}
		if port != 0 {
			td.Port = aws.Int32(port)
		}
		return []types.TargetDescription{td}
	}
	for _, tc := range []struct {
		name, tg, want string
		targets        []types.TargetDescription
	}{
		{"ip outside loopback", ip, "InvalidTarget", target("10.0.0.1", 80)},
		{"ipv6 loopback", ip, "InvalidTarget", target("::1", 80)},
		{"instance id in an ip group", ip, "InvalidTarget", target(elbapi.LocalInstanceID, 80)},
		{"hostname", ip, "InvalidTarget", target("localhost", 80)},
		{"port 0", ip, "ValidationError", []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(0)}}},
		{"port 65536", ip, "ValidationError", target("127.0.0.1", 65536)},
		{"other instance", *inst, "InvalidTarget", target("i-0123456789abcdef0", 80)},
		{"ip in an instance group", *inst, "InvalidTarget", target("127.0.0.1", 80)},
		{"one bad among good", ip, "InvalidTarget", append(target("127.0.0.1", 80), target("192.168.1.1", 80)...)},
		{"unknown group", otherID(ip), "TargetGroupNotFound", target("127.0.0.1", 80)},
	} {
		e.unchanged(tc.name, tc.want, func() error {
			_, err := e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tc.tg), Targets: tc.targets})
			return err
		})
	}
	// The local instance, without a port: the group's port.
	must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: inst, Targets: target(elbapi.LocalInstanceID, 0)}))
	// Any address in 127.0.0.0/8 is fine for an ip group; registering twice is harmless.
	for range 2 {
		must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(ip), Targets: target("127.1.2.3", 9000)}))
	}
	d := health(t, e.client, *inst)
	if len(d) != 1 || *d[0].Target.Id != elbapi.LocalInstanceID || *d[0].Target.Port != 8080 {
		t.Fatalf("instance target: %+v", d)
	}
	d = health(t, e.client, ip)
	if len(d) != 1 || *d[0].Target.Id != "127.1.2.3" || *d[0].Target.Port != 9000 {
		t.Fatalf("ip target: %+v", d)
	}
	// Describing a target that is not registered says so; a malformed one is an error.
	d = health(t, e.client, ip, target("127.0.0.1", 81)...)
	if len(d) != 1 || state(d[0]) != "unused/Target.NotRegistered" {
		t.Fatalf("unregistered target: %+v", d)
	}
	d = health(t, e.client, ip, target("127.1.2.3", 0)...)
	if len(d) != 1 || *d[0].Target.Port != 9000 {
		t.Fatalf("target without a port: every registration of its Id: %+v", d)
	}
	_, err := e.client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(ip), Targets: target("10.1.1.1", 80)})
	wantCode(t, err, "InvalidTarget")
	_, err = e.client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(otherID(ip))})
	wantCode(t, err, "TargetGroupNotFound")
	e.unchanged("deregister an unregistered target", "InvalidTarget", func() error {
		_, err := e.client.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(ip), Targets: append(target("127.1.2.3", 9000), target("127.0.0.1", 1)...)})
		return err
	})
}
