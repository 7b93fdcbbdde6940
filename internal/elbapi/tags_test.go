package elbapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func TestTags(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	tg := e.targetGroup("web")
	l := e.listener(*web.LoadBalancerArn, forward(tg))
	r := must[*elbv2.CreateRuleOutput](t)(e.client.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{pathPattern("/x")}, Actions: []types.Action{forward(tg)}, Tags: []types.Tag{tag("rule", "1")}})).Rules[0]
	arns := []string{*web.LoadBalancerArn, tg, *l.ListenerArn, *r.RuleArn}
	must[*elbv2.AddTagsOutput](t)(e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns, Tags: []types.Tag{tag("env", "dev"), tag("team", "a")}}))
	must[*elbv2.AddTagsOutput](t)(e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns[:1], Tags: []types.Tag{tag("env", "prod")}}))
	must[*elbv2.RemoveTagsOutput](t)(e.client.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: arns[1:2], TagKeys: []string{"team", "absent"}}))
	out := must[*elbv2.DescribeTagsOutput](t)(e.client.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns}))
	var got []string
	for _, d := range out.TagDescriptions {
		var kv []string
		for _, tg := range d.Tags {
			kv = append(kv, *tg.Key+"="+*tg.Value)
		}
		got = append(got, strings.Join(kv, ","))
	}
	if want := "env=prod,team=a|env=dev|env=dev,team=a|rule=1,env=dev,team=a"; strings.Join(got, "|") != want {
		t.Fatalf("tags: %s, want %s", strings.Join(got, "|"), want)
	}

	var fifty []types.Tag
	for i := range 49 { // the load balancer has 2 already
		fifty = append(fifty, tag("k"+strconv.Itoa(i), ""))
	}
	for _, tc := range []struct {
		name, want string
		bad        func() error
	}{
		{"duplicate keys", "DuplicateTagKeys", func() error {
			_, err := e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns, Tags: []types.Tag{tag("a", "1"), tag("a", "2")}})
			return err
		}},
		{"51 tags", "TooManyTags", func() error {
			_, err := e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns[:1], Tags: fifty})
			return err
		}},
		{"aws: prefix", "ValidationError", func() error {
			_, err := e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns, Tags: []types.Tag{tag("aws:x", "1")}})
			return err
		}},
		{"one unknown resource", "TargetGroupNotFound", func() error {
			_, err := e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arns[0], otherID(tg)}, Tags: []types.Tag{tag("new", "1")}})
			return err
		}},
		{"unknown listener", "ListenerNotFound", func() error {
			_, err := e.client.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{otherID(*l.ListenerArn)}, TagKeys: []string{"env"}})
			return err
		}},
		{"not an ARN", "ValidationError", func() error {
			_, err := e.client.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{"web"}, Tags: []types.Tag{tag("new", "1")}})
			return err
		}},
	} {
		e.unchanged(tc.name, tc.want, tc.bad)
	}
	_, err := e.client.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{otherID(*r.RuleArn)}})
	wantCode(t, err, "RuleNotFound")
	_, err = e.client.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{otherID(*web.LoadBalancerArn)}})
	wantCode(t, err, "LoadBalancerNotFound")
}
