// Package ecsdproc runs ecsd as a child process, for tests, `ecsd demo`
// and the benchmarks: it builds (or is given) the ecsd binary, starts
// `ecsd server` on a free loopback port with a data dir and options, waits
// until it answers, and stops it, gently or not.
//
// Vocabulary:
//   - Build: `go build` of this module's ./cmd/ecsd into a directory, a
//     static binary (CGO_ENABLED=0) as a release is, so the docker runtime
//     can put it into the demo image. Tests build once per package, in
//     TestMain.
//   - Proc: one running ecsd. Its Endpoint is http://127.0.0.1:PORT, where
//     the ECS and ELBv2 APIs answer; AWSConfig is a client configuration
//     for it (static credentials, its region).
//   - Answering: Start returns once an HTTP request gets a reply, not just
//     once the port accepts connections.
//   - Stop: SIGTERM, then SIGKILL if it has not exited after Options.Grace.
//     Kill: SIGKILL at once (a crash). Restart: the same address and data
//     dir again, after either.
//   - StopTasks: through the ECS API, delete every service and stop every
//     task, and wait until their workloads are gone: ecsd leaves tasks
//     running when it exits (to re-adopt them on restart), so whoever
//     started tasks stops them before ecsd.
//   - StartTest: Start for a test, stopped (tasks first) when the test ends.
//
// Options.NoFsync runs ecsd with --unsafe-no-fsync: fast, but a crash may
// lose recent writes, so tests that kill -9 and check durability leave it
// off.
package ecsdproc
