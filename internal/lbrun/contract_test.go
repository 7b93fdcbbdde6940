package lbrun_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

// healthChanges collects the keys of target health records written: the
// way the ECS scheduler learns that a target's health changed.
func healthChanges(st *store.Store) chan string {
	ch := make(chan string, 100)
	st.Subscribe(func(cs []store.Change) {
		for _, c := range cs {
			if c.Bucket == store.TargetHealth && !c.Deleted {
				ch <- c.Key
			}
		}
	})
	return ch
}

// The contract the ECS side uses: describe a group, register and
// deregister 127.0.0.1:port, follow its health.
func TestECSContract(t *testing.T) {
	e := newEnv(t)
	changes := healthChanges(e.store)
	tg := e.targetGroup("web")
	info, ok := e.live.TargetGroup(tg)
	if !ok {
		t.Fatal("TargetGroup does not find a created target group")
	}
	if info.ARN != tg || info.Name != "web" || info.TargetType != "ip" || info.Port != 80 {
		t.Errorf("info: %+v", info)
	}
	if len(info.LoadBalancerARNs) != 0 {
		t.Errorf("load balancers of an unused group: %v", info.LoadBalancerARNs)
	}
	web := e.loadBalancer("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	if info, _ := e.live.TargetGroup(tg); len(info.LoadBalancerARNs) != 1 || info.LoadBalancerARNs[0] != *web.LoadBalancerArn {
		t.Errorf("load balancers once a listener forwards to it: %+v", info.LoadBalancerARNs)
	}
	for _, arn := range []string{otherID(tg), "nope", *web.LoadBalancerArn} {
		if _, ok := e.live.TargetGroup(arn); ok {
			t.Errorf("TargetGroup(%q) found something", arn)
		}
	}

	b := newBackend(t, "blue")
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Fatal(err)
	}
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Fatalf("registering twice: %v", err)
	}
	if d := e.health(tg); len(d) != 1 || *d[0].Target.Id != "127.0.0.1" || *d[0].Target.Port != int32(b.port) {
		t.Fatalf("registered through the contract, as described: %+v", d)
	}
	e.waitCheck(b.addr())
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateInitial {
		t.Fatalf("health after one check: %+v %v", h, ok)
	}
	e.clk.Advance(5 * time.Second)
	e.waitCheck(b.addr())
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateHealthy {
		t.Fatalf("health after two checks: %+v %v", h, ok)
	}
	select {
	case key := <-changes:
		if key != "us-east-1/web/"+b.addr() {
			t.Errorf("health record written at %q", key)
		}
	case <-time.After(guard):
		t.Fatal("becoming healthy wrote no health record")
	}

	// Draining with a request in flight ends when the delay (10 s) passes.
	answered := make(chan int, 1)
	go func() {
		status, _, _ := get(listenerURL(l) + "/slow")
		answered <- status // 0: the connection was cut
	}()
	<-b.arrived
	done, err := e.live.DeregisterTarget(tg, b.port)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := e.live.TargetHealth(tg, b.port); !ok || h.State != lb.StateDraining || h.Reason != lb.ReasonDeregistrationInProgress {
		t.Fatalf("draining: %+v %v", h, ok)
	}
	if again, _ := e.live.DeregisterTarget(tg, b.port); again != done {
		t.Error("deregistering a draining target gave another channel")
	}
	if isClosed(done) {
		t.Fatal("draining ended with a request in flight and time not passed")
	}
	e.clk.Advance(10 * time.Second)
	if !closedWithin(done) {
		t.Fatal("draining did not end at the deregistration delay")
	}
	if status := <-answered; status == http.StatusOK {
		t.Fatal("the request in flight at the delay's end was not cut")
	}
	if _, ok := e.live.TargetHealth(tg, b.port); ok {
		t.Fatal("a drained target still has health")
	}
	if d := e.health(tg); len(d) != 0 {
		t.Fatalf("after draining: %+v", d)
	}
	// Unknown targets: an already-closed channel.
	done, err = e.live.DeregisterTarget(tg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !isClosed(done) {
		t.Fatal("deregistering an unknown target gave an open channel")
	}

	// Instance groups register the local instance.
	inst := *must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("inst"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})).TargetGroups[0].TargetGroupArn
	if err := e.live.RegisterTarget(inst, 8080); err != nil {
		t.Fatal(err)
	}
	if d := e.health(inst); len(d) != 1 || *d[0].Target.Id != lbrun.LocalInstanceID || *d[0].Target.Port != 8080 {
		t.Fatalf("instance target: %+v", d)
	}
	if err := e.live.RegisterTarget(otherID(tg), 80); !isNotFound(err) {
		t.Errorf("registering in an unknown group: %v", err)
	}
	if _, err := e.live.DeregisterTarget(otherID(tg), 80); !isNotFound(err) {
		t.Errorf("deregistering from an unknown group: %v", err)
	}
	if err := e.live.RegisterTarget(tg, 0); err == nil {
		t.Error("port 0 was registered")
	}
}

// A target deregistered while it drains cannot be registered again until
// its drain ends.
func TestRegisterWhileDraining(t *testing.T) {
	e := newEnv(t)
	tg := e.targetGroup("web")
	web := e.loadBalancer("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	b := newBackend(t, "blue")
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Fatal(err)
	}
	e.waitCheck(b.addr())
	go get(listenerURL(l) + "/slow")
	<-b.arrived
	done, _ := e.live.DeregisterTarget(tg, b.port)
	if err := e.live.RegisterTarget(tg, b.port); err != lbrun.ErrTargetDraining {
		t.Fatalf("registering a draining target: %v, want ErrTargetDraining", err)
	}
	close(b.release)
	if !closedWithin(done) {
		t.Fatal("the drain did not end when its request finished")
	}
	if err := e.live.RegisterTarget(tg, b.port); err != nil {
		t.Fatalf("registering after the drain: %v", err)
	}
	if status, body, err := get(listenerURL(l)); err != nil || status != http.StatusOK || body != "blue" {
		t.Fatalf("serving after registering again: %d %q %v", status, body, err)
	}
}
