package elbapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// Operations ecsd does not implement answer an error naming themselves;
// unknown actions and malformed parameters are errors too, all as XML.
func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{})
	wantCode(t, err, "UnsupportedFeatureException")
	if !strings.Contains(err.Error(), "DescribeSSLPolicies") || !strings.Contains(err.Error(), "CreateTargetGroup") {
		t.Errorf("the error should name the operation and what is supported: %v", err)
	}
	_, err = e.client.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String("arn")})
	wantCode(t, err, "UnsupportedFeatureException")

	for _, tc := range []struct {
		form, want string
		status     int
	}{
		{"Action=BrewCoffee&Version=2015-12-01", "InvalidAction", 400},
		{"Action=CreateTargetGroup&Version=2015-12-01&Name=x&Protocol=HTTP&Port=eighty", "ValidationError", 400},
		{"Action=CreateTargetGroup&Version=2015-12-01&Protocol=HTTP&Port=80", "ValidationError", 400}, // no Name
		{"Action=RegisterTargets&Version=2015-12-01&Targets.member.1.Id=127.0.0.1", "ValidationError", 400},
		{"Action=DescribeTargetGroups&Version=2012-06-01", "NoSuchVersion", 400},
		{"Version=2015-12-01", "MissingAction", 400},
		{"Action=CreateLoadBalancer&Version=2015-12-01&Name=caf%E9", "MalformedQueryString", 400}, // not UTF-8
	} {
		status, got, body := e.raw(tc.form)
		if status != tc.status || got != tc.want {
			t.Errorf("%s: got %d %s, want %d %s\n%s", tc.form, status, got, tc.status, tc.want, body)
		}
	}
	// Parameters are decoded as the aws CLI and SDKs send them.
	status, _, body := e.raw("Action=CreateTargetGroup&Version=2015-12-01&Name=raw&Protocol=HTTP&Port=80&Matcher.HttpCode=200-399&Tags.member.1.Key=k&Tags.member.1.Value=v")
	if status != 200 || !strings.Contains(body, "<HttpCode>200-399</HttpCode>") || !strings.Contains(body, `<CreateTargetGroupResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">`) {
		t.Fatalf("raw create: %d %s", status, body)
	}
}
