package elbapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func pathPattern(values ...string) types.RuleCondition {
	return types.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: values}}
}

func hostHeader(values ...string) types.RuleCondition {
	return types.RuleCondition{Field: aws.String("host-header"), Values: values} // the legacy Values form
}

func TestRules(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	api, green := e.targetGroup("api"), e.targetGroup("green")
	for tg, name := range map[string]string{api: "api", green: "green"} {
		b := newBackend(t, name)
		must[*elbv2.RegisterTargetsOutput](t)(e.client.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{b.target()}}))
	}
	l := e.listener(*web.LoadBalancerArn, fixed("404", "no route"))
	rule := func(prio int32, action types.Action, conds ...types.RuleCondition) types.Rule {
		t.Helper()
		return must[*elbv2.CreateRuleOutput](t)(e.client.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(prio), Conditions: conds, Actions: []types.Action{action}})).Rules[0]
	}
	apiRule := rule(10, forward(api), pathPattern("/api/*"))
	hostRule := rule(20, forward(green), hostHeader("green.example", "*.green.example"))
	fixedRule := rule(5, fixed("200", "pong"), pathPattern("/ping"), hostHeader("*"))
	// Both condition forms are answered, as ELBv2 does.
	if c := hostRule.Conditions[0]; c.Values[1] != "*.green.example" || c.HostHeaderConfig.Values[0] != "green.example" || *hostRule.Priority != "20" || aws.ToBool(hostRule.IsDefault) {
		t.Fatalf("host rule: %+v", hostRule)
	}
	if c := apiRule.Conditions[0]; c.Values[0] != "/api/*" || c.PathPatternConfig.Values[0] != "/api/*" {
		t.Fatalf("path rule: %+v", apiRule.Conditions)
	}
	route := func(path, host string) string {
		t.Helper()
		status, body := get(t, listenerURL(l)+path, host)
		return body + " " + strconv.Itoa(status)
	}
	for _, tc := range []struct{ path, host, want string }{
		{"/api/users", "", "api 200"},
		{"/", "green.example", "green 200"},
		{"/x", "a.green.example:8080", "green 200"},
		{"/api/x", "green.example", "api 200"}, // priority 10 before 20
		{"/ping", "", "pong 200"},
		{"/", "", "no route 404"},
	} {
		if got := route(tc.path, tc.host); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}

	rules := must[*elbv2.DescribeRulesOutput](t)(e.client.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})).Rules
	var prios []string
	for _, r := range rules {
		prios = append(prios, *r.Priority)
	}
	if strings.Join(prios, ",") != "5,10,20,default" || !aws.ToBool(rules[3].IsDefault) || *rules[3].Actions[0].FixedResponseConfig.MessageBody != "no route" {
		t.Fatalf("rules: %v %+v", prios, rules[3])
	}
	defaultRule := *rules[3].RuleArn
	prios = nil
	p := elbv2.NewDescribeRulesPaginator(e.client, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn, PageSize: aws.Int32(3)})
	for p.HasMorePages() {
		for _, r := range must[*elbv2.DescribeRulesOutput](t)(p.NextPage(ctx)).Rules {
			prios = append(prios, *r.Priority)
		}
	}
	if strings.Join(prios, ",") != "5,10,20,default" {
		t.Fatalf("paginated rules: %v", prios)
	}

	create := func(in elbv2.CreateRuleInput) func() error {
		return func() error {
			if in.ListenerArn == nil {
				in.ListenerArn = l.ListenerArn
			}
			if in.Priority == nil {
				in.Priority = aws.Int32(30)
			}
			if in.Actions == nil {
				in.Actions = []types.Action{forward(api)}
			}
			_, err := e.client.CreateRule(ctx, &in)
			return err
		}
	}
	for _, tc := range []struct {
		name, want string
		bad        func() error
	}{
		{"priority in use", "PriorityInUse", create(elbv2.CreateRuleInput{Priority: aws.Int32(10), Conditions: []types.RuleCondition{pathPattern("/x")}})},
		{"priority 0", "ValidationError", create(elbv2.CreateRuleInput{Priority: aws.Int32(0), Conditions: []types.RuleCondition{pathPattern("/x")}})},
		{"priority 50001", "ValidationError", create(elbv2.CreateRuleInput{Priority: aws.Int32(50001), Conditions: []types.RuleCondition{pathPattern("/x")}})},
		{"no conditions", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{}})},
		{"http-header", "InvalidConfigurationRequest", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{{Field: aws.String("http-header"),
			HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X"), Values: []string{"y"}}}}})},
		{"unknown field", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{{Field: aws.String("cookie"), Values: []string{"y"}}}})},
		{"values and config", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a"},
			PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/b"}}}}})},
		{"regex", "InvalidConfigurationRequest", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"),
			PathPatternConfig: &types.PathPatternConditionConfig{RegexValues: []string{"^/a$"}}}}})},
		{"six values", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{pathPattern("/1", "/2", "/3", "/4"), hostHeader("a", "b")}})},
		{"field twice", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{pathPattern("/1"), pathPattern("/2")}})},
		{"value too long", "ValidationError", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{pathPattern("/" + strings.Repeat("a", 128))}})},
		{"redirect", "InvalidLoadBalancerAction", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{pathPattern("/x")},
			Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp302}}}})},
		{"unknown target group", "TargetGroupNotFound", create(elbv2.CreateRuleInput{Conditions: []types.RuleCondition{pathPattern("/x")}, Actions: []types.Action{forward(otherID(api))}})},
		{"unknown listener", "ListenerNotFound", create(elbv2.CreateRuleInput{ListenerArn: aws.String(otherID(*l.ListenerArn)), Conditions: []types.RuleCondition{pathPattern("/x")}})},
		{"modify default rule", "OperationNotPermitted", func() error {
			_, err := e.client.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(defaultRule), Actions: []types.Action{forward(api)}})
			return err
		}},
		{"delete default rule", "OperationNotPermitted", func() error {
			_, err := e.client.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(defaultRule)})
			return err
		}},
		{"prioritise default rule", "OperationNotPermitted", func() error {
			_, err := e.client.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: aws.String(defaultRule), Priority: aws.Int32(1)}}})
			return err
		}},
		{"priority clash", "PriorityInUse", func() error {
			_, err := e.client.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: apiRule.RuleArn, Priority: aws.Int32(20)}}})
			return err
		}},
		{"unknown rule", "RuleNotFound", func() error {
			_, err := e.client.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
				{RuleArn: apiRule.RuleArn, Priority: aws.Int32(7)}, {RuleArn: aws.String(otherID(*apiRule.RuleArn)), Priority: aws.Int32(8)}}})
			return err
		}},
		{"modify with a bad condition", "ValidationError", func() error {
			_, err := e.client.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: apiRule.RuleArn, Conditions: []types.RuleCondition{{Field: aws.String("path-pattern")}}})
			return err
		}},
	} {
		e.unchanged(tc.name, tc.want, tc.bad)
	}

	// Swapping two priorities in one call is fine.
	swapped := must[*elbv2.SetRulePrioritiesOutput](t)(e.client.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: apiRule.RuleArn, Priority: aws.Int32(20)}, {RuleArn: hostRule.RuleArn, Priority: aws.Int32(10)}}}))
	if len(swapped.Rules) != 2 || *swapped.Rules[0].RuleArn != *hostRule.RuleArn || *swapped.Rules[0].Priority != "10" {
		t.Fatalf("swapped: %+v", swapped.Rules)
	}
	if got := route("/api/x", "green.example"); got != "green 200" {
		t.Fatalf("after the swap the host rule comes first: %q", got)
	}
	// ModifyRule replaces conditions and actions.
	mod := must[*elbv2.ModifyRuleOutput](t)(e.client.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: apiRule.RuleArn,
		Conditions: []types.RuleCondition{pathPattern("/v2/*")}, Actions: []types.Action{fixed("201", "v2")}})).Rules[0]
	if *mod.Priority != "20" || mod.Conditions[0].Values[0] != "/v2/*" {
		t.Fatalf("modified: %+v", mod)
	}
	if got := route("/v2/a", ""); got != "v2 201" {
		t.Fatalf("modified rule: %q", got)
	}
	if got := route("/api/a", ""); got != "no route 404" {
		t.Fatalf("old condition: %q", got)
	}
	must[*elbv2.DeleteRuleOutput](t)(e.client.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: fixedRule.RuleArn}))
	if got := route("/ping", ""); got != "no route 404" {
		t.Fatalf("deleted rule still routes: %q", got)
	}
	_, err := e.client.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: fixedRule.RuleArn})
	wantCode(t, err, "RuleNotFound")
	_, err = e.client.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{*fixedRule.RuleArn}})
	wantCode(t, err, "RuleNotFound")
	byARN := must[*elbv2.DescribeRulesOutput](t)(e.client.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{defaultRule, *hostRule.RuleArn}}))
	if len(byARN.Rules) != 2 || *byARN.Rules[0].Priority != "10" || *byARN.Rules[1].Priority != "default" {
		t.Fatalf("by ARN: %+v", byARN.Rules)
	}
	// A group that only a rule uses cannot be deleted either.
	e.unchanged("delete a group a rule uses", "ResourceInUse", func() error {
		_, err := e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(green)})
		return err
	})
	// Deleting the listener deletes its rules.
	must[*elbv2.DeleteListenerOutput](t)(e.client.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: l.ListenerArn}))
	_, err = e.client.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{*hostRule.RuleArn}})
	wantCode(t, err, "RuleNotFound")
	must[*elbv2.DeleteTargetGroupOutput](t)(e.client.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(green)}))
}
