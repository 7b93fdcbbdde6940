package taskrun

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/driver"
)

// SpecFor is what the driver must run for task t of task definition td:
// the containers of td with the task's overrides applied.
func SpecFor(t types.Task, td types.TaskDefinition) driver.TaskSpec {
	spec := driver.TaskSpec{
		TaskARN:  aws.ToString(t.TaskArn),
		Cluster:  clusterName(aws.ToString(t.ClusterArn)),
		Family:   aws.ToString(td.Family),
		Revision: td.Revision,
	}
	var overrides []types.ContainerOverride
	if t.Overrides != nil {
		overrides = t.Overrides.ContainerOverrides
	}
	for _, cd := range td.ContainerDefinitions {
		c := driver.ContainerSpec{
			Name:             aws.ToString(cd.Name),
			Image:            aws.ToString(cd.Image),
			EntryPoint:       cd.EntryPoint,
			Command:          cd.Command,
			Environment:      map[string]string{},
			WorkingDirectory: aws.ToString(cd.WorkingDirectory),
			Essential:        cd.Essential == nil || *cd.Essential,
			StopTimeout:      time.Duration(aws.ToInt32(cd.StopTimeout)) * time.Second,
		}
		for _, kv := range cd.Environment {
			c.Environment[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		for _, o := range overrides {
			if aws.ToString(o.Name) != c.Name {
				continue
			}
			if o.Command != nil {
				c.Command = o.Command
			}
			for _, kv := range o.Environment {
				c.Environment[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
			}
		}
		for _, pm := range cd.PortMappings {
			if pm.ContainerPort == nil {
				continue
			}
			host := aws.ToInt32(pm.HostPort)
			if td.NetworkMode == types.NetworkModeAwsvpc {
				// On ECS each awsvpc task has its own address, where
				// hostPort is the containerPort; here all tasks share
				// the loopback address, so each gets its own port.
				host = 0
			}
			c.PortMappings = append(c.PortMappings, driver.PortMapping{
				ContainerPort: *pm.ContainerPort,
				HostPort:      host,
				Protocol:      strings.ToLower(string(pm.Protocol)),
			})
		}
		if hc := cd.HealthCheck; hc != nil && len(hc.Command) > 0 && hc.Command[0] != "NONE" {
			c.HealthCheck = &driver.HealthCheck{
				Command:     hc.Command,
				Interval:    seconds(hc.Interval),
				Timeout:     seconds(hc.Timeout),
				Retries:     int(aws.ToInt32(hc.Retries)),
				StartPeriod: seconds(hc.StartPeriod),
			}
		}
		for _, d := range cd.DependsOn {
			c.DependsOn = append(c.DependsOn, driver.Dependency{ContainerName: aws.ToString(d.ContainerName), Condition: driver.DependencyCondition(d.Condition)})
		}
		spec.Containers = append(spec.Containers, c)
	}
	return spec
}

func seconds(v *int32) time.Duration { return time.Duration(aws.ToInt32(v)) * time.Second }

func clusterName(arn string) string {
	_, rest, _ := strings.Cut(arn, ":cluster/")
	return rest
}
