package elbapi_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestListeners(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	b := newBackend(t, "blue")
	must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	port := int32(freePort(t))
	create := func(port int32, actions ...types.Action) (*elbv2.CreateListenerOutput, error) {
		return e.client.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: actions})
	}
	l := must[*elbv2.CreateListenerOutput](t)(create(port, forward(tg))).Listeners[0]
	if *l.Port != port || l.Protocol != types.ProtocolEnumHttp || *l.LoadBalancerArn != *web.LoadBalancerArn ||
		len(l.DefaultActions) != 1 || *l.DefaultActions[0].TargetGroupArn != tg || *l.DefaultActions[0].ForwardConfig.TargetGroups[0].Weight != 1 {
		t.Fatalf("listener: %+v", l)
	}
	if status, body := get(t, listenerURL(l), ""); status != 200 || body != "blue" {
		t.Fatalf("forwarded: %d %q", status, body)
	}
	// Same settings: the same listener; other settings on the port: DuplicateListener.
	if again := must[*elbv2.CreateListenerOutput](t)(create(port, forward(tg))).Listeners[0]; *again.ListenerArn != *l.ListenerArn {
		t.Fatalf("idempotent create: %s", *again.ListenerArn)
	}
	for _, tc := range []struct {
		name, want string
		in         elbv2.CreateListenerInput
	}{
		{"duplicate port", "DuplicateListener", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(port), DefaultActions: []types.Action{fixed("200", "x")}}},
		{"HTTPS", "UnsupportedProtocol", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(1), DefaultActions: []types.Action{fixed("200", "x")}}},
		{"TCP", "UnsupportedProtocol", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(1), DefaultActions: []types.Action{fixed("200", "x")}}},
		{"certificate", "InvalidConfigurationRequest", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), Certificates: []types.Certificate{{CertificateArn: aws.String("c")}}, DefaultActions: []types.Action{fixed("200", "x")}}},
		{"no port", "ValidationError", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, DefaultActions: []types.Action{fixed("200", "x")}}},
		{"port 0", "ValidationError", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(0), DefaultActions: []types.Action{fixed("200", "x")}}},
		{"unknown load balancer", "LoadBalancerNotFound", elbv2.CreateListenerInput{LoadBalancerArn: aws.String(otherID(*web.LoadBalancerArn)), Port: aws.Int32(1), DefaultActions: []types.Action{fixed("200", "x")}}},
		{"unknown target group", "TargetGroupNotFound", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{forward(otherID(tg))}}},
		{"redirect", "InvalidLoadBalancerAction", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}}},
		{"two actions", "InvalidLoadBalancerAction", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{fixed("200", "x"), forward(tg)}}},
		{"fixed 302", "ValidationError", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{fixed("302", "x")}}},
		{"no actions", "ValidationError", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{}}},
		{"weight 1000", "ValidationError", elbv2.CreateListenerInput{LoadBalancerArn: web.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward,
			ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(tg), Weight: aws.Int32(1000)}}}}}}},
	} {
		e.unchanged(tc.name, tc.want, func() error { _, err := e.client.CreateListener(ctx, &tc.in); return err })
	}

	// A port another program holds: CreateListener fails, naming the port
	// and what to do; nothing is stored. A listener never moves to
	// another port.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := int32(taken.Addr().(*net.TCPAddr).Port)
	e.unchanged("create on a taken port", "InvalidConfigurationRequest", func() error {
		_, err := create(takenPort, fixed("200", "taken"))
		return err
	})
	_, err = create(takenPort, fixed("200", "taken"))
	for _, want := range []string{fmt.Sprintf("Port %d is not available", takenPort), "another program is listening on it", "choose another port", "stop the program"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error for a taken port does not say %q: %v", want, err)
		}
	}
	// A port another load balancer's listener of this ecsd has.
	other := e.loadBalancer("other")
	e.unchanged("create on another load balancer's listener port", "InvalidConfigurationRequest", func() error {
		_, err := e.client.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: other.LoadBalancerArn, Port: aws.Int32(port), DefaultActions: []types.Action{fixed("200", "x")}})
		if err != nil && !strings.Contains(err.Error(), *l.ListenerArn) {
			t.Errorf("the error does not name the listener on the port: %v", err)
		}
		return err
	})
	second := e.listener(*web.LoadBalancerArn, fixed("200", "second"))

	// ModifyListener: new default action now, new port (a new socket) next.
	mod := must[*elbv2.ModifyListenerOutput](t)(e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, DefaultActions: []types.Action{fixed("503", "maintenance")}})).Listeners[0]
	if status, body := get(t, listenerURL(mod), ""); status != 503 || body != "maintenance" {
		t.Fatalf("after ModifyListener: %d %q", status, body)
	}
	newPort := int32(freePort(t))
	mod = must[*elbv2.ModifyListenerOutput](t)(e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, Port: aws.Int32(newPort)})).Listeners[0]
	if *mod.Port != newPort {
		t.Fatalf("moved to %d, want %d", *mod.Port, newPort)
	}
	if status, body := get(t, listenerURL(mod), ""); status != 503 || body != "maintenance" {
		t.Fatalf("on the new port: %d %q", status, body)
	}
	if _, err := httpClient.Get(listenerURL(l)); err == nil {
		t.Fatal("the old port still answers")
	}
	e.unchanged("modify to another listener's port", "DuplicateListener", func() error {
		_, err := e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, Port: second.Port})
		return err
	})
	e.unchanged("modify to a taken port", "InvalidConfigurationRequest", func() error {
		_, err := e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, Port: aws.Int32(takenPort)})
		return err
	})
	if status, body := get(t, listenerURL(mod), ""); status != 503 || body != "maintenance" {
		t.Fatalf("after a refused move: %d %q", status, body)
	}
	e.unchanged("modify with a bad action", "ValidationError", func() error {
		_, err := e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, DefaultActions: []types.Action{fixed("99", "")}})
		return err
	})

	// Pagination, ordered by port.
	third := e.listener(*web.LoadBalancerArn, fixed("200", "third"))
	var ports []int32
	p := elbv2.NewDescribeListenersPaginator(e.client, &elbv2.DescribeListenersInput{LoadBalancerArn: web.LoadBalancerArn, PageSize: aws.Int32(1)})
	for p.HasMorePages() {
		for _, x := range must[*elbv2.DescribeListenersOutput](t)(p.NextPage(ctx)).Listeners {
			ports = append(ports, *x.Port)
		}
	}
	if len(ports) != 3 {
		t.Fatalf("paginated listeners: %v", ports)
	}
	_, err = e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{})
	wantCode(t, err, "ValidationError")
	_, err = e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{otherID(*l.ListenerArn)}})
	wantCode(t, err, "ListenerNotFound")

	must[*elbv2.DeleteListenerOutput](t)(e.client.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: third.ListenerArn}))
	if _, err := httpClient.Get(listenerURL(third)); err == nil {
		t.Fatal("a deleted listener still answers")
	}
	_, err = e.client.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: third.ListenerArn})
	wantCode(t, err, "ListenerNotFound")

	// A target group serves one load balancer.
	must[*elbv2.ModifyListenerOutput](t)(e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, DefaultActions: []types.Action{forward(tg)}}))
	e.unchanged("target group of another load balancer", "TargetGroupAssociationLimit", func() error {
		_, err := e.client.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: other.LoadBalancerArn, Port: aws.Int32(1), DefaultActions: []types.Action{forward(tg)}})
		return err
	})
}

