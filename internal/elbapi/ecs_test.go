package elbapi_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/elbapi"
	"github.com/ecsd/ecsd/internal/lb"
)

type healthEvent struct {
	tg   string
	port int
	h    lb.TargetHealth
}

// The contract the ECS side uses: describe a group, register and
// deregister 127.0.0.1:port, follow its health.
func TestECSContract(t *testing.T) {
	e := newEnv(t)
	events := make(chan healthEvent, 100)
	e.api.OnHealthChange(func(tg string, port int, h lb.TargetHealth) { events <- healthEvent{tg, port, h} })
	tg := e.targetGroup("web")
	info, ok := e.api.TargetGroup(tg)
	if !ok || info.ARN != tg || info.Name != "web" || info.TargetType != "ip" || info.Port != 80 || len(info.LoadBalancerARNs) != 0 {
		t.Fatalf("info: %+v %v", info, ok)
	}
	web := e.loadBalancer("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	if info, _ := e.api.TargetGroup(tg); len(info.LoadBalancerARNs) != 1 || info.LoadBalancerARNs[0] != *web.LoadBalancerArn {
		t.Fatalf("load balancers: %+v", info)
	}
	for _, arn := range []string{otherID(tg), "nope", *web.LoadBalancerArn} {
		if _, ok := e.api.TargetGroup(arn); ok {
			t.Errorf("TargetGroup(%q) found something", arn)
		}
	}

	b := newSlowBackend(t)
	if err := e.api.RegisterTarget(tg, b.port); err != nil {
		t.Fatal(err)
	}
	if err := e.api.RegisterTarget(tg, b.port); err != nil {
		t.Fatalf("registering twice: %v", err)
	}
	d := health(t, e.client, tg)
	if len(d) != 1 || *d[0].Target.Id != "127.0.0.1" || *d[0].Target.Port != int32(b.port) {
		t.Fatalf("registered through the contract: %+v", d)
	}
	e.waitCheck(b.addr())
	if h, ok := e.api.TargetHealth(tg, b.port); !ok || h.State != lb.StateInitial {
		t.Fatalf("health after one check: %+v %v", h, ok)
	}
	e.clk.Advance(5 * time.Second)
	if ev := <-events; ev.tg != tg || ev.port != b.port || ev.h.State != lb.StateHealthy {
		t.Fatalf("event: %+v", ev)
	}
	if h, ok := e.api.TargetHealth(tg, b.port); !ok || h.State != lb.StateHealthy {
		t.Fatalf("healthy: %+v %v", h, ok)
	}

	// Draining with a request in flight ends when the delay (10 s) passes.
	answered := make(chan int, 1)
	go func() {
		resp, err := httpClient.Get(listenerURL(l) + "/slow")
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-b.arrived
	done, err := e.api.DeregisterTarget(tg, b.port)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.h.State != lb.StateDraining || ev.h.Reason != lb.ReasonDeregistrationInProgress {
		t.Fatalf("draining event: %+v", ev)
	}
	if h, ok := e.api.TargetHealth(tg, b.port); !ok || h.State != lb.StateDraining {
		t.Fatalf("draining: %+v %v", h, ok)
	}
	select {
	case <-done:
		t.Fatal("draining ended with a request in flight and time not passed")
	default:
	}
	e.clk.Advance(10 * time.Second)
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("draining did not end at the deregistration delay")
	}
	if status := <-answered; status == http.StatusOK {
		t.Fatal("the request in flight at the delay's end was not cut")
	}
	if _, ok := e.api.TargetHealth(tg, b.port); ok {
		t.Fatal("a drained target still has health")
	}
	if d := health(t, e.client, tg); len(d) != 0 {
		t.Fatalf("after draining: %+v", d)
	}
	// Unknown targets: an already-closed channel.
	done, err = e.api.DeregisterTarget(tg, 1)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("deregistering an unknown target gave an open channel")
	}

	// Instance groups register the local instance.
	inst := *must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("inst"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})).TargetGroups[0].TargetGroupArn
	if err := e.api.RegisterTarget(inst, 8080); err != nil {
		t.Fatal(err)
	}
	if d := health(t, e.client, inst); len(d) != 1 || *d[0].Target.Id != elbapi.LocalInstanceID || *d[0].Target.Port != 8080 {
		t.Fatalf("instance target: %+v", d)
	}
	var ae *awsproto.Error
	if err := e.api.RegisterTarget(otherID(tg), 80); !errors.As(err, &ae) || ae.Type != "TargetGroupNotFound" {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := e.api.DeregisterTarget(otherID(tg), 80); !errors.As(err, &ae) || ae.Type != "TargetGroupNotFound" {
		t.Fatalf("unknown group: %v", err)
	}
	if err := e.api.RegisterTarget(tg, 0); !errors.As(err, &ae) || ae.Type != "ValidationError" {
		t.Fatalf("port 0: %v", err)
	}
}

// After a restart, load balancers come back from the store: target groups
// with their targets and attributes, listeners on their ports with their
// rules.
func TestRecover(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	b := newBackend(t, "blue")
	must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	moved := e.listener(*web.LoadBalancerArn, fixed("200", "moved"))
	must[*elbv2.CreateRuleOutput](t)(e.client.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{pathPattern("/teapot")}, Actions: []types.Action{fixed("418", "tea")}}))
	before := e.snapshot()

	// While ecsd is down, something else takes the second listener's port.
	e.api.Close()
	taken := listenOn(t, int(*moved.Port))
	defer taken.Close()
	e.restart()

	after := must[*elbv2.DescribeListenersOutput](t)(e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: web.LoadBalancerArn})).Listeners
	ports := map[string]int32{}
	for _, x := range after {
		ports[*x.ListenerArn] = *x.Port
	}
	if ports[*l.ListenerArn] != *l.Port || ports[*moved.ListenerArn] == *moved.Port || ports[*moved.ListenerArn] == 0 {
		t.Fatalf("ports after the restart: %v (were %d and %d)", ports, *l.Port, *moved.Port)
	}
	if status, body := get(t, listenerURL(l), ""); status != 200 || body != "blue" {
		t.Fatalf("forwarding after the restart: %d %q", status, body)
	}
	if status, body := get(t, listenerURL(l)+"/teapot", ""); status != 418 || body != "tea" {
		t.Fatalf("rule after the restart: %d %q", status, body)
	}
	moved.Port = aws.Int32(ports[*moved.ListenerArn])
	if status, body := get(t, listenerURL(moved), ""); status != 200 || body != "moved" {
		t.Fatalf("fallback listener after the restart: %d %q", status, body)
	}
	// Health starts over: the target is checked again from initial.
	if h := e.waitCheck(b.addr()); h.State != lb.StateInitial {
		t.Fatalf("first check after the restart: %+v", h)
	}
	// Everything described is as before, but for the port that moved.
	e.api.Close()
	taken.Close()
	e.restart()
	if got := e.snapshot(); got != before {
		t.Fatalf("state after a restart:\n%s\nbefore:\n%s", got, before)
	}
}
