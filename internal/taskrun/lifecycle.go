package taskrun

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS task and container lastStatus values.
const (
	Provisioning   = "PROVISIONING"
	Pending        = "PENDING"
	Activating     = "ACTIVATING"
	Running        = "RUNNING"
	Deactivating   = "DEACTIVATING"
	Stopping       = "STOPPING"
	Deprovisioning = "DEPROVISIONING"
	Stopped        = "STOPPED"
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
	if last == Stopped {
		return StepNone
	}
	if last == Deprovisioning {
		return StepFinish
	}
	if desired == Stopped {
		switch {
		case !withDriver && (last == Provisioning || last == Pending):
			return StepDiscard
		case last == Activating || last == Running:
			return StepDeactivate
		case last == Deactivating || last == Pending:
			return StepStop
		}
		return StepNone // STOPPING: the driver's exits will finish it
	}
	switch {
	case last == Provisioning && !withDriver:
		return StepStart
	case last == Activating:
		return StepActivate
	}
	return StepNone
}
