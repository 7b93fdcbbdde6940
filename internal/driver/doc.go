// Package driver defines how ecsd runs tasks: the Driver interface, the
// TaskSpec it is given and the Events it reports. Drivers live in
// subpackages: docker (containers on a Docker engine), process (host
// processes) and fake (in memory, on a clock.Clock, for tests and
// simulations).
//
// # Vocabulary
//
//   - task: a set of containers started and stopped together, identified
//     by its ARN (TaskSpec). The driver does not know services,
//     deployments or desired counts; the task runner above it does.
//   - container: one ContainerSpec of a task. Under the process driver a
//     "container" is a plain process; the ECS word is kept throughout.
//   - essential: a container whose end (exit, pull or start failure) ends
//     its task: the driver then stops the other containers, as the ECS
//     agent does. Why the task stopped is the task runner's to record.
//   - dependency: DependsOn conditions (START, COMPLETE, SUCCESS, HEALTHY)
//     gate a container's start; a condition that can no longer be met
//     fails the container with StartFailed. Stop order is the reverse: a
//     container gets its stop signal once every container depending on
//     it has stopped.
//   - binding: a published port (NetworkBinding), reported in Started.
//   - runtime ID: the driver's name for a running container (Docker
//     container ID, "pid:<n>", "fake-<n>").
//   - recover: after an ecsd restart a new Driver finds the tasks its
//     predecessor left running (Driver.Recover) and takes them over.
//
// # Events
//
// Each container's events follow this grammar, ending with exactly one
// terminal event (PullFailed, StartFailed or Exited):
//
//	PullStarted PullFailed
//	PullStarted PullStopped StartFailed
//	PullStarted PullStopped Started HealthChanged* Exited
//	Exited | StartFailed            (never started: the task stopped first, or a dependency failed)
//
// Once every container of a task is terminal, the driver emits one
// TaskStopped event (Container "") and forgets the task; Stop then returns
// ErrUnknownTask.
//
// # Delivery
//
// Drivers deliver events through an Emitter: the Sink is called on a
// goroutine of its own, serially (never concurrently), in emission order,
// so each container's events arrive in the order above and TaskStopped
// arrives last. The sink is never called from inside a driver method, and
// may itself call the driver (for example Stop). It should not block for
// long: it holds up every later event. No event is delivered after
// Driver.Close returns.
//
// # Health checks
//
// Container health checks have ECS (that is, Docker) semantics, see
// HealthCheck. The docker driver lets the engine run them and observes its
// health_status events; the process driver runs the command itself; the
// fake driver decides the result from its Behavior. Started carries health
// UNKNOWN for containers with a health check; HealthChanged reports every
// change after that.
//
// # Time
//
// Drivers take a clock.Clock for health-check intervals and stop timeouts
// (the engine times Docker's own) and stamp events with it.
package driver
