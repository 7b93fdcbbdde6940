package autoscalingapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// The Describe operations validate their input and answer empty lists:
// ecsd has no scalable targets, so it has no policies, scheduled actions
// or activities either. None of them returns a NextToken, so any token a
// caller sends is one ecsd never issued.

func describeScalableTargets(in *aas.DescribeScalableTargetsInput) (*aas.DescribeScalableTargetsOutput, error) {
	var v violations
	v.namespace(in.ServiceNamespace)
	v.idList("resourceIds", in.ResourceIds)
	v.dimension(in.ScalableDimension, len(in.ResourceIds) > 0)
	v.maxResults(in.MaxResults, 50)
	if err := v.check(in.NextToken); err != nil {
		return nil, err
	}
	return &aas.DescribeScalableTargetsOutput{ScalableTargets: []types.ScalableTarget{}}, nil
}

func describeScalingPolicies(in *aas.DescribeScalingPoliciesInput) (*aas.DescribeScalingPoliciesOutput, error) {
	var v violations
	v.namespace(in.ServiceNamespace)
	v.idList("policyNames", in.PolicyNames)
	v.id("resourceId", in.ResourceId)
	v.dimension(in.ScalableDimension, in.ResourceId != nil)
	v.maxResults(in.MaxResults, 10)
	if err := v.check(in.NextToken); err != nil {
		return nil, err
	}
	return &aas.DescribeScalingPoliciesOutput{ScalingPolicies: []types.ScalingPolicy{}}, nil
}

func describeScheduledActions(in *aas.DescribeScheduledActionsInput) (*aas.DescribeScheduledActionsOutput, error) {
	var v violations
	v.namespace(in.ServiceNamespace)
	v.idList("scheduledActionNames", in.ScheduledActionNames)
	v.id("resourceId", in.ResourceId)
	v.dimension(in.ScalableDimension, in.ResourceId != nil)
	v.maxResults(in.MaxResults, 50)
	if err := v.check(in.NextToken); err != nil {
		return nil, err
	}
	return &aas.DescribeScheduledActionsOutput{ScheduledActions: []types.ScheduledAction{}}, nil
}

func describeScalingActivities(in *aas.DescribeScalingActivitiesInput) (*aas.DescribeScalingActivitiesOutput, error) {
	var v violations
	v.namespace(in.ServiceNamespace)
	v.id("resourceId", in.ResourceId)
	v.dimension(in.ScalableDimension, in.ResourceId != nil)
	v.maxResults(in.MaxResults, 50)
	if err := v.check(in.NextToken); err != nil {
		return nil, err
	}
	return &aas.DescribeScalingActivitiesOutput{ScalingActivities: []types.ScalingActivity{}}, nil
}

// violations collects what is wrong with a request, in the words of AWS's
// validation errors ("Value 'x' at 'serviceNamespace' failed to satisfy
// constraint: ..."), so a request with several mistakes names them all.
type violations []string

func (v *violations) add(value, member, constraint string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

// namespace checks the required ServiceNamespace.
func (v *violations) namespace(ns types.ServiceNamespace) {
	switch {
	case ns == "":
		v.add("null", "serviceNamespace", "Member must not be null")
	case !slices.Contains(ns.Values(), ns):
		v.add(quote(string(ns)), "serviceNamespace", "Member must satisfy enum value set: "+enumSet(ns.Values()))
	}
}

// dimension checks an optional ScalableDimension, which needs a resource
// ID beside it.
func (v *violations) dimension(d types.ScalableDimension, haveResource bool) {
	switch {
	case d == "":
	case !slices.Contains(d.Values(), d):
		v.add(quote(string(d)), "scalableDimension", "Member must satisfy enum value set: "+enumSet(d.Values()))
	case !haveResource:
		v.add(quote(string(d)), "scalableDimension", "a scalable dimension needs a resource ID: pass the resource ID of the scalable target too")
	}
}

// id checks an optional resource ID or name: 1 to 1600 characters.
func (v *violations) id(member string, s *string) {
	if s == nil {
		return
	}
	if n := len(*s); n < 1 || n > 1600 {
		v.add(quote(*s), member, "Member must have length between 1 and 1600")
	}
}

// idList checks a list of resource IDs or names: at most 50, each 1 to
// 1600 characters.
func (v *violations) idList(member string, ids []string) {
	if len(ids) > 50 {
		v.add(fmt.Sprintf("'%d items'", len(ids)), member, "Member must have length less than or equal to 50")
	}
	for i, s := range ids {
		v.id(fmt.Sprintf("%s.%d.member", member, i+1), &s)
	}
}

// maxResults checks an optional MaxResults against its operation's bound.
func (v *violations) maxResults(n *int32, most int32) {
	if n != nil && (*n < 1 || *n > most) {
		v.add(fmt.Sprintf("'%d'", *n), "maxResults", fmt.Sprintf("Member must have value between 1 and %d", most))
	}
}

// check returns the ValidationException for what was collected, else an
// InvalidNextTokenException for any token: ecsd never issues one.
func (v violations) check(nextToken *string) error {
	if len(v) > 0 {
		noun := "validation error"
		if len(v) > 1 {
			noun += "s"
		}
		return awsproto.Errorf(awsproto.ValidationException, "%d %s detected: %s", len(v), noun, strings.Join(v, "; "))
	}
	if aws.ToString(nextToken) != "" {
		return awsproto.Errorf(invalidNextToken, "Invalid NextToken: ecsd returned no NextToken to continue from. Call again without NextToken.")
	}
	return nil
}

const invalidNextToken = "InvalidNextTokenException"

func quote(s string) string { return "'" + s + "'" }

func enumSet[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, x := range values {
		s[i] = string(x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
