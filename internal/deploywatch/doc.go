// Package deploywatch decides, from what the ECS API shows, whether a
// deployment has succeeded, failed or is still going — the moment it is
// knowable. It reads rolloutState and the service-deployment status (which
// report a circuit-breaker trip or a rollback at once), not just "is the
// service stable", which is how a crash-looping or rolled-back deployment
// used to look like a long wait or, worse, a success.
//
// Assess is pure: observations in, a verdict out; the CLI polls and prints.
package deploywatch
