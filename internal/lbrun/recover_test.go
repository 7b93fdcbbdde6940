package lbrun_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

// healthy registers b in tg and runs checks until it is healthy.
func (e *env) healthy(tg string, b *backend) {
	e.t.Helper()
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		e.t.Fatal(err)
	}
	e.waitCheck(b.addr())
	e.clk.Advance(5 * time.Second)
	if h := e.waitCheck(b.addr()); h.State != lb.StateHealthy {
		e.t.Fatalf("after two good checks: %+v", h)
	}
}

// storedGroup reads a target group's record.
func (e *env) storedGroup(name string) store.TargetGroupRecord {
	e.t.Helper()
	var rec store.TargetGroupRecord
	err := e.store.View(func(tx *store.Tx) error {
		_, err := tx.Get(store.TargetGroups, store.Key("us-east-1", name), &rec)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// storedHealth reads the health record of a target of group name.
func (e *env) storedHealth(name, addr string) (store.TargetHealthRecord, bool) {
	e.t.Helper()
	var rec store.TargetHealthRecord
	var found bool
	err := e.store.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(store.TargetHealth, store.Key("us-east-1", name, addr), &rec)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rec, found
}

// After a restart, load balancers come back from the store: target groups
// with their targets in their last known health, listeners on their ports
// with their rules.
func TestRecoverResumesHealthAndListeners(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	b := newBackend(t, "blue")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	must[*elbv2.CreateRuleOutput](t)(e.client.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/teapot"}}}},
		Actions:    []types.Action{fixed("418", "tea")}}))
	e.healthy(tg, b)
	if h, ok := e.storedHealth("web", b.addr()); !ok || h.State != "healthy" || h.TargetGroupARN != tg {
		t.Fatalf("stored health of a healthy target: %+v %v", h, ok)
	}

	e.restart()
	d := e.health(tg)
	if len(d) != 1 {
		t.Fatalf("targets after the restart: %+v", d)
	}
	if d[0].TargetHealth.State != types.TargetHealthStateEnumHealthy {
		t.Errorf("a healthy target after the restart, before healthy-threshold checks: %s/%s, want healthy", d[0].TargetHealth.State, d[0].TargetHealth.Reason)
	}
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateHealthy {
		t.Errorf("TargetHealth after the restart: %+v %v, want healthy", h, ok)
	}
	if status, body, err := get(listenerURL(l)); err != nil || status != 200 || body != "blue" {
		t.Fatalf("forwarding after the restart: %d %q %v", status, body, err)
	}
	if status, body, _ := get(listenerURL(l) + "/teapot"); status != 418 || body != "tea" {
		t.Fatalf("rule after the restart: %d %q", status, body)
	}
	// Checks go on from there.
	e.waitCheck(b.addr())
}

// A stored listener whose port another program took while ecsd was down
// keeps its port: it is reported, retried with back-off, and serves once
// the port is free; everything else serves meanwhile.
func TestListenerPortTakenAtRestart(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	b := newBackend(t, "blue")
	e.healthy(tg, b)
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	moved := e.listener(*web.LoadBalancerArn, fixed("200", "moved"))

	e.live.Close()
	taken := listenOn(t, int(*moved.Port))
	defer taken.Close()
	e.start()

	ports := map[string]int32{}
	for _, x := range must[*elbv2.DescribeListenersOutput](t)(e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: web.LoadBalancerArn})).Listeners {
		ports[*x.ListenerArn] = *x.Port
	}
	if ports[*moved.ListenerArn] != *moved.Port {
		t.Errorf("DescribeListeners after the restart: port %d, want the stored %d (a listener never moves)", ports[*moved.ListenerArn], *moved.Port)
	}
	if err := e.live.ListenerError(*moved.ListenerArn); err == nil {
		t.Error("ListenerError of a listener whose port is taken: nil")
	}
	state := must[*elbv2.DescribeLoadBalancersOutput](t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).LoadBalancers[0].State
	if state.Code != types.LoadBalancerStateEnumActiveImpaired {
		t.Errorf("load balancer state: %s, want active_impaired", state.Code)
	}
	if reason := aws.ToString(state.Reason); !strings.Contains(reason, strconv.Itoa(int(*moved.Port))) || !strings.Contains(reason, "another program") {
		t.Errorf("the impaired reason does not name the port and the cause: %q", reason)
	}
	if status, body, err := get(listenerURL(l)); err != nil || status != 200 || body != "blue" {
		t.Errorf("the other listener after the restart: %d %q %v", status, body, err)
	}

	// The program goes away; the next retry (1 s on the clock) binds it.
	taken.Close()
	e.clk.Advance(time.Second)
	for deadline := time.Now().Add(guard); e.live.ListenerError(*moved.ListenerArn) != nil; time.Sleep(10 * time.Millisecond) { // waiting for the Run goroutine's pass
		if time.Now().After(deadline) {
			t.Fatal("the listener did not bind its port once it was free")
		}
	}
	if status, body, err := get(listenerURL(moved)); err != nil || status != 200 || body != "moved" {
		t.Fatalf("the listener once its port is free: %d %q %v", status, body, err)
	}
	state = must[*elbv2.DescribeLoadBalancersOutput](t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).LoadBalancers[0].State
	if state.Code != types.LoadBalancerStateEnumActive {
		t.Errorf("load balancer state once every listener serves: %s %q", state.Code, aws.ToString(state.Reason))
	}
}

