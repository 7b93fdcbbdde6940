// Package cli is ecsctl: commands that deploy ECS services described by
// ecspresso-style configs (internal/deployconf) to any ECS endpoint, through
// the standard AWS SDK configuration (AWS_ENDPOINT_URL, profiles,
// regions), and that report a failed deployment as soon as ECS knows it
// (internal/deploywatch).
//
// Exit codes: 0 success; 1 an error (usage, config, API); 2 the deployment
// failed or was rolled back; 3 the wait timed out. run, waiting until its
// tasks stop, exits with the watched (essential) container's exit code
// instead, or 2 when a task stopped before that container ran.
//
// Output goes through a printer (printer.go): timestamped lines; JSON lines
// with --log-format json (every report, failures included); and on a
// terminal a live view of the deployments being waited for, redrawn in
// place (renderLive, a pure function of a DescribeServices snapshot).
package cli
