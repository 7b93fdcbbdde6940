// Package ecsmodel is the vocabulary of Amazon ECS that ecsd speaks: the
// status strings the SDK leaves as plain strings (task, container,
// deployment, service and cluster statuses), task groups ("service:NAME",
// "family:NAME"), ARNs of ECS resources (building them for an Account,
// parsing them with ParseARN), the IDs ECS makes (task IDs, deployment IDs,
// service-deployment IDs, UUIDs) and the record of a task about to be
// launched (Account.NewTask).
//
// Every ECS word is spelled here once; where aws-sdk-go-v2 has an enum type
// (types.TaskDefinitionStatus, types.DesiredStatus, types.HealthStatus, ...)
// ecsd uses the SDK's and this package adds nothing.
//
// The package is pure: no store, no clock (callers pass the time), no I/O
// beyond crypto/rand for IDs.
package ecsmodel
