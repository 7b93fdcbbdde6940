// Package docker is the driver.Driver that runs each container of a task
// as a Docker container, through the official Engine API client
// (github.com/moby/moby/client), negotiating the API version so that old
// engines (Docker 20.10, API 1.41) work.
//
// Mapping from ECS container terms:
//   - image: used if present locally, pulled otherwise (PullStarted,
//     PullStopped); a failed pull is PullFailed with Reason
//     "CannotPullContainerError: <engine message>". ecsd/demoapp images
//     are created locally instead when Options.DemoBinary is set (see
//     EnsureDemoImage): no registry is needed for the demo app.
//   - entryPoint, command, environment, workingDirectory: the container's
//     Entrypoint, Cmd, Env and WorkingDir (empty means the image's).
//   - portMappings: default bridge network; each containerPort is
//     published on Options.BindIP (127.0.0.1) at hostPort, or at a port
//     the engine picks; Started reports the resulting bindings.
//   - stop: ContainerStop with the container's stopTimeout (rounded up to
//     whole seconds): the image's STOPSIGNAL (default SIGTERM), then
//     SIGKILL, which Docker reports as exit code 137.
//   - healthCheck: the engine's own Healthcheck (CMD / CMD-SHELL,
//     interval, timeout, retries, startPeriod); the driver maps the
//     engine's health_status events to HealthChanged.
//
// Exits are observed with ContainerWait. Containers carry labels:
// com.ecsd.task-arn, com.ecsd.container-name, com.ecsd.cluster,
// com.ecsd.family, com.ecsd.revision, com.ecsd.instance (which ecsd owns
// it, Options.Instance) and com.ecsd.task-spec (the TaskSpec as JSON).
// Recover lists the containers of its instance, rebuilds each task from
// the spec label and re-attaches those still running; exit codes of
// containers that stopped meanwhile are known from the engine. Containers
// are removed once their task has stopped unless Options.KeepContainers.
package docker
