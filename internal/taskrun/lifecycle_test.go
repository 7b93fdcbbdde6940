package taskrun

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestNextStep(t *testing.T) {
	for _, tc := range []struct {
		last, desired string
		live          bool
		want          Step
	}{
		{Provisioning, Running, false, StepStart},
		{Provisioning, Running, true, StepNone},
		{Provisioning, Stopped, false, StepDiscard},
		{Pending, Running, true, StepNone},
		{Pending, Stopped, true, StepStop},
		{Pending, Stopped, false, StepDiscard},
		{Activating, Running, true, StepActivate},
		{Activating, Stopped, true, StepDeactivate},
		{Running, Running, true, StepNone},
		{Running, Stopped, true, StepDeactivate},
		{Deactivating, Stopped, true, StepStop},
		{Stopping, Stopped, true, StepNone},
		{Deprovisioning, Stopped, true, StepFinish},
		{Deprovisioning, Running, false, StepFinish},
		{Stopped, Stopped, false, StepNone},
	} {
		task := types.Task{LastStatus: aws.String(tc.last), DesiredStatus: aws.String(tc.desired)}
		if got := NextStep(task, tc.live); got != tc.want {
			t.Errorf("%s/%s live=%v: %s, want %s", tc.last, tc.desired, tc.live, got, tc.want)
		}
	}
}
