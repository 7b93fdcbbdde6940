package elbapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestTargetGroupDefaults(t *testing.T) {
	e := newEnv(t)
	tg := must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080),
	})).TargetGroups[0]
	if !strings.HasPrefix(*tg.TargetGroupArn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/") || len(strings.TrimPrefix(*tg.TargetGroupArn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/")) != 16 {
		t.Errorf("ARN %s", *tg.TargetGroupArn)
	}
	got := []any{tg.TargetType, tg.Protocol, aws.ToString(tg.ProtocolVersion), aws.ToInt32(tg.Port), aws.ToBool(tg.HealthCheckEnabled), tg.HealthCheckProtocol,
		aws.ToString(tg.HealthCheckPort), aws.ToString(tg.HealthCheckPath), aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthCheckTimeoutSeconds),
		aws.ToInt32(tg.HealthyThresholdCount), aws.ToInt32(tg.UnhealthyThresholdCount), aws.ToString(tg.Matcher.HttpCode), tg.IpAddressType, len(tg.LoadBalancerArns)}
	want := []any{types.TargetTypeEnumInstance, types.ProtocolEnumHttp, "HTTP1", int32(8080), true, types.ProtocolEnumHttp,
		"traffic-port", "/", int32(30), int32(5), int32(5), int32(2), "200", types.TargetGroupIpAddressTypeEnumIpv4, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("default %d: got %v, want %v", i, got[i], want[i])
		}
	}

	// Every health-check member, set.
	full := must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("full"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp, VpcId: aws.String("vpc-1"),
		HealthCheckEnabled: aws.Bool(true), HealthCheckProtocol: types.ProtocolEnumHttp, HealthCheckPort: aws.String("9000"), HealthCheckPath: aws.String("/health"),
		HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(3), HealthyThresholdCount: aws.Int32(3), UnhealthyThresholdCount: aws.Int32(4),
		Matcher: &types.Matcher{HttpCode: aws.String("200-299")}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})).TargetGroups[0]
	if *full.HealthCheckPort != "9000" || *full.HealthCheckPath != "/health" || *full.HealthCheckIntervalSeconds != 10 || *full.HealthCheckTimeoutSeconds != 3 ||
		*full.HealthyThresholdCount != 3 || *full.UnhealthyThresholdCount != 4 || *full.Matcher.HttpCode != "200-299" || *full.VpcId != "vpc-1" || full.TargetType != types.TargetTypeEnumIp {
		t.Errorf("full: %+v", full)
	}
	// CreateTargetGroup with the same settings answers the same group.
	again := must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080)}))
	if *again.TargetGroups[0].TargetGroupArn != *tg.TargetGroupArn {
		t.Errorf("idempotent create: %s", *again.TargetGroups[0].TargetGroupArn)
	}
}

