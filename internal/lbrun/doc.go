// Package lbrun makes stored load balancers real, as taskrun does for
// tasks: it builds and updates the live data-plane objects (internal/lb)
// from the ELBv2 state elbapi stores — one lb.TargetGroup per stored
// target group, with its targets and drains, and one lb.Listener (a socket
// on 127.0.0.1) per stored listener, routing by its rules — and serves
// what the rest of ecsd reads from the data plane.
//
// It is level-triggered: a pass reads every stored load balancer, target
// group, listener and rule in one transaction and changes the live objects
// to match (creates, updates, closes; registers and drains targets; binds
// ports). Passes run when the store's ELBv2 buckets change (Run) and when
// a writer that must answer asks for one and waits for it (Sync).
//
// Vocabulary:
//   - desired state: the stored records (store.TargetGroupRecord with its
//     Targets and Draining, store.ListenerRecord, store.ListenerRuleRecord).
//     elbapi writes them for the ELBv2 API; the ECS contract
//     (RegisterTarget, DeregisterTarget) writes the same records for a
//     service's tasks. AddTarget and RemoveTarget are the one rule for
//     both.
//   - drain: a deregistered target, stored with its deadline (deregistration
//     time + deregistration_delay.timeout_seconds). Live, it ends when its
//     in-flight requests finish or at the deadline. Recovered after a
//     restart, it lasts until its stored deadline: nothing can be in
//     flight through the new listeners, but ecsd cannot know what the task
//     still does for requests the restart cut, so it keeps the delay it
//     was promised. At its end the drain is deleted from the store and its
//     channel closes; the task's stop proceeds.
//   - last known health: each registered target's health-check state
//     (initial, healthy, unhealthy), stored in store.TargetHealth when it
//     changes (by the target's health-check goroutine, after the change).
//     The first pass of a run starts targets in it (lb.TargetGroup.Resume),
//     so a restart keeps serving healthy targets at once while checks go
//     on. Health records are also what tells the ECS scheduler that health
//     changed: it subscribes to that bucket.
//   - reservation: a socket bound by Reserve for a listener not stored yet.
//
// Synchronous answers. ELBv2 writes answer only when the data plane has
// them: elbapi stores, then calls Sync, whose pass applies the change
// (so a target registered is described and checked, a listener created
// serves, a rule changed routes, before the API call answers).
// CreateListener and ModifyListener must fail when their port cannot be
// bound: elbapi calls Reserve inside its store transaction, which binds
// the port (or returns a *lb.PortError naming the port and why, with
// PortAdvice saying what to do) before anything is stored; the pass after
// the commit serves the listener on that socket, and a failed transaction
// Releases it. A listener never moves to another port. A stored listener
// whose port is taken when ecsd starts (another program took it while ecsd
// was down) keeps its port: the error is logged with the fix,
// ListenerError and Impairments report it (DescribeLoadBalancers shows the
// load balancer active_impaired), and passes retry the bind with back-off
// (1 s doubling to 30 s) until the port is free; everything else runs.
//
// Construction. New runs the first pass (the recovery) before it returns
// the Runner, so whatever is given the Runner — elbapi, the task runner,
// the service scheduler — sees recovered load balancers; there is no
// callback to register first. Recovery binds listeners before anything
// slower (the task driver's own recovery), which keeps the gap in
// listener traffic across a restart short; the assembly (internal/ecsd)
// builds it first for that reason.
//
// The ECS contract:
//
//	TargetGroup(arn) (TargetGroupInfo, bool)               // CreateService validation
//	RegisterTarget(tgARN, port) error                      // 127.0.0.1:port, stored like RegisterTargets
//	DeregisterTarget(tgARN, port) (<-chan struct{}, error) // starts draining; closes when drained
//	TargetHealth(tgARN, port) (lb.TargetHealth, bool)
//
// Shutdown stops the listeners (requests in flight may finish) and the
// health checks; stored drains and health stay for the next run.
package lbrun
