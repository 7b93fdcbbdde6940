// Package process is a driver.Driver that runs each container of a task
// as a plain host process: no images, no isolation, nothing to install. It
// is how ecsd runs tasks on a machine without Docker.
//
// Mapping from ECS container terms:
//   - image: ignored, except that ecsd/demoapp[:tag] with no entryPoint
//     means "this ecsd binary's demo app" (Options.DemoCommand, by default
//     os.Executable() + "demoapp"; the image's command, if any, is
//     appended, and VERSION defaults to the tag, as in the Docker image).
//   - entryPoint + command: the argv, executed directly (no shell).
//   - environment: exactly the given variables plus PATH (ecsd's, unless
//     given) and PORT (below).
//   - portMappings: every containerPort gets a host port on 127.0.0.1
//     (hostPort if given, else a free one). The process must listen on
//     the first mapping's host port, passed as $PORT. Bindings report
//     bindIP 127.0.0.1.
//   - stop: SIGTERM to the process group, SIGKILL after stopTimeout.
//     Exit codes follow Docker: 128+n for death by signal n (137 for
//     SIGKILL).
//   - healthCheck: the command runs as a subprocess with the container's
//     environment and working directory ("CMD" → argv, "CMD-SHELL" →
//     /bin/sh -c); for the demo image a leading /ecsd (the binary's path
//     inside the Docker image) is replaced by the demo binary, so one task
//     definition works with both drivers.
//
// Files under Options.DataDir: tasks/<task-id>/<container>.log receives the
// container's stdout and stderr; tasks/<task-id>/state.json records the
// spec and each process's pid and start time (from /proc/<pid>/stat), so
// Recover can tell a still-running process from a reused pid after an
// ecsd restart. Processes are started in their own process group
// (Setpgid) and survive ecsd. A re-attached process is watched through a
// pidfd; as ecsd is no longer its parent, its exit code is unknown and is
// reported as nil (137 if ecsd had to SIGKILL it).
//
// Intervals and stop timeouts use the injected clock.Clock.
package process
