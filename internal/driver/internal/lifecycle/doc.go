// Package lifecycle is the task state machine that the runtime drivers
// share, so that container dependencies, essential containers, stop order
// and health semantics are the same whether a task runs as Docker
// containers, host processes or in the fake driver.
//
// A driver creates one Task per task and reports what its runtime observed
// (Pulling, Started, SetHealth, Exited, ...). The Task emits the matching
// driver.Events in order and tells the driver's Backend what to do next:
// start a container whose dependencies are met, stop a container, forget a
// finished task. The Task never blocks and never calls the Backend while
// holding its lock, so a Backend may report back synchronously.
//
// Container phases: waiting (for dependencies) → starting (Backend asked to
// start it) → running → terminal (PullFailed, StartFailed or Exited).
// A task is stopping once Stop was called or an essential container became
// terminal; from then on waiting containers become terminal without
// starting and running containers are stopped once every container that
// depends on them is terminal (reverse dependency order, as ECS does).
// When all containers are terminal the Task calls Backend.TaskDone and
// then emits TaskStopped, so whoever sees TaskStopped finds the driver
// done with the task.
//
// HealthTracker implements Docker's health-check result rules, used by the
// drivers that run probes themselves.
package lifecycle