// Weighted forwarding spreads requests over target groups in exact
// proportion to their weights.
func TestWeightedForwarding(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	blue, green := e.targetGroup("blue"), e.targetGroup("green")
	for tg, name := range map[string]string{blue: "blue", green: "green"} {
		b := newBackend(t, name)
		must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	}
	l := e.listener(*web.LoadBalancerArn, types.Action{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
		{TargetGroupArn: aws.String(blue), Weight: aws.Int32(1)}, {TargetGroupArn: aws.String(green), Weight: aws.Int32(3)},
	}}})
	if l.DefaultActions[0].TargetGroupArn != nil || len(l.DefaultActions[0].ForwardConfig.TargetGroups) != 2 || aws.ToBool(l.DefaultActions[0].ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Fatalf("weighted action: %+v", l.DefaultActions[0].ForwardConfig)
	}
	got := map[string]int{}
	for range 40 {
		_, body := get(t, listenerURL(l), "")
		got[body]++
	}
	if got["blue"] != 10 || got["green"] != 30 {
		t.Fatalf("40 requests at 1:3 went %v", got)
	}
	// Shift all traffic to green.
	must[*elbv2.ModifyListenerOutput](t)(e.client.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward,
		ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(blue), Weight: aws.Int32(0)}, {TargetGroupArn: aws.String(green), Weight: aws.Int32(1)}}}}}}))
	for i := range 5 {
		if _, body := get(t, listenerURL(l), ""); body != "green" {
			t.Fatalf("request %d after shifting to green went to %s", i, body)
		}
	}
	tgs := must[*elbv2.DescribeTargetGroupsOutput](t)(e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{blue}}))
	if fmt.Sprint(tgs.TargetGroups[0].LoadBalancerArns) != fmt.Sprint([]string{*web.LoadBalancerArn}) {
		t.Fatalf("a weight-0 group is still used by the listener: %v", tgs.TargetGroups[0].LoadBalancerArns)
	}
}
