// Package fake is an in-memory driver.Driver driven entirely by a
// clock.Clock: no processes, no containers, no sleeping. Controller and
// lifecycle tests use it with a clock.Fake, and simulations run thousands
// of tasks through it cheaply.
//
// A Machine stands for the host: it owns the fake tasks, which keep
// "running" (their timers keep firing as the clock advances) when the
// Driver that started them is closed, so a new Driver on the same Machine
// can Recover them, just like ecsd restarting next to a Docker engine.
//
// What each container does is a Behavior: delays for pulling, starting and
// stopping, pull or start failures, exiting by itself after a while with
// some code, failing health checks from the start or after a while, and
// ignoring SIGTERM (so Stop takes the full StopTimeout and ends in SIGKILL,
// exit code 137). A container's Behavior comes from Machine.SetImage for
// its image, else from a BehaviorFunc, else from the same DEMO_* variables
// that the real demo app reads (BehaviorFromEnv), so one task definition
// misbehaves the same way under every driver.
//
// Timing: zero delays happen synchronously inside the call that caused
// them; other delays are clock timers. With a clock.Fake, everything a
// clock.Fake.Advance causes has happened when Advance returns; call
// Driver.Drain to wait until the resulting events reached the sink.
// Health probes run every Interval after start and pass or fail at once
// (the probe Timeout is not simulated).
package fake