func TestTargetGroupValidation(t *testing.T) {
	e := newEnv(t)
	e.targetGroup("web")
	base := func(f func(in *elbv2.CreateTargetGroupInput)) *elbv2.CreateTargetGroupInput {
		in := &elbv2.CreateTargetGroupInput{Name: aws.String("new"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)}
		f(in)
		return in
	}
	for _, tc := range []struct {
		name, want string
		in         *elbv2.CreateTargetGroupInput
	}{
		{"interval 4", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(4) })},
		{"interval 301", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(301) })},
		{"timeout 1", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckTimeoutSeconds = aws.Int32(1) })},
		{"timeout = interval", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) {
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds = aws.Int32(10), aws.Int32(10)
		})},
		{"healthy 1", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthyThresholdCount = aws.Int32(1) })},
		{"unhealthy 11", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.UnhealthyThresholdCount = aws.Int32(11) })},
		{"matcher 600", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Matcher = &types.Matcher{HttpCode: aws.String("600")} })},
		{"matcher reversed", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Matcher = &types.Matcher{HttpCode: aws.String("299-200")} })},
		{"grpc matcher", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Matcher = &types.Matcher{GrpcCode: aws.String("0")} })},
		{"path without /", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckPath = aws.String("health") })},
		{"health check port 0", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckPort = aws.String("0") })},
		{"health checks off", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckEnabled = aws.Bool(false) })},
		{"HTTPS health check", "UnsupportedProtocol", base(func(in *elbv2.CreateTargetGroupInput) { in.HealthCheckProtocol = types.ProtocolEnumHttps })},
		{"HTTPS", "UnsupportedProtocol", base(func(in *elbv2.CreateTargetGroupInput) { in.Protocol = types.ProtocolEnumHttps })},
		{"TCP", "UnsupportedProtocol", base(func(in *elbv2.CreateTargetGroupInput) { in.Protocol = types.ProtocolEnumTcp })},
		{"no protocol", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Protocol = "" })},
		{"HTTP2", "UnsupportedProtocol", base(func(in *elbv2.CreateTargetGroupInput) { in.ProtocolVersion = aws.String("HTTP2") })},
		{"no port", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Port = nil })},
		{"port 65536", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Port = aws.Int32(65536) })},
		{"lambda", "InvalidConfigurationRequest", base(func(in *elbv2.CreateTargetGroupInput) { in.TargetType = types.TargetTypeEnumLambda })},
		{"alb", "InvalidConfigurationRequest", base(func(in *elbv2.CreateTargetGroupInput) { in.TargetType = types.TargetTypeEnumAlb })},
		{"ipv6", "InvalidConfigurationRequest", base(func(in *elbv2.CreateTargetGroupInput) { in.IpAddressType = types.TargetGroupIpAddressTypeEnumIpv6 })},
		{"bad name", "ValidationError", base(func(in *elbv2.CreateTargetGroupInput) { in.Name = aws.String("-x") })},
		{"same name, other port", "DuplicateTargetGroupName", base(func(in *elbv2.CreateTargetGroupInput) { in.Name = aws.String("web"); in.Port = aws.Int32(81) })},
	} {
		e.unchanged(tc.name, tc.want, func() error { _, err := e.client.CreateTargetGroup(ctx, tc.in); return err })
	}
}

func TestModifyAndDescribeTargetGroups(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.targetGroup("a"), e.targetGroup("b"), e.targetGroup("c")
	mod := must[*elbv2.ModifyTargetGroupOutput](t)(e.client.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{
		TargetGroupArn: aws.String(b), HealthCheckPath: aws.String("/ready"), HealthCheckIntervalSeconds: aws.Int32(60), HealthCheckTimeoutSeconds: aws.Int32(30),
		HealthyThresholdCount: aws.Int32(10), UnhealthyThresholdCount: aws.Int32(10), HealthCheckPort: aws.String("8081"), Matcher: &types.Matcher{HttpCode: aws.String("200,204")},
	})).TargetGroups[0]
	if *mod.HealthCheckPath != "/ready" || *mod.HealthCheckIntervalSeconds != 60 || *mod.HealthCheckTimeoutSeconds != 30 || *mod.HealthCheckPort != "8081" || *mod.Matcher.HttpCode != "200,204" {
		t.Fatalf("modified: %+v", mod)
	}
	// The timeout must stay below the interval, counting members not given.
	e.unchanged("timeout above stored interval", "ValidationError", func() error {
		_, err := e.client.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(b), HealthCheckTimeoutSeconds: aws.Int32(60)})
		return err
	})
	e.unchanged("modify unknown", "TargetGroupNotFound", func() error {
		_, err := e.client.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(otherID(b)), HealthCheckPath: aws.String("/x")})
		return err
	})

	var names []string
	p := elbv2.NewDescribeTargetGroupsPaginator(e.client, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		for _, tg := range must[*elbv2.DescribeTargetGroupsOutput](t)(p.NextPage(ctx)).TargetGroups {
			names = append(names, *tg.TargetGroupName)
		}
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("paginated: %v", names)
	}
	byName := must[*elbv2.DescribeTargetGroupsOutput](t)(e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"c", "a"}}))
	if len(byName.TargetGroups) != 2 || *byName.TargetGroups[0].TargetGroupArn != a || *byName.TargetGroups[1].TargetGroupArn != c {
		t.Fatalf("by name: %+v", byName.TargetGroups)
	}
	_, err := e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{a, a + "0"}})
	wantCode(t, err, "TargetGroupNotFound")
	_, err = e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"a"}, TargetGroupArns: []string{a}})
	wantCode(t, err, "ValidationError")

	// LoadBalancerArns and the LoadBalancerArn filter follow the listeners.
	web := e.loadBalancer("web")
	e.listener(*web.LoadBalancerArn, forward(a))
	byLB := must[*elbv2.DescribeTargetGroupsOutput](t)(e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: web.LoadBalancerArn}))
	if len(byLB.TargetGroups) != 1 || *byLB.TargetGroups[0].TargetGroupArn != a || byLB.TargetGroups[0].LoadBalancerArns[0] != *web.LoadBalancerArn {
		t.Fatalf("by load balancer: %+v", byLB.TargetGroups)
	}
	_, err = e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(*web.LoadBalancerArn + "0")})
	wantCode(t, err, "LoadBalancerNotFound")

	// A group a listener uses cannot be deleted.
	e.unchanged("delete in use", "ResourceInUse", func() error {
		_, err := e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(a)})
		return err
	})
	must[*elbv2.DeleteTargetGroupOutput](t)(e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(c)}))
	must[*elbv2.DeleteTargetGroupOutput](t)(e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(c)}))
	_, err = e.client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{c}})
	wantCode(t, err, "TargetGroupNotFound")
	_, err = e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String("not-an-arn")})
	wantCode(t, err, "ValidationError")
}

