// Package rollout holds a service deployment's whole lifecycle as pure
// functions: creating a deployment (StartDeployment, Rescale), advancing it
// one step at a time (Decide, the ROLLING scheduler), and the
// service-deployment record's transitions (RecordServiceDeployment), with
// the arithmetic they share: the bounds a rolling update works within
// (Bounds, Percents), the tasks-per-service limit and the deployment
// circuit breaker's threshold (BreakerThreshold). Nothing here reads a
// clock, makes a random ID or touches the store; callers pass state in and
// get decisions out, so every rule is table-tested.
//
// # Lifecycle and who writes what
//
// The API validates a request and changes the service's own fields
// (desiredCount, status, configuration). StartDeployment creates the new
// PRIMARY deployment and its service deployment, turns the previous
// PRIMARY ACTIVE and stops the service deployment it supersedes. Rescale
// gives the deployments the service's new desiredCount at once when no
// deployment starts (a scale, DeleteService). Decide then owns
// deployments[]: their desiredCount, counts, rollout states and removal.
// RecordServiceDeployment moves the service deployment after each step.
// So every deployment's desiredCount is written here, by one rule: the
// PRIMARY wants the service's desiredCount (capped at the limit, 0 while
// DRAINING); an ACTIVE one keeps what it still runs.
//
// # Files
//
//   - state.go, plan.go: Decide's input (State) and output (Plan).
//   - health.go: task classification every deployment family shares
//     (judge: pending, waiting, healthy, unhealthy past the grace period,
//     the 40 s rule; group: one deployment's tasks by class).
//   - breaker.go: BreakerThreshold and what counts as a failed task;
//     reasons.go and events.go: ECS's texts; bounds.go: the arithmetic.
//   - decide.go: Decide's frame (classify, account, breaker, records);
//     steps.go: the ROLLING step in named phases.
//   - deployment.go, servicedeployment.go: creating a deployment and the
//     service-deployment transitions.
//
// # Other deployment families
//
// Task sets (EXTERNAL and CODE_DEPLOY services: each task set keeps
// ceil(desired × scale %) tasks, replaces its dead ones, drains when scaled
// down) and ECS-native BLUE_GREEN / LINEAR / CANARY (a stage machine) are
// siblings of Decide, not branches inside it: each is its own pure function
// over its own state, in its own file, reusing judge and group to classify
// tasks (a task set is a group, keyed by its ID as deployments are),
// failureOf and BreakerThreshold for the breaker, Backoff for start
// failures, healthStop / ScalingReason for stop reasons and the event
// constructors. Group.unhealthyToStop is the "replace first, else stop
// first" rule a task set needs for its dead tasks.
//
// # Decide
//
// Decide(State, now) returns a Plan: the next step of one service's ROLLING
// deployment. The controller loads State from the store, calls Decide once
// per sync, applies the Plan in full (start and stop tasks, store
// Plan.Deployments, Plan.Memory and the task marks, add Plan.Events) and
// syncs again on the next store change or after Plan.RequeueAfter. Each
// call returns one step only: either stops or starts, never both, and the
// next call sees the applied result. With desired 12, min 75 %, max 150 %
// the steps are: stop 3 old (9/0), start 9 new (9/9), wait until they are
// healthy, stop 9 old (0/9), start 3 new (0/12), wait, COMPLETED.
//
// # Vocabulary
//
//   - PRIMARY deployment: the newest deployment marked PRIMARY (else the
//     newest). It is the only one that launches tasks; the others are ACTIVE
//     and only drain. Their tasks are not replaced when they stop or fail.
//   - live task: desiredStatus RUNNING and lastStatus not STOPPED. Tasks told
//     to stop no longer count against the bounds.
//   - lower / upper: ceil(desired × minimumHealthyPercent / 100) healthy
//     tasks must remain after a stop; floor(desired × maximumPercent / 100)
//     live tasks at most.
//   - healthy: RUNNING and, with neither a load balancer nor a container
//     health check, RUNNING for Params.HealthyAfterRunning (40 s); with a
//     container health check, healthStatus HEALTHY; with a load balancer,
//     target healthy (and HEALTHY too if there is a container check).
//   - unhealthy: RUNNING and failing a container or target health check
//     after Service.HealthCheckGracePeriod; such a task is replaced.
//   - pending / waiting: live, not yet RUNNING / RUNNING but not yet
//     healthy. They change by themselves, so a rollout waiting on them is
//     not deadlocked.
//
// # Steps
//
// Stops come first; the step stops every task it may (steps.go has one
// function per kind):
//  1. unhealthy tasks of ACTIVE deployments;
//  2. unhealthy PRIMARY tasks once healthy PRIMARY tasks cover desired
//     (their replacement was started first), or at once when no
//     replacement can start now (upper bound reached, FAILED, throttled);
//  3. ACTIVE deployments' tasks that are not healthy (waiting, then
//     pending), which costs no healthy capacity;
//  4. ACTIVE deployments' healthy tasks, oldest deployment first, while at
//     least lower healthy tasks remain;
//  5. PRIMARY tasks above desired (scale-in, deletion): pending, waiting,
//     then healthy newest first, within the same budget.
//
// With nothing to stop, the step starts min(desired − PRIMARY tasks that
// are not unhealthy, upper − live) PRIMARY tasks. No start and no stop
// possible while nothing is pending or waiting is the deadlock of e.g.
// 100/100 (one event when it begins). A DRAINING (or INACTIVE) service has
// desired 0: everything is stopped.
//
// # Limits
//
// Params.MaxTasksPerService (ECS's quota, default 5,000) caps desired. The
// API refuses a larger desiredCount; one already stored (by an older ecsd)
// is capped, with an event when that begins (Plan.OverLimit,
// Memory.OverLimit), until UpdateService lowers it. Bounds is computed in
// 64 bits and capped at MaxInt32, so no stored value overflows it.
//
// # Records
//
// The PRIMARY becomes COMPLETED (reason "ECS deployment ecs-svc/N
// completed.", events "deployment completed" and "has reached a steady
// state.") when it has desired healthy tasks and no other task of the
// service is left, not even stopping. An ACTIVE deployment with no task
// left (every task STOPPED) leaves deployments[] (Plan.Removed).
//
// # Circuit breaker
//
// For the PRIMARY deployment while IN_PROGRESS, each newly STOPPED task
// that was never healthy and was not stopped by the scheduler or a user
// (stage 1: it never reached RUNNING, or its essential container exited
// right after — a crash at start-up), and each task the scheduler stopped for failed container or
// ELB health checks (stage 2: such a task did reach RUNNING), adds 1 to
// failedTasks. A task healthy for the first time resets it
// (resetOnHealthyTask, default true). Tasks are counted once: Decide lists
// them in Plan.Accounted and Plan.SeenHealthy, the caller sets Task.Accounted
// and Task.SeenHealthy. With the breaker enabled and failedTasks reaching
// BreakerThreshold, the deployment becomes FAILED ("ECS deployment circuit
// breaker: tasks failed to start."). With rollback and a COMPLETED
// deployment to return to (Memory.LastCompleted, kept after it left
// deployments[]), that deployment becomes PRIMARY and IN_PROGRESS again with
// its own id ("ECS deployment circuit breaker: rolling back to deploymentId
// ecs-svc/X."), the failed one ACTIVE and drained; otherwise the failed
// PRIMARY launches nothing more and the old tasks stay.
//
// # Start-failure back-off
//
// ECS's service throttle logic: launch rounds whose tasks stop before they
// were ever healthy (they never reached RUNNING, or their essential
// container exited soon after) raise Memory.Backoff.Level; from level 2
// launches wait BackoffBase × 2^(level−2), capped at BackoffMax (ECS: 15
// minutes; it never gives up), with the event "is unable to consistently
// start tasks successfully." when throttling begins. A task of the current
// round that becomes healthy, or a new PRIMARY deployment, resets it. Tasks
// stopped for failed health checks are not throttled (the breaker counts
// them).
//
// # Events
//
// Plan.Events carry ECS's exact messages and a stable Key. State events
// (deadlock, steady state, throttling) are emitted when the state begins,
// not on every sync; the caller still applies ECS's 6-hour de-duplication.
// Started tasks get their event from StartedEvent once their IDs exist.
package rollout
