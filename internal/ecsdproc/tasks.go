package ecsdproc

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// StopTasks deletes every service (with force) and stops every task of
// every cluster in the Proc's region through the ECS API, then waits,
// bounded by ctx, until every task is STOPPED, its workload gone. ecsd
// leaves tasks running when it exits (to re-adopt them on restart), so a
// caller that started tasks calls this before Stop. What fails is left as
// it is: this is clean-up.
func (p *Proc) StopTasks(ctx context.Context) {
	if !p.Alive() {
		return
	}
	c := ecs.NewFromConfig(p.AWSConfig())
	clusters, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		return
	}
	for _, cl := range clusters.ClusterArns {
		services, _ := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(cl), MaxResults: aws.Int32(100)})
		if services != nil {
			for _, s := range services.ServiceArns {
				c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cl), Service: aws.String(s), Force: aws.Bool(true)})
			}
		}
		// The services' tasks stop on their own now; stop the others.
		for ctx.Err() == nil {
			tasks, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl)})
			if err != nil || len(tasks.TaskArns) == 0 {
				break
			}
			for _, arn := range tasks.TaskArns {
				c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cl), Task: aws.String(arn)})
			}
			pause(ctx)
		}
		for ctx.Err() == nil && stopping(ctx, c, cl) {
			pause(ctx)
		}
	}
}

// stopping reports whether a task of cluster cl asked to stop is not
// STOPPED yet (its workload still being stopped).
func stopping(ctx context.Context, c *ecs.Client, cl string) bool {
	pages := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String(cl), DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil || len(out.TaskArns) == 0 {
			return false
		}
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl), Tasks: out.TaskArns})
		if err != nil {
			return false
		}
		for _, t := range d.Tasks {
			if aws.ToString(t.LastStatus) != "STOPPED" {
				return true
			}
		}
	}
	return false
}

// pause waits a moment between polls of a real ecsd.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
}
