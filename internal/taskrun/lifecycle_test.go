package taskrun

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

func TestNextStep(t *testing.T) {
	for _, tc := range []struct {
		last, desired string
		live          bool
		want          Step
	}{
		{ecsmodel.TaskProvisioning, ecsmodel.TaskRunning, false, StepStart},
		{ecsmodel.TaskProvisioning, ecsmodel.TaskRunning, true, StepNone},
		{ecsmodel.TaskProvisioning, ecsmodel.TaskStopped, false, StepDiscard},
		{ecsmodel.TaskPending, ecsmodel.TaskRunning, true, StepNone},
		{ecsmodel.TaskPending, ecsmodel.TaskStopped, true, StepStop},
		{ecsmodel.TaskPending, ecsmodel.TaskStopped, false, StepDiscard},
		{ecsmodel.TaskActivating, ecsmodel.TaskRunning, true, StepActivate},
		{ecsmodel.TaskActivating, ecsmodel.TaskStopped, true, StepDeactivate},
		{ecsmodel.TaskRunning, ecsmodel.TaskRunning, true, StepNone},
		{ecsmodel.TaskRunning, ecsmodel.TaskStopped, true, StepDeactivate},
		{ecsmodel.TaskDeactivating, ecsmodel.TaskStopped, true, StepStop},
		{ecsmodel.TaskStopping, ecsmodel.TaskStopped, true, StepNone},
		{ecsmodel.TaskDeprovisioning, ecsmodel.TaskStopped, true, StepFinish},
		{ecsmodel.TaskDeprovisioning, ecsmodel.TaskRunning, false, StepFinish},
		{ecsmodel.TaskStopped, ecsmodel.TaskStopped, false, StepNone},
	} {
		task := types.Task{LastStatus: aws.String(tc.last), DesiredStatus: aws.String(tc.desired)}
		if got := NextStep(task, tc.live); got != tc.want {
			t.Errorf("%s/%s live=%v: %s, want %s", tc.last, tc.desired, tc.live, got, tc.want)
		}
	}
}
