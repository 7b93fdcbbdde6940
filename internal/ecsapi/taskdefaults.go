package ecsapi

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// echoDefaults fills in what ECS reports for the members a registration
// left out, so RegisterTaskDefinition and DescribeTaskDefinition answer as
// ECS does and definition files written from them (ecspresso init, ecsctl
// init) match the ones AWS gives:
//
//   - per container: essential true; cpu 0 (always encoded); empty
//     environment, portMappings, mountPoints, volumesFrom and
//     systemControls lists;
//   - per port mapping: protocol tcp; an unset hostPort is the
//     containerPort with awsvpc, and 0 (a dynamic port) with bridge, the
//     default network mode on Linux; host mode keeps what was sent;
//   - per task definition: empty volumes and placementConstraints,
//     enableFaultInjection false, compatibilities and the
//     requiresAttributes ECS derives from the definition.
func echoDefaults(td *types.TaskDefinition) {
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.Essential == nil {
			c.Essential = aws.Bool(true)
		}
		c.Environment = emptyIfNil(c.Environment)
		c.PortMappings = emptyIfNil(c.PortMappings)
		c.MountPoints = emptyIfNil(c.MountPoints)
		c.VolumesFrom = emptyIfNil(c.VolumesFrom)
		c.SystemControls = emptyIfNil(c.SystemControls)
		for j := range c.PortMappings {
			pm := &c.PortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = types.TransportProtocolTcp
			}
			if pm.HostPort != nil || pm.ContainerPort == nil {
				continue
			}
			switch td.NetworkMode {
			case types.NetworkModeAwsvpc:
				pm.HostPort = aws.Int32(*pm.ContainerPort)
			case "", types.NetworkModeBridge:
				pm.HostPort = aws.Int32(0)
			}
		}
	}
	td.Volumes = emptyIfNil(td.Volumes)
	td.PlacementConstraints = emptyIfNil(td.PlacementConstraints)
	if td.EnableFaultInjection == nil {
		td.EnableFaultInjection = aws.Bool(false)
	}
	td.Compatibilities = compatibilities(*td)
	td.RequiresAttributes = requiresAttributes(*td)
}

// Attributes ECS requires of a container instance for what a task
// definition uses (the well-known ones; ECS derives a few more from
// members ecsd does not run).
const (
	attrDockerAPI118      = "com.amazonaws.ecs.capability.docker-remote-api.1.18"
	attrDockerAPI119      = "com.amazonaws.ecs.capability.docker-remote-api.1.19"
	attrDockerAPI124      = "com.amazonaws.ecs.capability.docker-remote-api.1.24"
	attrTaskENI           = "ecs.capability.task-eni"
	attrTaskIAMRole       = "com.amazonaws.ecs.capability.task-iam-role"
	attrLoggingDriver     = "com.amazonaws.ecs.capability.logging-driver."
	attrExecRoleAwslogs   = "ecs.capability.execution-role-awslogs"
	attrECRAuth           = "com.amazonaws.ecs.capability.ecr-auth"
	attrExecRoleECRPull   = "ecs.capability.execution-role-ecr-pull"
	attrHealthCheck       = "ecs.capability.container-health-check"
	attrContainerOrdering = "ecs.capability.container-ordering"
)

// requiresAttributes lists the container-instance attributes td needs, in
// a stable order, each once.
func requiresAttributes(td types.TaskDefinition) []types.Attribute {
	var names []string
	add := func(ns ...string) {
		for _, n := range ns {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	execRole := aws.ToString(td.ExecutionRoleArn) != ""
	if td.NetworkMode == types.NetworkModeAwsvpc {
		add(attrDockerAPI118, attrTaskENI)
	}
	if aws.ToString(td.TaskRoleArn) != "" {
		add(attrTaskIAMRole)
	}
	for _, c := range td.ContainerDefinitions {
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver != "" {
			add(attrLoggingDriver+string(lc.LogDriver), attrDockerAPI119)
			if lc.LogDriver == types.LogDriverAwslogs && execRole {
				add(attrExecRoleAwslogs)
			}
		}
		if isECRImage(aws.ToString(c.Image)) {
			add(attrECRAuth)
			if execRole {
				add(attrExecRoleECRPull)
			}
		}
		if c.HealthCheck != nil {
			add(attrDockerAPI124, attrHealthCheck)
		}
		if len(c.DependsOn) > 0 {
			add(attrContainerOrdering)
		}
	}
	attrs := make([]types.Attribute, len(names))
	for i, n := range names {
		attrs[i] = types.Attribute{Name: aws.String(n)}
	}
	return attrs
}

// isECRImage reports whether image is in an Amazon ECR private registry
// (ACCOUNT.dkr.ecr.REGION.amazonaws.com/...).
func isECRImage(image string) bool {
	host, _, ok := strings.Cut(image, "/")
	return ok && strings.Contains(host, ".dkr.ecr.") && (strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn"))
}
