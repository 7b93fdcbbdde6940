// Package controller moves stored ECS service state toward what callers
// asked for. It is level-triggered: it reacts to store changes by re-reading
// state, so a missed or repeated notification does no harm.
//
// It runs two loops:
//
//   - Services, the service scheduler. For each queued service it loads the
//     service, its deployments and its tasks into a rollout.State, asks
//     rollout.Decide for the next step and applies the Plan in one store
//     transaction: it creates the tasks to start (the task runner in
//     taskrun runs them), marks the tasks to stop, writes deployment counts,
//     rollout states, the circuit breaker's rollback and service events,
//     and keeps the service-deployment record (ListServiceDeployments) in
//     step as rollout.RecordServiceDeployment says. The scheduler's memory
//     is stored as store.SchedulerMemory and converted (memory.go); a
//     desiredCount above the tasks-per-service limit (Params) is capped by
//     rollout and logged here once per service. Target health from the load
//     balancer (TargetHealthSource) gates load-balanced tasks; the load
//     balancer's health records in the store (store.TargetHealth) queue the
//     services that use the target group, and RecordEvent is how the task
//     runner reaches it.
//   - Drainer, the end of service deletion: a DRAINING service whose tasks
//     have all stopped becomes INACTIVE, as in ECS.
//
// # Vocabulary
//
//   - sync: one pass of the scheduler over one service (Services.Sync),
//     one rollout step at most; the service is queued again while steps
//     remain, or after the Plan's RequeueAfter.
//   - queue: the set of service keys waiting for a sync; adding a waiting
//     key does nothing, and deadlines are delayed adds on the clock.
//
// Statuses, groups, ARNs and IDs are ecsmodel's; the decisions are
// rollout's. Time comes from a clock.Clock.
package controller
