// Package lb is ecsd's load-balancer data plane: target groups with ELBv2
// health checks and connection draining, and an HTTP listener that forwards
// requests to them the way an Application Load Balancer does. It has no
// API of its own; internal/lbrun builds and modifies these types from the
// ELBv2 state internal/elbapi stores.
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
//   - listener: [Listener] is a real socket on 127.0.0.1 serving a Router,
//     on the port asked for and no other: [Bind] reports a port that is
//     taken or privileged as a [PortError]; [Serve] serves a socket bound
//     beforehand.
//   - resume: [TargetGroup.Resume] registers a target in its last known
//     health (after a restart); [TargetGroup.DeregisterBy] drains until a
//     given deadline (a stored one).
//   - health-check limits: [IntervalLimit], [TimeoutLimit],
//     [HealthyThresholdLimit], [UnhealthyThresholdLimit]: ELBv2's ranges
//     and defaults, the one table API validation and the data plane use.
//   - forwarder: the Router forwards a request synchronously on the
//     listener's handler goroutine, with no http.Transport and no
//     httputil.ReverseProxy: each target has a pool of keep-alive HTTP/1.1
//     connections (at most 128 idle, closed after 90 s unused, all closed
//     when the target leaves the group; new ones with a 10 s connect
//     timeout). The request head is written in one buffered write (the
//     client's request target and Host; hop-by-hop headers and Expect
//     removed; X-Forwarded-For appended to, -Proto and -Port set,
//     Forwarded and X-Forwarded-Host dropped), the body streamed
//     (Content-Length, or chunked with trailers when unknown). The
//     response head is parsed in place into the client's header when it is
//     the common kind (HTTP/1.1, one Content-Length, no hop-by-hop field,
//     wholly buffered), else read with http.ReadResponse and copied without
//     the hop-by-hop fields; the body is streamed through a pooled buffer,
//     flushed as it comes when it has no Content-Length or is
//     text/event-stream. A bodyless idempotent request that fails on a
//     reused connection before any response byte is sent once more on a
//     new connection; before any other request an idle connection is
//     checked with a non-blocking peek. The client going away closes the
//     request's connection (the target sees the request cancelled): the
//     Listener's connections notice it where net/http does, at a failed
//     read, with no per-request context registration. Drain expiry closes
//     the connections of the target's requests in flight.
//     Failures before the response are 502; during the body the client's
//     connection is aborted. Requests asking for a connection upgrade
//     (WebSocket, h2c) and CONNECT go through httputil.ReverseProxy, which
//     hijacks both sides; so does everything when
//     [RouterOptions.Transport] is set (tests). Unlike the http.Transport
//     it replaces, the forwarder does not add Accept-Encoding: gzip nor
//     decompress, and it sends a request body whole before reading the
//     response (when a target answers early without reading a large
//     request body, the client gets a 502 rather than that answer).
//
// Not applied: slow_start.duration_seconds is validated and stored but
// targets receive their full share as soon as they are healthy. Stickiness
// and cross-zone attributes are accepted and ignored. Only HTTP listeners
// and HTTP health checks are supported.
package lb
