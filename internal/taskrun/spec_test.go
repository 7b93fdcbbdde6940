package taskrun_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/taskrun"
)

// Host ports: as given in bridge and host mode (0 is a dynamic port); in
// awsvpc mode always dynamic, since ecsd's tasks share one address where
// ECS gives each its own.
func TestSpecForHostPorts(t *testing.T) {
	for _, tc := range []struct {
		mode types.NetworkMode
		host *int32
		want int32
	}{
		{types.NetworkModeBridge, nil, 0},
		{types.NetworkModeBridge, aws.Int32(0), 0},
		{types.NetworkModeBridge, aws.Int32(18080), 18080},
		{"", aws.Int32(18080), 18080},
		{types.NetworkModeHost, aws.Int32(8080), 8080},
		{types.NetworkModeAwsvpc, aws.Int32(8080), 0},
		{types.NetworkModeAwsvpc, nil, 0},
	} {
		td := types.TaskDefinition{NetworkMode: tc.mode, ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: tc.host, Protocol: types.TransportProtocolTcp}},
		}}}
		spec := taskrun.SpecFor(types.Task{TaskArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task/default/abc")}, td)
		if got := spec.Containers[0].PortMappings[0].HostPort; got != tc.want {
			t.Errorf("networkMode %q, hostPort %v: spec host port %d, want %d", tc.mode, aws.ToInt32(tc.host), got, tc.want)
		}
		if got := spec.Containers[0].PortMappings[0].Protocol; got != "tcp" {
			t.Errorf("networkMode %q: protocol %q, want tcp", tc.mode, got)
		}
	}
}
