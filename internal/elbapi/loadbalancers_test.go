package elbapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/elbapi"
)

func TestLoadBalancers(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	if aws.ToString(web.LoadBalancerName) != "web" || web.Type != types.LoadBalancerTypeEnumApplication ||
		web.Scheme != types.LoadBalancerSchemeEnumInternetFacing || web.IpAddressType != types.IpAddressTypeIpv4 ||
		web.State == nil || web.State.Code != types.LoadBalancerStateEnumActive || aws.ToString(web.VpcId) != elbapi.LocalVpcID ||
		web.CreatedTime == nil || !strings.HasSuffix(aws.ToString(web.DNSName), ".us-east-1.elb.localhost") ||
		!strings.HasPrefix(aws.ToString(web.LoadBalancerArn), "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/") {
		t.Fatalf("defaults: %+v", web)
	}
	// Same settings: the same load balancer (CreateLoadBalancer is idempotent).
	again := must[*elbv2.CreateLoadBalancerOutput](t)(e.client.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Type: types.LoadBalancerTypeEnumApplication}))
	if *again.LoadBalancers[0].LoadBalancerArn != *web.LoadBalancerArn {
		t.Fatalf("idempotent create made %s", *again.LoadBalancers[0].LoadBalancerArn)
	}
	sub := must[*elbv2.CreateLoadBalancerOutput](t)(e.client.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("api"), Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})).LoadBalancers[0]
	if len(sub.AvailabilityZones) != 2 || *sub.AvailabilityZones[1].ZoneName != "us-east-1b" || sub.SecurityGroups[0] != "sg-1" || sub.Scheme != types.LoadBalancerSchemeEnumInternal {
		t.Fatalf("subnets: %+v", sub)
	}
	e.loadBalancer("zeta")

	for _, tc := range []struct {
		name, want string
		in         elbv2.CreateLoadBalancerInput
	}{
		{"network type", "InvalidConfigurationRequest", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), Type: types.LoadBalancerTypeEnumNetwork}},
		{"gateway type", "InvalidConfigurationRequest", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), Type: types.LoadBalancerTypeEnumGateway}},
		{"name too long", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String(strings.Repeat("a", 33))}},
		{"name with underscore", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String("a_b")}},
		{"name ending in hyphen", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String("a-")}},
		{"internal- prefix", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String("internal-x")}},
		{"bad scheme", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), Scheme: "public"}},
		{"dualstack", "InvalidConfigurationRequest", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), IpAddressType: types.IpAddressTypeDualstack}},
		{"other scheme, same name", "DuplicateLoadBalancerName", elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Scheme: types.LoadBalancerSchemeEnumInternal}},
		{"duplicate tag keys", "DuplicateTagKeys", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), Tags: []types.Tag{{Key: aws.String("k")}, {Key: aws.String("k")}}}},
		{"aws: tag", "ValidationError", elbv2.CreateLoadBalancerInput{Name: aws.String("n"), Tags: []types.Tag{{Key: aws.String("aws:x")}}}},
	} {
		e.unchanged(tc.name, tc.want, func() error { _, err := e.client.CreateLoadBalancer(ctx, &tc.in); return err })
	}

	all := must[*elbv2.DescribeLoadBalancersOutput](t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}))
	if len(all.LoadBalancers) != 3 || *all.LoadBalancers[0].LoadBalancerName != "api" || all.NextMarker != nil {
		t.Fatalf("describe all: %+v", all)
	}
	// Pagination with PageSize and Marker, through the SDK's paginator.
	var names []string
	p := elbv2.NewDescribeLoadBalancersPaginator(e.client, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		page := must[*elbv2.DescribeLoadBalancersOutput](t)(p.NextPage(ctx))
		pages++
		for _, l := range page.LoadBalancers {
			names = append(names, *l.LoadBalancerName)
		}
	}
	if pages != 3 || strings.Join(names, ",") != "api,web,zeta" {
		t.Fatalf("paginated: %d pages %v", pages, names)
	}
	byName := must[*elbv2.DescribeLoadBalancersOutput](t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}}))
	byARN := must[*elbv2.DescribeLoadBalancersOutput](t)(e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*web.LoadBalancerArn}}))
	if len(byName.LoadBalancers) != 1 || len(byARN.LoadBalancers) != 1 || *byARN.LoadBalancers[0].DNSName != *web.DNSName {
		t.Fatalf("by name %+v, by ARN %+v", byName, byARN)
	}
	_, err := e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
	wantCode(t, err, "LoadBalancerNotFound")
	_, err = e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{strings.Replace(*web.LoadBalancerArn, "us-east-1", "eu-west-1", 1)}})
	wantCode(t, err, "LoadBalancerNotFound")
	_, err = e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{"arn:nope"}})
	wantCode(t, err, "ValidationError")
	_, err = e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})
	wantCode(t, err, "ValidationError")
	_, err = e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Marker: aws.String("!!")})
	wantCode(t, err, "ValidationError")

	must[*elbv2.DeleteLoadBalancerOutput](t)(e.client.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: web.LoadBalancerArn}))
	// Deleting it again succeeds, as in AWS.
	must[*elbv2.DeleteLoadBalancerOutput](t)(e.client.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: web.LoadBalancerArn}))
	_, err = e.client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*web.LoadBalancerArn}})
	wantCode(t, err, "LoadBalancerNotFound")
	// The name is free again, for a new load balancer with a new ARN.
	if n := e.loadBalancer("web"); *n.LoadBalancerArn == *web.LoadBalancerArn {
		t.Fatal("a recreated load balancer reused the old ARN")
	}
}

// Deleting a load balancer deletes its listeners and closes their sockets.
func TestDeleteLoadBalancerClosesListeners(t *testing.T) {
	e := newEnv(t)
	web := e.loadBalancer("web")
	l := e.listener(*web.LoadBalancerArn, fixed("200", "hi"))
	if status, body := get(t, listenerURL(l), ""); status != 200 || body != "hi" {
		t.Fatalf("listener: %d %q", status, body)
	}
	must[*elbv2.DeleteLoadBalancerOutput](t)(e.client.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: web.LoadBalancerArn}))
	if _, err := httpClient.Get(listenerURL(l)); err == nil {
		t.Fatal("the listener still answers after its load balancer was deleted")
	}
	_, err := e.client.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{*l.ListenerArn}})
	wantCode(t, err, "ListenerNotFound")
}
