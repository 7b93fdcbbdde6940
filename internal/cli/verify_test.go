package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func goodTaskDefinition() *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("ecsd/demoapp:v1"), Memory: aws.Int32(64), Essential: aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
			HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "/ecsd", "demoapp", "check"}, Interval: aws.Int32(5)},
		}},
	}
}

// ngItems renders the NG checks as "item: detail" lines.
func ngItems(checks []check) string {
	var out []string
	for _, c := range checks {
		if c.status != verifyOK {
			out = append(out, fmt.Sprintf("%s %s: %s", c.status, c.item, c.detail))
		}
	}
	return strings.Join(out, "\n")
}

func TestCheckTaskDefinition(t *testing.T) {
	if got := ngItems(checkTaskDefinition(goodTaskDefinition(), nil)); got != "" {
		t.Errorf("a good task definition has NG items:\n%s", got)
	}
	for _, tc := range []struct {
		name   string
		change func(td *ecs.RegisterTaskDefinitionInput, sd *ecs.CreateServiceInput)
		want   string
	}{
		{"no essential container", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Essential = aws.Bool(false)
		}, "no container is essential"},
		{"bad image", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Image = aws.String("Ecsd/DemoApp:v1")
		}, "NG image Ecsd/DemoApp:v1: not a well-formed image reference"},
		{"unrendered template", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Image = aws.String("app:{{ .Tag }}")
		}, "not a well-formed image reference"},
		{"no image", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Image = nil
		}, "no image"},
		{"no memory anywhere", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Memory = nil
		}, "nor the task (memory) sets memory"},
		{"tiny memory", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].Memory = aws.Int32(4)
		}, "below the 6 MiB"},
		{"reservation above limit", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].MemoryReservation = aws.Int32(128)
		}, "memoryReservation 128 is above memory 64"},
		{"containers above the task", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.Memory, td.Cpu = aws.String("0.03125 GB"), aws.String("256")
			td.ContainerDefinitions[0].Cpu = 512
		}, "memory adds up to 64 MiB, more than the task's 32; the containers' cpu adds up to 512 units, more than the task's 256"},
		{"unparsable task size", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.Cpu = aws.String("lots")
		}, `task cpu "lots" is neither a number nor like "1 vCPU"`},
		{"fargate size", func(td *ecs.RegisterTaskDefinitionInput, sd *ecs.CreateServiceInput) {
			td.Cpu, td.Memory = aws.String("1 vCPU"), aws.String("1GB")
			sd.LaunchType = types.LaunchTypeFargate
		}, "Fargate has no task size of cpu 1024 with memory 1024"},
		{"duplicate port", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			c := &td.ContainerDefinitions[0]
			c.PortMappings = append(c.PortMappings, types.PortMapping{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp})
		}, "containerPort 8080/tcp is mapped twice"},
		{"awsvpc host port", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.NetworkMode = types.NetworkModeAwsvpc
			td.ContainerDefinitions[0].PortMappings[0].HostPort = aws.Int32(80)
		}, "hostPort 80 differs from containerPort 8080"},
		{"health check form", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].HealthCheck.Command = []string{"curl", "-f", "http://localhost/"}
		}, `command starts with "curl"; it must start with "CMD" or "CMD-SHELL"`},
		{"health check shell", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].HealthCheck.Command = []string{"CMD-SHELL", "curl", "-f"}
		}, `"CMD-SHELL" takes exactly one shell command string`},
		{"health check timing", func(td *ecs.RegisterTaskDefinitionInput, _ *ecs.CreateServiceInput) {
			td.ContainerDefinitions[0].HealthCheck.Interval = aws.Int32(1)
			td.ContainerDefinitions[0].HealthCheck.Retries = aws.Int32(11)
		}, "interval 1 is outside 5-300; retries 11 is outside 1-10"},
	} {
		td, sd := goodTaskDefinition(), &ecs.CreateServiceInput{}
		tc.change(td, sd)
		if got := ngItems(checkTaskDefinition(td, sd)); !strings.Contains(got, tc.want) {
			t.Errorf("%s: NG items\n%s\nwant one with %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckServiceDefinition(t *testing.T) {
	lb := func(name string, port int32) types.LoadBalancer {
		return types.LoadBalancer{TargetGroupArn: aws.String("arn:tg"), ContainerName: aws.String(name), ContainerPort: aws.Int32(port)}
	}
	for _, tc := range []struct {
		name string
		sd   *ecs.CreateServiceInput
		mode types.NetworkMode
		want string // "" for all OK
	}{
		{"consistent", &ecs.CreateServiceInput{LoadBalancers: []types.LoadBalancer{lb("app", 8080)}}, "", ""},
		{"unknown container", &ecs.CreateServiceInput{LoadBalancers: []types.LoadBalancer{lb("web", 8080)}}, "", "the task definition has no container web"},
		{"unmapped port", &ecs.CreateServiceInput{LoadBalancers: []types.LoadBalancer{lb("app", 80)}}, "", "container app has no portMapping with containerPort 80"},
		{"awsvpc without network", &ecs.CreateServiceInput{}, types.NetworkModeAwsvpc, "no networkConfiguration.awsvpcConfiguration"},
		{"awsvpc with network", &ecs.CreateServiceInput{NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"s"}}}}, types.NetworkModeAwsvpc, ""},
	} {
		td := goodTaskDefinition()
		td.NetworkMode = tc.mode
		got := ngItems(checkServiceDefinition(tc.sd, td))
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: NG items %q, want %q", tc.name, got, tc.want)
		}
	}
}
