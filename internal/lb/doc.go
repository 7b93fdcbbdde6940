// Package lb is ecsd's load-balancer data plane: target groups with ELBv2
// health checks and connection draining, and an HTTP listener that forwards
// requests to them the way an Application Load Balancer does. It has no
// API of its own; the ELBv2 operations (internal/elbapi) build and modify
// these types.
//
// Vocabulary (ELBv2's own):
//   - target: a host:port registered in a [TargetGroup]; the port is the
//     "traffic port".
//   - target health: a state ([StateInitial], [StateHealthy],
//     [StateUnhealthy], [StateUnused], [StateDraining]) with a reason code
//     and a description, as DescribeTargetHealth reports it.
//   - health machine: [HealthMachine], the pure state machine that turns
//     probe results into target health, counting consecutive successes and
//     failures against the healthy and unhealthy thresholds.
//   - prober: [Prober] performs one health check (an HTTP GET in
//     production, [HTTPProber]); the target group schedules probes on its
//     injected [clock.Clock], one loop per target, every interval, and
//     enforces the timeout with that clock.
//   - draining: after [TargetGroup.Deregister] a target receives no new
//     requests; it leaves the group when its in-flight requests reach zero
//     or when deregistration_delay.timeout_seconds expires, whichever comes
//     first. Requests still in flight at expiry are aborted (ALB closes the
//     connections). The done channel and the OnDrained callback say when;
//     ECS then sends SIGTERM to the task.
//   - selection: among routable targets (healthy ones, or every
//     non-draining one when none is healthy: ALB fails open), a [Selector]
//     chooses: [RoundRobin] or [LeastOutstanding]
//     (load_balancing.algorithm.type).
//   - rule: conditions (path-pattern, host-header) with a priority and an
//     action; [Router] evaluates rules by ascending priority and falls back
//     to the default action. A [Forward] action spreads requests over
//     weighted target groups by smooth weighted round robin, so proportions
//     are exact and deterministic.
//   - listener: [Listener] is a real socket on 127.0.0.1 serving a Router;
//     if the requested port is taken (or privileged) it falls back to a
//     free port and reports the one it got.
//
// Not applied: slow_start.duration_seconds is validated and stored but
// targets receive their full share as soon as they are healthy. Stickiness
// and cross-zone attributes are accepted and ignored. Only HTTP listeners
// and HTTP health checks are supported.
package lb
