package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// liveService is a service as ECS describes one created from a short
// definition: defaults filled, lists in another order, read-only state.
func liveService() *types.Service {
	return &types.Service{
		ServiceArn:     aws.String("arn:aws:ecs:us-east-1:000000000000:service/default/web"),
		ServiceName:    aws.String("web"),
		ClusterArn:     aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/default"),
		Status:         aws.String("ACTIVE"),
		TaskDefinition: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"),
		DesiredCount:   2,
		RunningCount:   2,
		LaunchType:     types.LaunchTypeFargate,
		CreatedAt:      aws.Time(time.Unix(1700000000, 0)),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent:    aws.Int32(50),
			MaximumPercent:           aws.Int32(200),
			Strategy:                 types.DeploymentStrategyRolling,
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
		DeploymentController:          &types.DeploymentController{Type: types.DeploymentControllerTypeEcs},
		HealthCheckGracePeriodSeconds: aws.Int32(0),
		PlatformVersion:               aws.String("LATEST"),
		PropagateTags:                 types.PropagateTagsNone,
		SchedulingStrategy:            types.SchedulingStrategyReplica,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-b", "subnet-a"}, AssignPublicIp: types.AssignPublicIpDisabled,
		}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("env"), Value: aws.String("prod")}},
		Deployments: []types.Deployment{{
			Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"),
			VolumeConfigurations: []types.ServiceVolumeConfiguration{{Name: aws.String("data")}},
		}},
		Events: []types.ServiceEvent{{Id: aws.String("e1"), Message: aws.String("(service web) has reached a steady state.")}},
	}
}

// localService is the definition that service was created from.
func localService() *ecs.CreateServiceInput {
	return &ecs.CreateServiceInput{
		ServiceName:             aws.String("web"),
		Cluster:                 aws.String("default"),
		LaunchType:              types.LaunchTypeFargate,
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}},
		Tags:                    []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("web")}},
		VolumeConfigurations:    []types.ServiceVolumeConfiguration{{Name: aws.String("data")}},
	}
}

func remoteServiceText(t *testing.T, svc *types.Service, withCount bool) string {
	t.Helper()
	def, err := serviceDefinition(svc)
	if err != nil {
		t.Fatal(err)
	}
	def.DesiredCount = aws.Int32(svc.DesiredCount)
	text, err := serviceDiffText(def, withCount)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestServiceDiffIgnoresDefaultsOrderAndUnsetDesiredCount(t *testing.T) {
	local, err := serviceDiffText(localService(), false)
	if err != nil {
		t.Fatal(err)
	}
	remote := remoteServiceText(t, liveService(), false)
	if d := unifiedDiff("live", "local", remote, local, 3); d != "" {
		t.Fatalf("a definition that matches the live service differs:\n%s", d)
	}
	if strings.Contains(local, "desiredCount") {
		t.Errorf("desiredCount is not in the definition, so it must not be compared:\n%s", local)
	}
}

func TestServiceDiffShowsDesiredCountWhenTheDefinitionHasIt(t *testing.T) {
	def := localService()
	def.DesiredCount = aws.Int32(3)
	local, err := serviceDiffText(def, true)
	if err != nil {
		t.Fatal(err)
	}
	remote := remoteServiceText(t, liveService(), true)
	d := unifiedDiff("arn:aws:ecs:us-east-1:000000000000:service/default/web", "ecs-service-def.json", remote, local, 3)
	for _, want := range []string{
		"--- arn:aws:ecs:us-east-1:000000000000:service/default/web\n",
		"+++ ecs-service-def.json\n",
		`-  "desiredCount": 2,` + "\n",
		`+  "desiredCount": 3,` + "\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
}

func TestServiceDefinitionLeavesOutWhatTheConfigAndDeployerGive(t *testing.T) {
	def, err := serviceDefinition(liveService())
	if err != nil {
		t.Fatal(err)
	}
	b, err := apiJSON(def)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, gone := range []string{"serviceArn", "serviceName", "cluster", "taskDefinition", "desiredCount", "status", "runningCount", "deployments", "events", "createdAt"} {
		if strings.Contains(text, `"`+gone+`"`) {
			t.Errorf("service definition has %s:\n%s", gone, text)
		}
	}
	for _, kept := range []string{`"launchType": "FARGATE"`, `"minimumHealthyPercent": 50`, `"volumeConfigurations"`, `"key": "team"`} {
		if !strings.Contains(text, kept) {
			t.Errorf("service definition lacks %s:\n%s", kept, text)
		}
	}
}

func TestTaskDefinitionDiffNormalises(t *testing.T) {
	local := &ecs.RegisterTaskDefinitionInput{
		Family:      aws.String("web"),
		NetworkMode: types.NetworkModeAwsvpc,
		Cpu:         aws.String("1 vCPU"),
		Memory:      aws.String("2 GB"),
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("sidecar"), Image: aws.String("envoy")},
			{
				Name: aws.String("app"), Image: aws.String("app:v1"),
				Environment:  []types.KeyValuePair{{Name: aws.String("B"), Value: aws.String("2")}, {Name: aws.String("A"), Value: aws.String("1")}},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
			},
		},
		Tags: []types.Tag{{Key: aws.String("z"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}},
	}
	live := &types.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/web:7"),
		Family:            aws.String("web"),
		Revision:          7,
		Status:            types.TaskDefinitionStatusActive,
		Compatibilities:   []types.Compatibility{types.CompatibilityEc2, types.CompatibilityFargate},
		RegisteredAt:      aws.Time(time.Unix(1700000000, 0)),
		NetworkMode:       types.NetworkModeAwsvpc,
		Cpu:               aws.String("1024"),
		Memory:            aws.String("2048"),
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name: aws.String("app"), Image: aws.String("app:v1"), Essential: aws.Bool(true),
				Environment:  []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}, {Name: aws.String("B"), Value: aws.String("2")}},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
			},
			{Name: aws.String("sidecar"), Image: aws.String("envoy"), Essential: aws.Bool(true)},
		},
		Volumes: []types.Volume{},
	}
	liveTags := []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("z"), Value: aws.String("1")}}
	remoteIn, err := taskDefinitionInput(live, liveTags)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := taskDefinitionDiffText(remoteIn)
	if err != nil {
		t.Fatal(err)
	}
	localText, err := taskDefinitionDiffText(local)
	if err != nil {
		t.Fatal(err)
	}
	if d := unifiedDiff("live", "local", remote, localText, 3); d != "" {
		t.Fatalf("equivalent task definitions differ:\n%s", d)
	}
	if strings.Contains(remote, "revision") || strings.Contains(remote, "compatibilities") || strings.Contains(remote, "registeredAt") {
		t.Errorf("read-only members were compared:\n%s", remote)
	}
	if aws.ToString(local.Cpu) != "1 vCPU" || aws.ToString(local.ContainerDefinitions[0].Name) != "sidecar" {
		t.Error("normalising changed the caller's definition")
	}

	local.ContainerDefinitions[1].Image = aws.String("app:v2")
	localText, _ = taskDefinitionDiffText(local)
	d := unifiedDiff("arn:aws:ecs:us-east-1:000000000000:task-definition/web:7", "ecs-task-def.json", remote, localText, 3)
	want := `--- arn:aws:ecs:us-east-1:000000000000:task-definition/web:7
+++ ecs-task-def.json
@@ -13,7 +13,7 @@
         }
       ],
       "essential": true,
-      "image": "app:v1",
+      "image": "app:v2",
       "name": "app",
       "portMappings": [
         {
`
	if d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
	whole := unifiedDiff("a", "b", remote, localText, -1)
	if n := strings.Count(whole, "\n"); n != strings.Count(remote, "\n")+4 {
		t.Errorf("--unified=false should show every line (%d lines), got %d:\n%s", strings.Count(remote, "\n")+4, n, whole)
	}
}

