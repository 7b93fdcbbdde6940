package ecsapi

import (
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

var startedByPattern = regexp.MustCompile(`^[a-zA-Z0-9_/-]{1,128}$`)

func (a *API) runTask(c *Call, in *ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
	if aws.ToString(in.TaskDefinition) == "" {
		return nil, invalidParam("taskDefinition is required.")
	}
	count := aws.ToInt32(in.Count)
	if in.Count == nil {
		count = 1
	}
	if count < 1 || count > 10 {
		return nil, invalidParam("count must be between 1 and 10.")
	}
	if sb := aws.ToString(in.StartedBy); sb != "" && !startedByPattern.MatchString(sb) {
		return nil, invalidParam("startedBy can have up to 128 letters (uppercase and lowercase), numbers, hyphens, forward slashes and underscores.")
	}
	if len(aws.ToString(in.Group)) > 255 {
		return nil, invalidParam("group can have at most 255 characters.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.CapacityProviderStrategy) > 0 {
		return nil, unsupported("ecsd clusters have no capacity providers; use launchType instead of capacityProviderStrategy.")
	}
	if len(in.VolumeConfigurations) > 0 {
		return nil, unsupported("ecsd does not provision EBS volumes; remove volumeConfigurations.")
	}
	out := &ecs.RunTaskOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.activeCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		td, err := c.resolveTaskDefinition(tx, aws.ToString(in.TaskDefinition))
		if err != nil {
			return err
		}
		lt := in.LaunchType
		if lt == "" {
			lt = types.LaunchTypeEc2
		}
		if err := checkLaunchType(lt, td, in.NetworkConfiguration); err != nil {
			return err
		}
		if in.Overrides != nil {
			for _, o := range in.Overrides.ContainerOverrides {
				if !slices.ContainsFunc(td.ContainerDefinitions, func(cd types.ContainerDefinition) bool { return aws.ToString(cd.Name) == aws.ToString(o.Name) }) {
					return invalidParam("Override for container named %s is not a container in the TaskDefinition.", aws.ToString(o.Name))
				}
			}
		}
		tags := in.Tags
		if in.PropagateTags == types.PropagateTagsTaskDefinition {
			var rec store.TaskDefinitionRecord
			if _, err := tx.Get(store.TaskDefinitions, store.RevisionKey(c.Region, aws.ToString(td.Family), td.Revision), &rec); err != nil {
				return err
			}
			tags = mergeTags(rec.Tags, tags)
		}
		group := aws.ToString(in.Group)
		if group == "" {
			group = ecsmodel.FamilyGroup(aws.ToString(td.Family))
		}
		for range count {
			t := c.NewTask(ecsmodel.Launch{Cluster: cl, TaskDefinition: td, LaunchType: lt, Group: group, StartedBy: aws.ToString(in.StartedBy), Overrides: in.Overrides, Tags: tags, Now: c.Now})
			t.EnableExecuteCommand = in.EnableExecuteCommand
			if err := tx.Put(store.Tasks, store.Key(c.Region, aws.ToString(cl.ClusterName), ecsmodel.TaskIDFromARN(aws.ToString(t.TaskArn))), store.TaskRecord{Task: t}); err != nil {
				return err
			}
			out.Tasks = append(out.Tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// taskRef resolves a task ID or ARN within a cluster.
func (c *Call) taskKey(cluster, ref string) (string, bool) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := ecsmodel.ParseARN(ref)
		if !ok || a.Type != "task" || !c.Owns(a) {
			return "", false
		}
		if len(a.Path) == 2 && a.Path[0] != cluster {
			return "", false
		}
		ref = a.Path[len(a.Path)-1]
	}
	if ref == "" || strings.Contains(ref, "/") {
		return "", false
	}
	return store.Key(c.Region, cluster, ref), true
}

func (a *API) stopTask(c *Call, in *ecs.StopTaskInput) (*ecs.StopTaskOutput, error) {
	if aws.ToString(in.Task) == "" {
		return nil, invalidParam("task is required.")
	}
	if len(aws.ToString(in.Reason)) > 255 {
		return nil, invalidParam("reason can have at most 255 characters.")
	}
	var t types.Task
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		key, ok := c.taskKey(aws.ToString(cl.ClusterName), aws.ToString(in.Task))
		var rec store.TaskRecord
		found := false
		if ok {
			if found, err = tx.Get(store.Tasks, key, &rec); err != nil {
				return err
			}
		}
		if !found {
			return invalidParam("The referenced task was not found.")
		}
		t = rec.Task
		if aws.ToString(t.DesiredStatus) == ecsmodel.TaskStopped {
			return nil
		}
		reason := aws.ToString(in.Reason)
		if reason == "" {
			reason = "Task stopped by user"
		}
		t.DesiredStatus = aws.String(ecsmodel.TaskStopped)
		t.StopCode = types.TaskStopCodeUserInitiated
		t.StoppedReason = aws.String(reason)
		t.Version++
		rec.Task = t
		return tx.Put(store.Tasks, key, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.StopTaskOutput{Task: &t}, nil
}

func (a *API) describeTasks(c *Call, in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
	if len(in.Tasks) == 0 {
		return nil, invalidParam("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, invalidParam("tasks can have at most 100 items.")
	}
	tags := slices.Contains(in.Include, types.TaskFieldTags)
	out := &ecs.DescribeTasksOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		for _, ref := range in.Tasks {
			var rec store.TaskRecord
			found := false
			if key, ok := c.taskKey(cluster, ref); ok {
				if found, err = tx.Get(store.Tasks, key, &rec); err != nil {
					return err
				}
			}
			if !found {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = c.TaskARN(cluster, ref)
				}
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			if !tags {
				rec.Task.Tags = nil
			}
			out.Tasks = append(out.Tasks, rec.Task)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *API) listTasks(c *Call, in *ecs.ListTasksInput) (*ecs.ListTasksOutput, error) {
	max, err := maxResults(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	desired := string(in.DesiredStatus)
	if desired == "" {
		desired = string(types.DesiredStatusRunning)
	}
	if !slices.Contains(types.DesiredStatus("").Values(), types.DesiredStatus(desired)) {
		return nil, invalidParam("desiredStatus must be RUNNING, PENDING or STOPPED.")
	}
	if aws.ToString(in.ServiceName) != "" && aws.ToString(in.Family) != "" {
		return nil, invalidParam("You cannot specify both serviceName and family.")
	}
	if aws.ToString(in.ContainerInstance) != "" {
		return nil, unsupported("ecsd has no container instances; remove containerInstance.")
	}
	type item struct{ key, arn string }
	var items []item
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		return store.Each(tx, store.Tasks, store.Prefix(c.Region, aws.ToString(cl.ClusterName)), func(key string, rec *store.TaskRecord) error {
			t := rec.Task
			switch {
			case aws.ToString(t.DesiredStatus) != desired,
				in.LaunchType != "" && t.LaunchType != in.LaunchType,
				aws.ToString(in.StartedBy) != "" && aws.ToString(t.StartedBy) != aws.ToString(in.StartedBy),
				aws.ToString(in.ServiceName) != "" && aws.ToString(t.Group) != ecsmodel.ServiceGroup(serviceNameOf(aws.ToString(in.ServiceName))),
				aws.ToString(in.Family) != "" && familyOf(aws.ToString(t.TaskDefinitionArn)) != aws.ToString(in.Family):
				return nil
			}
			items = append(items, item{key, aws.ToString(t.TaskArn)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, func(it item) string { return it.key }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	arns := make([]string, len(pg))
	for i, it := range pg {
		arns[i] = it.arn
	}
	return &ecs.ListTasksOutput{TaskArns: arns, NextToken: next}, nil
}

// serviceNameOf accepts a service name or ARN.
func serviceNameOf(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// familyOf is the family of a task definition ARN.
func familyOf(arn string) string {
	s := arn[strings.LastIndex(arn, "/")+1:]
	f, _, _ := strings.Cut(s, ":")
	return f
}
