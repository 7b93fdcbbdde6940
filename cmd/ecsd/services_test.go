package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

func registerDemo(t *testing.T, c *ecs.Client, version string, env map[string]string) string {
	t.Helper()
	def := types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("ecsd/demoapp:" + version), Memory: aws.Int32(64),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}, StopTimeout: aws.Int32(2),
		Environment: []types.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(version)}},
	}
	for k, v := range env {
		def.Environment = append(def.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{def}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func describeService(t *testing.T, p ecsdProcess) types.Service {
	t.Helper()
	out, err := p.client().DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe: %v %+v\n%s", err, out, p.Logs())
	}
	return out.Services[0]
}

// TestServiceDeploysOnProcessRuntime deploys the demo app as a service with
// real processes: a good rolling deployment completes and the SDK's
// ServicesStable waiter agrees; a crashing revision trips the circuit
// breaker and rolls back to the previous one.
func TestServiceDeploysOnProcessRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{Runtime: "process", HealthyAfter: time.Second, NoFsync: true})
	c := p.client()
	ctx := context.Background()
	v1 := registerDemo(t, c, "v1", nil)
	v2 := registerDemo(t, c, "v2", nil)
	crash := registerDemo(t, c, "v3", map[string]string{"DEMO_CRASH_AFTER": "0s"})
	waiter := ecs.NewServicesStableWaiter(c, func(o *ecs.ServicesStableWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
	stable := func() {
		t.Helper()
		if err := waiter.Wait(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}}, 90*time.Second); err != nil {
			t.Fatalf("ServicesStable: %v\n%s", err, p.Logs())
		}
	}

	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(4),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent:    aws.Int32(50),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stable()

	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(v2)})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(up.Service.Deployments[0].Id)
	stable()
	s := describeService(t, p)
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].Id) != second || aws.ToString(s.Deployments[0].TaskDefinition) != v2 {
		t.Fatalf("after the good deployment: %+v", s.Deployments)
	}
	// Every task of the service answers with v2 now.
	tasks, err := c.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: tasks.TaskArns})
	if err != nil || len(dt.Tasks) != 4 {
		t.Fatalf("tasks: %v %d", err, len(dt.Tasks))
	}
	for _, task := range dt.Tasks {
		if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", hostPort(task))); got != "v2" {
			t.Fatalf("a task answers %q after the v2 deployment", got)
		}
	}
	// The deployment may be COMPLETED a moment after the waiter (which
	// only counts tasks) is satisfied.
	deadline := time.Now().Add(30 * time.Second)
	for describeService(t, p).Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}

	bad, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(crash)})
	if err != nil {
		t.Fatal(err)
	}
	failed := aws.ToString(bad.Service.Deployments[0].Id)
	deadline = time.Now().Add(90 * time.Second)
	for {
		s = describeService(t, p)
		if len(s.Deployments) == 1 && aws.ToString(s.Deployments[0].Id) == second && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted && s.RunningCount == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback: %+v\n%s", s.Deployments, p.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if aws.ToString(s.TaskDefinition) != v2 || aws.ToString(s.Deployments[0].Status) != "PRIMARY" {
		t.Fatalf("after rollback: %s %+v", aws.ToString(s.TaskDefinition), s.Deployments)
	}
	var events []string
	for i := len(s.Events) - 1; i >= 0; i-- {
		events = append(events, aws.ToString(s.Events[i].Message))
	}
	want := []string{
		"(service web) (deployment " + failed + ") deployment failed: tasks failed to start.",
		"(service web) rolling back to deployment " + second + ".",
		"(service web) (deployment " + second + ") deployment completed.",
	}
	i := 0
	for _, e := range events {
		if i < len(want) && e == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("events lack %q in order:\n%s", want[i], strings.Join(events, "\n"))
	}
	sds, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if st := sds.ServiceDeployments[0]; st.Status != types.ServiceDeploymentStatusRollbackSuccessful || aws.ToString(st.StatusReason) != "ECS deployment circuit breaker: tasks failed to start." {
		t.Fatalf("service deployment of the failed revision: %s %q", st.Status, aws.ToString(st.StatusReason))
	}
	stopped, err := c.ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: stopped.TaskArns[:min(len(stopped.TaskArns), 100)]})
	if err != nil {
		t.Fatal(err)
	}
	crashed := 0
	for _, task := range st.Tasks {
		if aws.ToString(task.TaskDefinitionArn) == crash && task.StopCode == types.TaskStopCodeEssentialContainerExited {
			crashed++
		}
	}
	if crashed < 3 {
		t.Fatalf("only %d crashed tasks of the bad revision recorded", crashed)
	}
}
