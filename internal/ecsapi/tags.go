package ecsapi

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// taggable is the stored record an ARN names, with access to its tags.
type taggable struct {
	bucket store.Bucket
	key    string
	record any
	tags   func() *[]types.Tag
}

// resolveTaggable loads the resource an ARN names.
func (c *Call) resolveTaggable(tx *store.Tx, arn string) (taggable, error) {
	a, ok := ecsmodel.ParseARN(arn)
	if !ok || !c.Owns(a) {
		return taggable{}, invalidParam("The ARN %q is not an Amazon ECS resource ARN of this region and account.", arn)
	}
	var t taggable
	switch {
	case a.Type == "cluster" && len(a.Path) == 1:
		var cl types.Cluster
		t = taggable{store.Clusters, store.Key(c.Region, a.Path[0]), &cl, func() *[]types.Tag { return &cl.Tags }}
	case a.Type == "service" && len(a.Path) == 2:
		var rec store.ServiceRecord
		t = taggable{store.Services, store.Key(c.Region, a.Path[0], a.Path[1]), &rec, func() *[]types.Tag { return &rec.Service.Tags }}
	case a.Type == "task" && len(a.Path) == 2:
		var rec store.TaskRecord
		t = taggable{store.Tasks, store.Key(c.Region, a.Path[0], a.Path[1]), &rec, func() *[]types.Tag { return &rec.Task.Tags }}
	case a.Type == "task-definition" && len(a.Path) == 1:
		family, rev, ok := c.taskDefinitionRef(arn)
		if !ok || rev == 0 {
			return taggable{}, invalidParam("The task definition ARN %q has no revision.", arn)
		}
		var rec store.TaskDefinitionRecord
		t = taggable{store.TaskDefinitions, store.RevisionKey(c.Region, family, rev), &rec, func() *[]types.Tag { return &rec.Tags }}
	default:
		return taggable{}, invalidParam("ecsd tags clusters, services, tasks and task definitions; %q is none of them.", arn)
	}
	found, err := tx.Get(t.bucket, t.key, t.record)
	if err != nil {
		return taggable{}, err
	}
	if !found {
		if a.Type == "cluster" {
			return taggable{}, errClusterNotFound()
		}
		return taggable{}, awsErr(resourceNotFound, "The specified resource could not be found.")
	}
	return t, nil
}

func (a *API) tagResource(c *Call, in *ecs.TagResourceInput) (*ecs.TagResourceOutput, error) {
	if aws.ToString(in.ResourceArn) == "" {
		return nil, invalidParam("resourceArn is required.")
	}
	if len(in.Tags) == 0 {
		return nil, invalidParam("tags cannot be empty.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		t, err := c.resolveTaggable(tx, aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		tags := t.tags()
		*tags = mergeTags(*tags, in.Tags)
		if err := validateTags(*tags); err != nil {
			return err
		}
		return tx.Put(t.bucket, t.key, t.record)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.TagResourceOutput{}, nil
}

func (a *API) untagResource(c *Call, in *ecs.UntagResourceInput) (*ecs.UntagResourceOutput, error) {
	if aws.ToString(in.ResourceArn) == "" {
		return nil, invalidParam("resourceArn is required.")
	}
	if len(in.TagKeys) == 0 {
		return nil, invalidParam("tagKeys cannot be empty.")
	}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		t, err := c.resolveTaggable(tx, aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		tags := t.tags()
		*tags = emptyIfNil(removeTags(*tags, in.TagKeys))
		return tx.Put(t.bucket, t.key, t.record)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.UntagResourceOutput{}, nil
}

func (a *API) listTagsForResource(c *Call, in *ecs.ListTagsForResourceInput) (*ecs.ListTagsForResourceOutput, error) {
	if aws.ToString(in.ResourceArn) == "" {
		return nil, invalidParam("resourceArn is required.")
	}
	var tags []types.Tag
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		t, err := c.resolveTaggable(tx, aws.ToString(in.ResourceArn))
		if err != nil {
			return err
		}
		tags = *t.tags()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecs.ListTagsForResourceOutput{Tags: emptyIfNil(tags)}, nil
}
