package elbapi

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/store"
)

// taggable is a resource's tags and how to store them back.
type taggable struct {
	tags *[]types.Tag
	save func() error // nil: the resource cannot be tagged
}

// tagsOf finds the resource arn names: a load balancer, target group,
// listener or rule.
func (a *API) tagsOf(tx *store.Tx, c *call, arn string) (taggable, error) {
	p, ok := parseARN(arn)
	if !ok {
		return taggable{}, invalid("%q is not an Elastic Load Balancing ARN.", arn)
	}
	switch p.Kind {
	case kindLoadBalancer:
		rec, r, err := a.getLoadBalancer(tx, c, arn)
		if err != nil {
			return taggable{}, err
		}
		return taggable{&rec.Tags, func() error { return tx.Put(store.LoadBalancers, lbKey(c.Region, r.Name), rec) }}, nil
	case kindTargetGroup:
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return taggable{}, err
		}
		return taggable{&rec.Tags, func() error {
			return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
		}}, nil
	case kindListener:
		rec, r, err := a.getListener(tx, c, arn)
		if err != nil {
			return taggable{}, err
		}
		return taggable{&rec.Tags, func() error { return tx.Put(store.Listeners, listenerKey(c.Region, r.Name, r.ListenerID), rec) }}, nil
	case kindRule:
		ref, err := a.getRule(tx, c, arn)
		if err != nil {
			return taggable{}, err
		}
		if ref.rec == nil {
			return taggable{tags: new([]types.Tag)}, nil // default rules carry no tags in ecsd
		}
		return taggable{&ref.rec.Tags, func() error {
			return tx.Put(store.ListenerRules, ruleKey(c.Region, p.Name, p.ListenerID, p.RuleID), ref.rec)
		}}, nil
	}
	return taggable{}, invalid("%q names a %s, which ecsd does not tag: tag load balancers, target groups, listeners and rules.", arn, p.Kind)
}

func checkResourceArns(arns []string) error {
	if len(arns) == 0 {
		return invalid("ResourceArns is required: give 1-%d resource ARNs.", maxResourcesPerTagCall)
	}
	if len(arns) > maxResourcesPerTagCall {
		return invalid("%d resource ARNs given: at most %d per call.", len(arns), maxResourcesPerTagCall)
	}
	return nil
}

func (a *API) addTags(c *call, in *elbv2.AddTagsInput) (*elbv2.AddTagsOutput, error) {
	if err := checkResourceArns(in.ResourceArns); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, invalid("Tags is required: give at least one Key and Value.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		for _, arn := range in.ResourceArns {
			t, err := a.tagsOf(tx, c, arn)
			if err != nil {
				return err
			}
			if t.save == nil {
				return errf(operationNotPermitted, "Rule %q is a default rule; ecsd does not tag default rules.", arn)
			}
			merged := mergeTags(*t.tags, in.Tags)
			if len(merged) > maxTagsPerResource {
				return errf(tooManyTags, "Resource %q would have %d tags: a resource has at most %d.", arn, len(merged), maxTagsPerResource)
			}
			*t.tags = merged
			if err := t.save(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.AddTagsOutput{}, nil
}

func (a *API) removeTags(c *call, in *elbv2.RemoveTagsInput) (*elbv2.RemoveTagsOutput, error) {
	if err := checkResourceArns(in.ResourceArns); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, invalid("TagKeys is required: give at least one tag key.")
	}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		for _, arn := range in.ResourceArns {
			t, err := a.tagsOf(tx, c, arn)
			if err != nil {
				return err
			}
			if t.save == nil {
				continue // nothing to remove
			}
			*t.tags = slices.DeleteFunc(*t.tags, func(tag types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(tag.Key)) })
			if err := t.save(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.RemoveTagsOutput{}, nil
}

func (a *API) describeTags(c *call, in *elbv2.DescribeTagsInput) (*elbv2.DescribeTagsOutput, error) {
	if err := checkResourceArns(in.ResourceArns); err != nil {
		return nil, err
	}
	var out []types.TagDescription
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		for _, arn := range in.ResourceArns {
			t, err := a.tagsOf(tx, c, arn)
			if err != nil {
				return err
			}
			out = append(out, types.TagDescription{ResourceArn: aws.String(arn), Tags: orEmpty(slices.Clone(*t.tags))})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeTagsOutput{TagDescriptions: out}, nil
}