func TestUnitsOf(t *testing.T) {
	for in, want := range map[string]string{"1 vCPU": "1024", "0.25 vcpu": "256", "2 GB": "2048", "0.5GB": "512", "512": "512", "x vCPU": "x vCPU"} {
		unit := "vcpu"
		if strings.Contains(strings.ToLower(in), "gb") {
			unit = "gb"
		}
		if got := unitsOf(in, unit); got != want {
			t.Errorf("unitsOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteDiffColours(t *testing.T) {
	d := "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"
	var plain, colored bytes.Buffer
	writeDiff(&plain, d, false)
	writeDiff(&colored, d, true)
	if plain.String() != d {
		t.Errorf("plain output changed the diff: %q", plain.String())
	}
	want := "\x1b[31m--- a\x1b[0m\n\x1b[32m+++ b\x1b[0m\n@@ -1 +1 @@\n\x1b[31m-x\x1b[0m\n\x1b[32m+y\x1b[0m\n"
	if colored.String() != want {
		t.Errorf("colored:\n%q\nwant\n%q", colored.String(), want)
	}
}

// A minimal bridge-mode file diffs clean against what ECS (and ecsd)
// describe for it, defaults echoed.
func TestTaskDefinitionDiffIgnoresEchoedDefaults(t *testing.T) {
	local := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("app:v1"), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	}
	live := &types.TaskDefinition{
		TaskDefinitionArn:    aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"),
		Family:               aws.String("web"),
		Revision:             1,
		Status:               types.TaskDefinitionStatusActive,
		Compatibilities:      []types.Compatibility{types.CompatibilityEc2},
		RequiresAttributes:   []types.Attribute{},
		EnableFaultInjection: aws.Bool(false),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("app:v1"), Memory: aws.Int32(64), Essential: aws.Bool(true),
			PortMappings:   []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp}},
			Environment:    []types.KeyValuePair{},
			MountPoints:    []types.MountPoint{},
			VolumesFrom:    []types.VolumeFrom{},
			SystemControls: []types.SystemControl{},
		}},
		Volumes:              []types.Volume{},
		PlacementConstraints: []types.TaskDefinitionPlacementConstraint{},
	}
	remoteIn, err := taskDefinitionInput(live, nil)
	if err != nil {
		t.Fatal(err)
	}
	remote, _ := taskDefinitionDiffText(remoteIn)
	localText, _ := taskDefinitionDiffText(local)
	if d := unifiedDiff("live", "local", remote, localText, 3); d != "" {
		t.Fatalf("a minimal file differs from its described defaults:\n%s", d)
	}
	// A host port the file sets is compared.
	local.ContainerDefinitions[0].PortMappings[0].HostPort = aws.Int32(18080)
	localText, _ = taskDefinitionDiffText(local)
	if d := unifiedDiff("live", "local", remote, localText, 3); !strings.Contains(d, `+          "hostPort": 18080`) {
		t.Errorf("a changed hostPort does not show:\n%s", d)
	}
}
