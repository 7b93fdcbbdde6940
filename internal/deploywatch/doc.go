// Package deploywatch decides, from what the ECS API shows, whether a
// deployment has succeeded, failed or is still going — the moment it is
// knowable. It reads rolloutState and the service-deployment status (which
// report a circuit-breaker trip or a rollback at once), not just "is the
// service stable", which is how a crash-looping or rolled-back deployment
// used to look like a long wait or, worse, a success.
//
// When a deployment failed, Causes says why from its stopped tasks and the
// service's events — the essential container's exit code, the failing
// container or ELB health check and its reason, a start failure — with the
// rollback's own stops left out, and Report puts the leading cause and its
// count on the first line of the failure. Container log lines are not part
// of it: the ECS API does not carry them (CloudWatch Logs would).
//
// Assess, Causes and Report are pure: observations in, a verdict or a
// report out; the CLI polls and prints.
package deploywatch
