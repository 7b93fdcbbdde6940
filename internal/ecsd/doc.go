// Package ecsd is the assembly: it builds one ecsd — the store, the load
// balancers, the AWS APIs, the request Guard, the service scheduler, the
// drainer, the task runner and its runtime driver — in the one order that
// works, runs it, and shuts it down. Production (cmd/ecsd), the controller
// tests and the rollout benchmark all build on it; only cmd/ecsd's flags,
// environment, signals, exit codes and startup lines stay outside.
//
// The order, and why (New):
//
//  1. The store (the data dir). Everything reads and writes it.
//  2. The load balancers of the last run (lbrun.New): their listeners
//     serve again, targets in their last known health, drains resumed,
//     before anything slower such as the runtime's recovery.
//  3. The service scheduler and the drainer (controller), then the APIs:
//     ECS (ecsapi), ELBv2 (elbapi, which stores what lbrun makes real),
//     Application Auto Scaling, and whatever routes lists. The default
//     cluster of the default region exists before the first request.
//  4. The task runner (taskrun) and its runtime driver (Config.Driver):
//     the driver's events go to the runner, so the runner comes first and
//     is attached to the driver it made; then the runner recovers the
//     tasks the runtime still runs.
//
// Run starts each part's loop (lbrun, the drainer, the task runner, the
// scheduler) and serves the APIs behind the Guard on Config.Listener until
// its context ends, then shuts the HTTP server down cleanly (requests in
// flight get two seconds) and waits for the loops. Close releases the
// driver (tasks keep running for the next ecsd), the load balancers
// (requests in flight get two seconds) and the store.
//
// Tests and tools that drive the parts step by step (a fake clock, the
// fake driver, no listener) call New and use the Server's fields instead
// of Run: nothing runs in the background until Run. The constructors of
// lbrun, controller and taskrun subscribe to the store; those
// subscriptions only queue work for their loops (a non-blocking kick, or
// a service key added to a set), so they are harmless before Run and
// when nobody runs the loops.
//
// # Adding an API
//
// An AWS API package (CodeDeploy, Lambda, CloudWatch, ...) is one line in
// routes (apis.go): its X-Amz-Target prefix (JSON 1.1) or its API version
// (AWS Query) and the service built from the Server's parts.
package ecsd
