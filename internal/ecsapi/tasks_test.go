package ecsapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestRunDescribeListStopTasks(t *testing.T) {
	e := newEnv(t)
	td := registerTD(t, e, "web", "img")
	registerTD(t, e, "batch", "img")
	run := must[*ecs.RunTaskOutput](t)(e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(3), StartedBy: aws.String("ci/job-1")}))
	if len(run.Tasks) != 3 || len(run.Failures) != 0 {
		t.Fatalf("run: %+v", run)
	}
	task := run.Tasks[0]
	arn := aws.ToString(task.TaskArn)
	id := arn[strings.LastIndex(arn, "/")+1:]
	if !strings.HasPrefix(arn, "arn:aws:ecs:us-east-1:123456789012:task/default/") || len(id) != 32 ||
		aws.ToString(task.LastStatus) != "PROVISIONING" || aws.ToString(task.DesiredStatus) != "RUNNING" ||
		aws.ToString(task.TaskDefinitionArn) != td || aws.ToString(task.Group) != "family:web" || len(task.Containers) != 1 ||
		aws.ToString(task.Containers[0].Name) != "app" || aws.ToString(task.Containers[0].LastStatus) != "PENDING" {
		t.Fatalf("task: %+v", task)
	}
	must[*ecs.RunTaskOutput](t)(e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("batch")}))

	d := must[*ecs.DescribeTasksOutput](t)(e.client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{id, arn, "0123456789abcdef0123456789abcdef"}}))
	if len(d.Tasks) != 2 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe: %+v", d)
	}

	all := must[*ecs.ListTasksOutput](t)(e.client.ListTasks(ctx, &ecs.ListTasksInput{}))
	if len(all.TaskArns) != 4 {
		t.Fatalf("list: %v", all.TaskArns)
	}
	byFamily := must[*ecs.ListTasksOutput](t)(e.client.ListTasks(ctx, &ecs.ListTasksInput{Family: aws.String("batch")}))
	byStarter := must[*ecs.ListTasksOutput](t)(e.client.ListTasks(ctx, &ecs.ListTasksInput{StartedBy: aws.String("ci/job-1")}))
	if len(byFamily.TaskArns) != 1 || len(byStarter.TaskArns) != 3 {
		t.Fatalf("filters: family %v startedBy %v", byFamily.TaskArns, byStarter.TaskArns)
	}
	var paged []string
	p := ecs.NewListTasksPaginator(e.client, &ecs.ListTasksInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		paged = append(paged, must[*ecs.ListTasksOutput](t)(p.NextPage(ctx)).TaskArns...)
	}
	if strings.Join(paged, ",") != strings.Join(all.TaskArns, ",") {
		t.Fatalf("pages %v != %v", paged, all.TaskArns)
	}

	stopped := must[*ecs.StopTaskOutput](t)(e.client.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(arn), Reason: aws.String("rolling back")})).Task
	if aws.ToString(stopped.DesiredStatus) != "STOPPED" || stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "rolling back" {
		t.Fatalf("stop: %+v", stopped)
	}
	if l := must[*ecs.ListTasksOutput](t)(e.client.ListTasks(ctx, &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped})); len(l.TaskArns) != 1 || l.TaskArns[0] != arn {
		t.Fatalf("stopped list: %v", l.TaskArns)
	}

	before := e.snapshot()
	_, err := e.client.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String("0123456789abcdef0123456789abcdef")})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(11)})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ghost")})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Cluster: aws.String("ghost")})
	wantError(t, err, "ClusterNotFoundException")
	_, err = e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("ghost")}}}})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.ListTasks(ctx, &ecs.ListTasksInput{Family: aws.String("web"), ServiceName: aws.String("web")})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{}})
	wantError(t, err, "InvalidParameterException")
	if e.snapshot() != before {
		t.Fatal("rejected task calls changed the store")
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	tdARN := registerTD(t, e, "web", "img")
	svcARN := aws.ToString(createService(t, e, "web", "web", 0).ServiceArn)
	taskARN := aws.ToString(must[*ecs.RunTaskOutput](t)(e.client.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web")})).Tasks[0].TaskArn)
	clusterARN := "arn:aws:ecs:us-east-1:123456789012:cluster/default"
	for _, arn := range []string{clusterARN, svcARN, tdARN, taskARN} {
		must[*ecs.TagResourceOutput](t)(e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("owner"), Value: aws.String("me")}}}))
		must[*ecs.TagResourceOutput](t)(e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
		must[*ecs.UntagResourceOutput](t)(e.client.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"owner"}}))
		tags := must[*ecs.ListTagsForResourceOutput](t)(e.client.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).Tags
		var env string
		for _, tg := range tags {
			if aws.ToString(tg.Key) == "owner" {
				t.Errorf("%s: owner tag not removed", arn)
			}
			if aws.ToString(tg.Key) == "env" {
				env = aws.ToString(tg.Value)
			}
		}
		if env != "prod" {
			t.Errorf("%s: env tag %q, want prod (tags %v)", arn, env, tags)
		}
	}
	// Tags show through the describe calls' include.
	ds := must[*ecs.DescribeServicesOutput](t)(e.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}}))
	if len(ds.Services[0].Tags) != 2 { // svc from createService plus env
		t.Fatalf("service tags: %v", ds.Services[0].Tags)
	}
	before := e.snapshot()
	_, err := e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:123456789012:service/default/ghost"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantError(t, err, "ResourceNotFoundException")
	_, err = e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:123456789012:cluster/ghost"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantError(t, err, "ClusterNotFoundException")
	_, err = e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantError(t, err, "InvalidParameterException")
	_, err = e.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(svcARN), Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("b")}}})
	wantError(t, err, "InvalidParameterException")
	if e.snapshot() != before {
		t.Fatal("rejected tag calls changed the store")
	}
}
