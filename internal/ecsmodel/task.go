package ecsmodel

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Launch is what a new task is made from.
type Launch struct {
	Cluster        types.Cluster
	TaskDefinition types.TaskDefinition
	LaunchType     types.LaunchType
	Group          string // ServiceGroup or FamilyGroup, or the caller's own
	StartedBy      string // empty: none
	Overrides      *types.TaskOverride
	Tags           []types.Tag
	Now            time.Time // createdAt
}

// NewTask builds the record of a task about to be launched, as ECS shows it
// before it is placed: PROVISIONING, desired RUNNING, one PENDING container
// per container definition, with a new task ID.
func (a Account) NewTask(l Launch) types.Task {
	id := NewTaskID()
	td := l.TaskDefinition
	clusterName := aws.ToString(l.Cluster.ClusterName)
	arn := a.TaskARN(clusterName, id)
	t := types.Task{
		TaskArn:           aws.String(arn),
		ClusterArn:        l.Cluster.ClusterArn,
		TaskDefinitionArn: td.TaskDefinitionArn,
		LastStatus:        aws.String(TaskProvisioning),
		DesiredStatus:     aws.String(TaskRunning),
		CreatedAt:         aws.Time(l.Now),
		Version:           1,
		LaunchType:        l.LaunchType,
		Cpu:               td.Cpu,
		Memory:            td.Memory,
		Group:             aws.String(l.Group),
		HealthStatus:      types.HealthStatusUnknown,
		Attachments:       []types.Attachment{},
		Tags:              emptyIfNil(l.Tags),
		Overrides:         &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{}, InferenceAcceleratorOverrides: []types.InferenceAcceleratorOverride{}},
	}
	if l.StartedBy != "" {
		t.StartedBy = aws.String(l.StartedBy)
	}
	if l.Overrides != nil {
		o := *l.Overrides
		o.ContainerOverrides = emptyIfNil(o.ContainerOverrides)
		o.InferenceAcceleratorOverrides = emptyIfNil(o.InferenceAcceleratorOverrides)
		t.Overrides = &o
	}
	if l.LaunchType == types.LaunchTypeFargate {
		t.PlatformVersion = aws.String("1.4.0")
		t.PlatformFamily = aws.String("Linux")
	}
	for _, cd := range td.ContainerDefinitions {
		ct := types.Container{
			ContainerArn:      aws.String(a.ContainerARN(clusterName, id, NewUUID())),
			TaskArn:           aws.String(arn),
			Name:              cd.Name,
			Image:             cd.Image,
			LastStatus:        aws.String(ContainerPending),
			NetworkInterfaces: []types.NetworkInterface{},
			HealthStatus:      types.HealthStatusUnknown,
			Cpu:               aws.String(strconv.Itoa(int(cd.Cpu))),
		}
		if cd.Memory != nil {
			ct.Memory = aws.String(strconv.Itoa(int(*cd.Memory)))
		}
		if cd.MemoryReservation != nil {
			ct.MemoryReservation = aws.String(strconv.Itoa(int(*cd.MemoryReservation)))
		}
		t.Containers = append(t.Containers, ct)
	}
	return t
}

// emptyIfNil makes a nil list an empty one, so that it is written as [].
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