func TestTargetGroupAttributes(t *testing.T) {
	e := newEnv(t)
	arn := must[*elbv2.CreateTargetGroupOutput](t)(e.client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})).TargetGroups[0].TargetGroupArn
	attrs := func() map[string]string {
		out := must[*elbv2.DescribeTargetGroupAttributesOutput](t)(e.client.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: arn}))
		m := map[string]string{}
		for _, a := range out.Attributes {
			m[*a.Key] = *a.Value
		}
		return m
	}
	defaults := attrs()
	for k, v := range map[string]string{
		"deregistration_delay.timeout_seconds": "300", "slow_start.duration_seconds": "0", "load_balancing.algorithm.type": "round_robin",
		"stickiness.enabled": "false", "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
		"load_balancing.cross_zone.enabled": "use_load_balancer_configuration", "load_balancing.algorithm.anomaly_mitigation": "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
	} {
		if defaults[k] != v {
			t.Errorf("default %s = %q, want %q", k, defaults[k], v)
		}
	}
	if len(defaults) != 14 {
		t.Errorf("%d attributes: %v", len(defaults), defaults)
	}
	set := func(kv ...string) error {
		var as []types.TargetGroupAttribute
		for i := 0; i < len(kv); i += 2 {
			as = append(as, types.TargetGroupAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := e.client.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: arn, Attributes: as})
		return err
	}
	if err := set("deregistration_delay.timeout_seconds", "0", "load_balancing.algorithm.type", "least_outstanding_requests", "slow_start.duration_seconds", "30", "stickiness.enabled", "true"); err != nil {
		t.Fatal(err)
	}
	if m := attrs(); m["deregistration_delay.timeout_seconds"] != "0" || m["load_balancing.algorithm.type"] != "least_outstanding_requests" || m["slow_start.duration_seconds"] != "30" || m["stickiness.enabled"] != "true" {
		t.Fatalf("after modify: %v", m)
	}
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{"deregistration_delay.timeout_seconds", "3601"}, "ValidationError"},
		{[]string{"deregistration_delay.timeout_seconds", "-1"}, "ValidationError"},
		{[]string{"slow_start.duration_seconds", "10"}, "ValidationError"},
		{[]string{"load_balancing.algorithm.type", "fastest"}, "ValidationError"},
		{[]string{"load_balancing.algorithm.type", "weighted_random"}, "InvalidConfigurationRequest"},
		{[]string{"stickiness.enabled", "yes"}, "ValidationError"},
		{[]string{"no.such.key", "1"}, "ValidationError"},
		// One bad attribute among good ones changes nothing.
		{[]string{"deregistration_delay.timeout_seconds", "5", "stickiness.type", "cookie"}, "ValidationError"},
	} {
		e.unchanged(strings.Join(tc.kv, "="), tc.want, func() error { return set(tc.kv...) })
	}
	_, err := e.client.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(*arn + "0")})
	wantCode(t, err, "TargetGroupNotFound")
}
