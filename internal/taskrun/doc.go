// Package taskrun makes stored tasks real: it hands tasks that should run to
// a driver.Driver, stops the ones that should stop, and folds the driver's
// events back into the task records, so DescribeTasks reports what actually
// happens, state by state, as ECS does:
//
//	PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
//
// The decisions are pure functions (lifecycle.go: what to do next with a
// task; events.go: how an event changes a task), table-tested; Runner only
// reads the store, calls the driver, and writes the outcome, one transaction
// per step. It is level-triggered: each pass re-reads every unfinished task,
// so a missed notification only delays a step.
package taskrun