// A drain in progress at a restart goes on after it, until its stored
// deadline; its channel closes then, not before.
func TestDrainResumesAfterRestart(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web") // deregistration delay 10 s
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	b := newBackend(t, "blue")
	e.healthy(tg, b)
	go get(listenerURL(l) + "/slow")
	<-b.arrived
	before, err := e.live.DeregisterTarget(tg, b.port)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(3 * time.Second)

	e.restart()
	if isClosed(before) {
		t.Error("stopping the Runner ended a drain (the next run must resume it)")
	}
	d := e.health(tg)
	if len(d) != 1 || d[0].TargetHealth.State != types.TargetHealthStateEnumDraining {
		t.Fatalf("a draining target after the restart: %+v", d)
	}
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateDraining {
		t.Errorf("TargetHealth of a resumed drain: %+v %v", h, ok)
	}
	done, err := e.live.DeregisterTarget(tg, b.port)
	if err != nil {
		t.Fatal(err)
	}
	if isClosed(done) {
		t.Fatal("a resumed drain ended at once (it has no requests in flight, but 7 s of its delay left)")
	}
	if err := e.live.RegisterTarget(tg, b.port); err != lbrun.ErrTargetDraining {
		t.Errorf("registering a target whose drain resumed: %v, want ErrTargetDraining", err)
	}
	e.clk.Advance(7*time.Second - time.Millisecond)
	if isClosed(done) {
		t.Fatal("the resumed drain ended before its stored deadline")
	}
	e.clk.Advance(time.Millisecond)
	if !closedWithin(done) {
		t.Fatal("the resumed drain did not end at its stored deadline")
	}
	if rec := e.storedGroup("web"); len(rec.Draining) != 0 {
		t.Errorf("an ended drain is still stored: %+v", rec.Draining)
	}
	if d := e.health(tg); len(d) != 0 {
		t.Errorf("targets after the drain: %+v", d)
	}
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Errorf("registering after the drain: %v", err)
	}
}

// A drain whose deadline passed while ecsd was down is over at start.
func TestDrainEndedWhileDown(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	b := newBackend(t, "blue")
	e.healthy(tg, b)
	go get(listenerURL(l) + "/slow")
	<-b.arrived
	if _, err := e.live.DeregisterTarget(tg, b.port); err != nil {
		t.Fatal(err)
	}
	e.live.Close()
	e.clk.Advance(time.Minute)
	e.start()
	if rec := e.storedGroup("web"); len(rec.Draining) != 0 {
		t.Errorf("a drain past its deadline is still stored: %+v", rec.Draining)
	}
	done, err := e.live.DeregisterTarget(tg, b.port)
	if err != nil {
		t.Fatal(err)
	}
	if !isClosed(done) {
		t.Error("the drain of a target whose deadline passed while ecsd was down is still going")
	}
	if _, found := e.storedHealth("web", b.addr()); found {
		t.Error("the health of a drained target is still stored")
	}
}

// Health records follow the targets: deleted when a drain ends, with the
// target group, and at start when they name nothing registered.
func TestHealthRecordsFollowTargets(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	e.listener(*web.LoadBalancerArn, forward(tg))
	b := newBackend(t, "blue")
	e.healthy(tg, b)
	done, _ := e.live.DeregisterTarget(tg, b.port)
	if !closedWithin(done) {
		t.Fatal("an idle target's drain did not end")
	}
	if _, found := e.storedHealth("web", b.addr()); found {
		t.Error("the health of a drained target is still stored")
	}

	spare := e.targetGroup("spare")
	c := newBackend(t, "green")
	e.healthy(spare, c)
	must[*elbv2.DeleteTargetGroupOutput](t)(e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(spare)}))
	if _, found := e.storedHealth("spare", c.addr()); found {
		t.Error("the health of a deleted target group's target is still stored")
	}

	// A record left from an earlier group of the same name is dropped at
	// start and not resumed.
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Fatal(err)
	}
	e.live.Close()
	if err := e.store.Update(func(tx *store.Tx) error {
		return tx.Put(store.TargetHealth, store.Key("us-east-1", "web", b.addr()), &store.TargetHealthRecord{TargetGroupARN: otherID(tg), State: "healthy"})
	}); err != nil {
		t.Fatal(err)
	}
	e.start()
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateInitial {
		t.Errorf("a target whose stored health names another group: %+v %v, want initial", h, ok)
	}
	if _, found := e.storedHealth("web", b.addr()); found {
		t.Error("a health record of another group was not dropped at start")
	}
}
