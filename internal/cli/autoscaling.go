package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// autoScalingChange is what --suspend-auto-scaling / --resume-auto-scaling
// ask for: nil for neither.
func autoScalingChange(suspend, resume bool) (*bool, error) {
	switch {
	case suspend && resume:
		return nil, errors.New("--suspend-auto-scaling and --resume-auto-scaling exclude each other: pass one")
	case suspend:
		return aws.Bool(true), nil
	case resume:
		return aws.Bool(false), nil
	}
	return nil, nil
}

// setAutoScaling suspends (or resumes) the dynamic scale-in, scale-out and
// scheduled scaling of the service's desired count, as ecspresso does: only
// when the service has a scalable target. An endpoint that does not answer
// Application Auto Scaling (ecsd) gets a warning, not a failure.
func (a *app) setAutoScaling(ctx context.Context, suspend *bool, dryRun bool) error {
	if suspend == nil {
		return nil
	}
	verb, doing, done := "resume", "resuming", "resumed"
	if *suspend {
		verb, doing, done = "suspend", "suspending", "suspended"
	}
	resource := fmt.Sprintf("service/%s/%s", a.cfg.Cluster, a.cfg.Service)
	c := a.autoScalingClient()
	out, err := c.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceIds:       []string{resource},
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	if err != nil {
		if why, ok := notAnswered(err); ok {
			a.out.warn(fmt.Sprintf("--%s-auto-scaling skipped: Application Auto Scaling is not available: %s", verb, why))
			return nil
		}
		return fmt.Errorf("looking up the scalable target %s to %s its auto scaling: %w", resource, verb, err)
	}
	if len(out.ScalableTargets) == 0 {
		a.out.line("autoscaling", fmt.Sprintf("no scalable target for %s: no auto scaling to %s", resource, verb), map[string]any{"resourceId": resource})
		return nil
	}
	for _, t := range out.ScalableTargets {
		if dryRun {
			a.out.info("dry run: would %s the auto scaling of %s", verb, aws.ToString(t.ResourceId))
			continue
		}
		_, err := c.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace:  t.ServiceNamespace,
			ScalableDimension: t.ScalableDimension,
			ResourceId:        t.ResourceId,
			SuspendedState: &aastypes.SuspendedState{
				DynamicScalingInSuspended:  suspend,
				DynamicScalingOutSuspended: suspend,
				ScheduledScalingSuspended:  suspend,
			},
		})
		if err != nil {
			return fmt.Errorf("%s the auto scaling of %s: %w", doing, aws.ToString(t.ResourceId), err)
		}
		a.out.line("autoscaling", fmt.Sprintf("auto scaling of %s %s (dynamic scale-in, scale-out and scheduled scaling)", aws.ToString(t.ResourceId), done),
			map[string]any{"resourceId": aws.ToString(t.ResourceId), "suspended": *suspend})
	}
	return nil
}
