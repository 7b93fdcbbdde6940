package ecsmodel

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

var acct = Account{Region: "us-east-1", ID: "123456789012"}

func TestARNs(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"cluster", acct.ClusterARN("default"), "arn:aws:ecs:us-east-1:123456789012:cluster/default"},
		{"service", acct.ServiceARN("default", "web"), "arn:aws:ecs:us-east-1:123456789012:service/default/web"},
		{"task", acct.TaskARN("default", "abc"), "arn:aws:ecs:us-east-1:123456789012:task/default/abc"},
		{"container", acct.ContainerARN("default", "abc", "u"), "arn:aws:ecs:us-east-1:123456789012:container/default/abc/u"},
		{"task definition", acct.TaskDefinitionARN("web", 3), "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"},
		{"service deployment", acct.ServiceDeploymentARN("default", "web", "x"), "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/x"},
		{"service revision", acct.ServiceRevisionARN("default", "web", "ecs-svc/123"), "arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/123"},
	} {
		if c.got != c.want {
			t.Errorf("%s ARN = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestParseARN(t *testing.T) {
	a, ok := ParseARN(acct.ServiceARN("default", "web"))
	if !ok {
		t.Fatal("a service ARN does not parse")
	}
	if a.Type != "service" {
		t.Errorf("type = %q, want service", a.Type)
	}
	if !slices.Equal(a.Path, []string{"default", "web"}) {
		t.Errorf("path = %q, want [default web]", a.Path)
	}
	if !acct.Owns(a) {
		t.Errorf("%+v is not owned by %+v", a, acct)
	}
	if (Account{Region: "eu-west-1", ID: acct.ID}).Owns(a) {
		t.Errorf("%+v is owned by another region", a)
	}
	for _, bad := range []string{"", "web", "arn:aws:ecs:us-east-1:1:cluster", "arn:aws:ecs:us-east-1:1:cluster/", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y", "arn:aws:ecs:us-east-1"} {
		if _, ok := ParseARN(bad); ok {
			t.Errorf("ParseARN(%q) is ok, want not", bad)
		}
	}
}

func TestTaskIDFromARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ecs:us-east-1:1:task/default/abc": "abc",
		"arn:aws:ecs:us-east-1:1:task/abc":         "abc",
		"abc":                                      "abc",
	} {
		if got := TaskIDFromARN(arn); got != want {
			t.Errorf("TaskIDFromARN(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	if g := ServiceGroup("web"); g != "service:web" {
		t.Errorf("ServiceGroup = %q", g)
	}
	if s, ok := ServiceOfGroup("service:web"); !ok || s != "web" {
		t.Errorf("ServiceOfGroup(service:web) = %q, %v", s, ok)
	}
	if _, ok := ServiceOfGroup("family:web"); ok {
		t.Error("ServiceOfGroup(family:web) is ok")
	}
	if g := FamilyGroup("web"); g != "family:web" {
		t.Errorf("FamilyGroup = %q", g)
	}
}

func TestIDs(t *testing.T) {
	for _, c := range []struct {
		name, id string
		re       *regexp.Regexp
	}{
		{"task ID", NewTaskID(), regexp.MustCompile(`^[0-9a-f]{32}$`)},
		{"UUID", NewUUID(), regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{"deployment ID", NewDeploymentID(), regexp.MustCompile(`^ecs-svc/[1-9][0-9]{18}$`)},
		{"short ID", NewShortID(), regexp.MustCompile(`^[A-Za-z0-9_-]{21}$`)},
	} {
		if !c.re.MatchString(c.id) {
			t.Errorf("%s %q does not match %s", c.name, c.id, c.re)
		}
	}
}

func TestNewTask(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cl := types.Cluster{ClusterName: aws.String("default"), ClusterArn: aws.String(acct.ClusterARN("default"))}
	td := types.TaskDefinition{
		TaskDefinitionArn:    aws.String(acct.TaskDefinitionARN("web", 1)),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Cpu: 256, Memory: aws.Int32(512)}},
	}
	task := acct.NewTask(Launch{Cluster: cl, TaskDefinition: td, LaunchType: types.LaunchTypeFargate, Group: ServiceGroup("web"), StartedBy: "ecs-svc/1", Now: now})
	arn := aws.ToString(task.TaskArn)
	if want := acct.TaskARN("default", TaskIDFromARN(arn)); arn != want {
		t.Errorf("task ARN = %q, want one under %q", arn, want)
	}
	if s := aws.ToString(task.LastStatus); s != TaskProvisioning {
		t.Errorf("lastStatus = %q, want %s", s, TaskProvisioning)
	}
	if s := aws.ToString(task.DesiredStatus); s != TaskRunning {
		t.Errorf("desiredStatus = %q, want %s", s, TaskRunning)
	}
	if g := aws.ToString(task.Group); g != "service:web" {
		t.Errorf("group = %q", g)
	}
	if s := aws.ToString(task.StartedBy); s != "ecs-svc/1" {
		t.Errorf("startedBy = %q", s)
	}
	if !aws.ToTime(task.CreatedAt).Equal(now) {
		t.Errorf("createdAt = %v, want %v", task.CreatedAt, now)
	}
	if aws.ToString(task.PlatformVersion) != "1.4.0" {
		t.Errorf("Fargate platformVersion = %q", aws.ToString(task.PlatformVersion))
	}
	if task.Tags == nil || task.Overrides == nil || task.Overrides.ContainerOverrides == nil {
		t.Error("tags or overrides are nil, want empty")
	}
	if len(task.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(task.Containers))
	}
	c := task.Containers[0]
	if s := aws.ToString(c.LastStatus); s != ContainerPending {
		t.Errorf("container lastStatus = %q, want %s", s, ContainerPending)
	}
	if m := aws.ToString(c.Memory); m != "512" {
		t.Errorf("container memory = %q, want 512", m)
	}
	if a, ok := ParseARN(aws.ToString(c.ContainerArn)); !ok || a.Type != "container" || len(a.Path) != 3 || a.Path[1] != TaskIDFromARN(arn) {
		t.Errorf("container ARN %q is not under the task", aws.ToString(c.ContainerArn))
	}
}
