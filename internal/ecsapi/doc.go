// Package ecsapi implements the Amazon ECS API operations ecsd answers:
// clusters, task definitions, services, tasks, tags and service deployments.
//
// Each operation takes the aws-sdk-go-v2 input type, validates it as ECS
// does (the same error types and, where known, the same messages), and reads
// or writes the store in exactly one transaction, so a rejected call changes
// nothing and an accepted one is durable before it answers.
//
// The deployment lifecycle is rollout's: the API validates a request,
// changes the service's own fields and calls rollout.StartDeployment (a new
// deployment and its service deployment) or rollout.Rescale (deployments'
// desired counts after a scale or a delete); it never writes a
// deployment's desiredCount itself.
//
// Vocabulary:
//   - Call: one request's context: its region (state is partitioned by
//     region, as AWS regions are separate), account and time.
//   - ref: what a caller may use to name a resource: a name, an ID or an ARN.
//   - Operations ecsd does not run answer UnsupportedFeatureException naming
//     the operation; names that are no ECS operation answer
//     UnknownOperationException.
package ecsapi
