package taskrun

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Step is what a task needs next.
type Step int

const (
	StepNone       Step = iota
	StepStart           // hand the task to the driver
	StepDiscard         // stopped before it started: record STOPPED without running anything
	StepActivate        // containers are up: RUNNING (after load-balancer registration, once it exists)
	StepDeactivate      // asked to stop while up: DEACTIVATING
	StepStop            // tell the driver to stop it: STOPPING
	StepFinish          // the driver is done with it: STOPPED
)

func (s Step) String() string {
	return [...]string{"none", "start", "discard", "activate", "deactivate", "stop", "finish"}[s]
}

// NextStep decides what a task needs next, from its record and whether the
// driver has it.
func NextStep(t types.Task, withDriver bool) Step {
	last, desired := aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus)
	if last == ecsmodel.TaskStopped {
		return StepNone
	}
	if last == ecsmodel.TaskDeprovisioning {
		return StepFinish
	}
	if desired == ecsmodel.TaskStopped {
		switch {
		case !withDriver && (last == ecsmodel.TaskProvisioning || last == ecsmodel.TaskPending):
			return StepDiscard
		case last == ecsmodel.TaskActivating || last == ecsmodel.TaskRunning:
			return StepDeactivate
		case last == ecsmodel.TaskDeactivating || last == ecsmodel.TaskPending:
			return StepStop
		}
		return StepNone // STOPPING: the driver's exits will finish it
	}
	switch {
	case last == ecsmodel.TaskProvisioning && !withDriver:
		return StepStart
	case last == ecsmodel.TaskActivating:
		return StepActivate
	}
	return StepNone
}
