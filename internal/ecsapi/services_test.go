package ecsapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func createService(t *testing.T, e *env, name, td string, desired int32) types.Service {
	t.Helper()
	return *must[*ecs.CreateServiceOutput](t)(e.client.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName:    aws.String(name),
		TaskDefinition: aws.String(td),
		DesiredCount:   aws.Int32(desired),
		Tags:           []types.Tag{{Key: aws.String("svc"), Value: aws.String(name)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent:    aws.Int32(50),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
	})).Service
}

func TestCreateAndDescribeService(t *testing.T) {
	e := newEnv(t)
	td := registerTD(t, e, "web", "img:1")
	s := createService(t, e, "web", "web", 4)
	if aws.ToString(s.ServiceArn) != "arn:aws:ecs:us-east-1:123456789012:service/default/web" || aws.ToString(s.Status) != "ACTIVE" ||
		aws.ToString(s.TaskDefinition) != td || s.DesiredCount != 4 || s.LaunchType != types.LaunchTypeEc2 {
		t.Fatalf("created: %+v", s)
	}
	dc := s.DeploymentConfiguration
	if aws.ToInt32(dc.MaximumPercent) != 200 || aws.ToInt32(dc.MinimumHealthyPercent) != 50 || !dc.DeploymentCircuitBreaker.Enable || dc.Strategy != types.DeploymentStrategyRolling {
		t.Fatalf("deployment configuration defaults: %+v", dc)
	}
	if len(s.Deployments) != 1 {
		t.Fatalf("deployments: %+v", s.Deployments)
	}
	d := s.Deployments[0]
	id := aws.ToString(d.Id)
	if !strings.HasPrefix(id, "ecs-svc/") || len(id) != len("ecs-svc/")+19 || aws.ToString(d.Status) != "PRIMARY" ||
		d.RolloutState != types.DeploymentRolloutStateInProgress || aws.ToString(d.RolloutStateReason) != "ECS deployment "+id+" in progress." ||
		d.DesiredCount != 4 || aws.ToString(d.TaskDefinition) != td || d.CreatedAt == nil {
		t.Fatalf("primary deployment: %+v", d)
	}
	_, err := e.client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)})
	wantError(t, err, "InvalidParameterException")

	out := must[*ecs.DescribeServicesOutput](t)(e.client.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Services: []string{"web", "ghost", "arn:aws:ecs:us-east-1:123456789012:service/default/web"},
		Include:  []types.ServiceField{types.ServiceFieldTags},
	}))
	if len(out.Services) != 2 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" ||
		aws.ToString(out.Failures[0].Arn) != "arn:aws:ecs:us-east-1:123456789012:service/default/ghost" || len(out.Services[0].Tags) != 1 {
		t.Fatalf("describe: %+v", out)
	}
	// The JSON carries the zero counts, as ECS's does.
	_, _, body := e.raw(t, "AmazonEC2ContainerServiceV20141113.DescribeServices", `{"services":["web"]}`)
	for _, want := range []string{`"runningCount":0`, `"pendingCount":0`, `"failedTasks":0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("describe-services JSON lacks %s", want)
		}
	}
	_, err = e.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}, Cluster: aws.String("nope")})
	wantError(t, err, "ClusterNotFoundException")
	_, err = e.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: strings.Split("a b c d e f g h i j k", " ")})
	wantError(t, err, "InvalidParameterException")
}

func TestUpdateServiceStartsDeployments(t *testing.T) {
	e := newEnv(t)
	td1 := registerTD(t, e, "web", "img:1")
	td2 := registerTD(t, e, "web", "img:2")
	s := createService(t, e, "web", td1, 2)
	first := aws.ToString(s.Deployments[0].Id)

	// Scale only: same deployment, new desired count.
	s = *must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(3)})).Service
	if len(s.Deployments) != 1 || s.Deployments[0].DesiredCount != 3 || s.DesiredCount != 3 {
		t.Fatalf("scale: %+v", s.Deployments)
	}
	// New task definition: a new PRIMARY, the old one ACTIVE.
	s = *must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).Service
	if len(s.Deployments) != 2 || aws.ToString(s.Deployments[0].Status) != "PRIMARY" || aws.ToString(s.Deployments[0].TaskDefinition) != td2 ||
		aws.ToString(s.Deployments[1].Status) != "ACTIVE" || aws.ToString(s.Deployments[1].Id) != first || aws.ToString(s.TaskDefinition) != td2 {
		t.Fatalf("new task definition: %+v", s.Deployments)
	}
	// Same task definition again: nothing new unless forced.
	s = *must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(td2)})).Service
	if len(s.Deployments) != 2 {
		t.Fatalf("same task definition started a deployment: %+v", s.Deployments)
	}
	s = *must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), ForceNewDeployment: true})).Service
	if len(s.Deployments) != 3 || aws.ToString(s.Deployments[1].Status) != "ACTIVE" {
		t.Fatalf("force: %+v", s.Deployments)
	}

	before := e.snapshot()
	for _, tc := range []struct {
		in   *ecs.UpdateServiceInput
		want string
	}{
		{&ecs.UpdateServiceInput{Service: aws.String("ghost")}, "ServiceNotFoundException"},
		{&ecs.UpdateServiceInput{Service: aws.String("web"), Cluster: aws.String("ghost")}, "ClusterNotFoundException"},
		{&ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("nope:1")}, "InvalidParameterException"},
		{&ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(-1)}, "InvalidParameterException"},
		{&ecs.UpdateServiceInput{Service: aws.String("web"), DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(101)}}, "InvalidParameterException"},
		{&ecs.UpdateServiceInput{Service: aws.String("web"), DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen}}, "UnsupportedFeatureException"},
	} {
		_, err := e.client.UpdateService(ctx, tc.in)
		wantError(t, err, tc.want)
	}
	if e.snapshot() != before {
		t.Fatal("rejected updates changed the store")
	}
}

func TestCreateServiceValidationChangesNothing(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	before := e.snapshot()
	base := func() *ecs.CreateServiceInput {
		return &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*ecs.CreateServiceInput)
		want   string
	}{
		{"bad name", func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("a/b") }, "InvalidParameterException"},
		{"no cluster", func(in *ecs.CreateServiceInput) { in.Cluster = aws.String("ghost") }, "ClusterNotFoundException"},
		{"no task definition", func(in *ecs.CreateServiceInput) { in.TaskDefinition = aws.String("ghost") }, "InvalidParameterException"},
		{"no desired count", func(in *ecs.CreateServiceInput) { in.DesiredCount = nil }, "InvalidParameterException"},
		{"negative desired", func(in *ecs.CreateServiceInput) { in.DesiredCount = aws.Int32(-2) }, "InvalidParameterException"},
		{"max below 100", func(in *ecs.CreateServiceInput) {
			in.DeploymentConfiguration = &types.DeploymentConfiguration{MaximumPercent: aws.Int32(90)}
		}, "InvalidParameterException"},
		{"bad threshold type", func(in *ecs.CreateServiceInput) {
			in.DeploymentConfiguration = &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, ThresholdConfiguration: &types.ThresholdConfiguration{Type: "SOME", Value: 3}}}
		}, "InvalidParameterException"},
		{"fargate on an EC2 definition", func(in *ecs.CreateServiceInput) { in.LaunchType = types.LaunchTypeFargate }, "InvalidParameterException"},
		{"missing target group", func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
		}, "InvalidParameterException"},
		{"target group without load balancer", func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String(lonelyTG), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
		}, "InvalidParameterException"},
		{"blank target group", func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
		}, "InvalidParameterException"},
		{"load balancer container missing", func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String(webTG), ContainerName: aws.String("ghost"), ContainerPort: aws.Int32(8080)}}
		}, "InvalidParameterException"},
		{"load balancer port not mapped", func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String(webTG), ContainerName: aws.String("app"), ContainerPort: aws.Int32(9090)}}
		}, "InvalidParameterException"},
		{"daemon", func(in *ecs.CreateServiceInput) { in.SchedulingStrategy = types.SchedulingStrategyDaemon }, "UnsupportedFeatureException"},
		{"code deploy", func(in *ecs.CreateServiceInput) {
			in.DeploymentController = &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy}
		}, "UnsupportedFeatureException"},
	} {
		in := base()
		tc.mutate(in)
		_, err := e.client.CreateService(ctx, in)
		if got := errorType(err); got != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, got, err, tc.want)
		}
	}
	if e.snapshot() != before {
		t.Fatal("rejected creates changed the store")
	}
}

func TestListServicesPaginates(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	for i := range 12 {
		createService(t, e, fmt.Sprintf("s%02d", i), "web", 0)
	}
	first := must[*ecs.ListServicesOutput](t)(e.client.ListServices(ctx, &ecs.ListServicesInput{}))
	if len(first.ServiceArns) != 10 || first.NextToken == nil {
		t.Fatalf("default page: %d %v", len(first.ServiceArns), first.NextToken)
	}
	second := must[*ecs.ListServicesOutput](t)(e.client.ListServices(ctx, &ecs.ListServicesInput{NextToken: first.NextToken}))
	if len(second.ServiceArns) != 2 || second.NextToken != nil || second.ServiceArns[1] != "arn:aws:ecs:us-east-1:123456789012:service/default/s11" {
		t.Fatalf("second page: %v %v", second.ServiceArns, second.NextToken)
	}
	ec2 := must[*ecs.ListServicesOutput](t)(e.client.ListServices(ctx, &ecs.ListServicesInput{LaunchType: types.LaunchTypeFargate}))
	if len(ec2.ServiceArns) != 0 {
		t.Fatalf("launchType filter: %v", ec2.ServiceArns)
	}
}

func TestDeleteServiceDrains(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	createService(t, e, "web", "web", 2)
	_, err := e.client.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web")})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")})
	wantError(t, err, "ClusterContainsServicesException")

	s := must[*ecs.DeleteServiceOutput](t)(e.client.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web"), Force: aws.Bool(true)})).Service
	if aws.ToString(s.Status) != "DRAINING" || s.DesiredCount != 0 {
		t.Fatalf("delete: %+v", s)
	}
	_, err = e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(1)})
	wantError(t, err, "ServiceNotActiveException")
	if err := e.drainer.Pass(); err != nil {
		t.Fatal(err)
	}
	out := must[*ecs.DescribeServicesOutput](t)(e.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}))
	if aws.ToString(out.Services[0].Status) != "INACTIVE" {
		t.Fatalf("after drain: %s", aws.ToString(out.Services[0].Status))
	}
	// The SDK's ServicesInactive waiter agrees.
	if err := ecs.NewServicesInactiveWaiter(e.client).Wait(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}, 5e9); err != nil {
		t.Fatalf("ServicesInactive waiter: %v", err)
	}
	if l := must[*ecs.ListServicesOutput](t)(e.client.ListServices(ctx, &ecs.ListServicesInput{})); len(l.ServiceArns) != 0 {
		t.Fatalf("INACTIVE service listed: %v", l.ServiceArns)
	}
	// The name can be used again, and the cluster can now be deleted once it is gone.
	createService(t, e, "web", "web", 0)
	must[*ecs.DeleteServiceOutput](t)(e.client.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web")}))
	e.drainer.Pass()
	must[*ecs.DeleteClusterOutput](t)(e.client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("default")}))
}

func TestServiceDeployments(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img:1")
	registerTD(t, e, "web", "img:2")
	s := createService(t, e, "web", "web:1", 25)
	s = *must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).Service

	list := must[*ecs.ListServiceDeploymentsOutput](t)(e.client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")}))
	if len(list.ServiceDeployments) != 2 {
		t.Fatalf("list: %+v", list.ServiceDeployments)
	}
	newest, older := list.ServiceDeployments[0], list.ServiceDeployments[1]
	if aws.ToString(newest.ServiceDeploymentArn) != aws.ToString(s.CurrentServiceDeployment) || newest.Status != types.ServiceDeploymentStatusInProgress || older.Status != types.ServiceDeploymentStatusStopped {
		t.Fatalf("statuses: %+v", list.ServiceDeployments)
	}
	if !strings.HasPrefix(aws.ToString(newest.ServiceDeploymentArn), "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/") {
		t.Fatalf("arn: %s", aws.ToString(newest.ServiceDeploymentArn))
	}
	onlyStopped := must[*ecs.ListServiceDeploymentsOutput](t)(e.client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web"), Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusStopped}}))
	if len(onlyStopped.ServiceDeployments) != 1 {
		t.Fatalf("status filter: %+v", onlyStopped.ServiceDeployments)
	}
	p1 := must[*ecs.ListServiceDeploymentsOutput](t)(e.client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web"), MaxResults: aws.Int32(1)}))
	p2 := must[*ecs.ListServiceDeploymentsOutput](t)(e.client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web"), MaxResults: aws.Int32(1), NextToken: p1.NextToken}))
	if len(p1.ServiceDeployments) != 1 || len(p2.ServiceDeployments) != 1 || p2.NextToken != nil ||
		aws.ToString(p1.ServiceDeployments[0].ServiceDeploymentArn) == aws.ToString(p2.ServiceDeployments[0].ServiceDeploymentArn) {
		t.Fatalf("pages: %+v %+v", p1, p2)
	}

	missing := "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/nope"
	d := must[*ecs.DescribeServiceDeploymentsOutput](t)(e.client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{
		ServiceDeploymentArns: []string{aws.ToString(newest.ServiceDeploymentArn), missing},
	}))
	if len(d.ServiceDeployments) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe: %+v", d)
	}
	sd := d.ServiceDeployments[0]
	cb := sd.DeploymentCircuitBreaker
	if cb == nil || cb.Status != types.ServiceDeploymentRollbackMonitorsStatusMonitoring || cb.Threshold != 13 {
		t.Fatalf("circuit breaker: %+v", cb)
	}
	if sd.TargetServiceRevision == nil || sd.TargetServiceRevision.RequestedTaskCount != 25 || len(sd.SourceServiceRevisions) != 1 {
		t.Fatalf("revisions: %+v %+v", sd.TargetServiceRevision, sd.SourceServiceRevisions)
	}
	_, err := e.client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("ghost")})
	wantError(t, err, "ServiceNotFoundException")
}

func TestServiceWithLoadBalancer(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	lbs := []types.LoadBalancer{{TargetGroupArn: aws.String(webTG), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
	out := must[*ecs.CreateServiceOutput](t)(e.client.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1), LoadBalancers: lbs,
		HealthCheckGracePeriodSeconds: aws.Int32(30),
	}))
	if got := out.Service.LoadBalancers; len(got) != 1 || aws.ToString(got[0].TargetGroupArn) != webTG || aws.ToInt32(got[0].ContainerPort) != 8080 {
		t.Fatalf("loadBalancers %+v", got)
	}
	// Changing loadBalancers is validated too, and starts a deployment.
	_, err := e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(lonelyTG), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}})
	if got := errorType(err); got != "InvalidParameterException" || !strings.Contains(err.Error(), "does not have an associated load balancer") {
		t.Fatalf("update to a lonely target group: %v", err)
	}
	up := must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), LoadBalancers: lbs}))
	if len(up.Service.Deployments) != 2 {
		t.Fatalf("a loadBalancers change starts a deployment: %+v", up.Service.Deployments)
	}
}
