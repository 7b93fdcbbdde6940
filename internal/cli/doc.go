// Package cli is ecsctl: commands that deploy ECS services described by
// ecspresso-style configs (internal/deployconf) to any ECS endpoint, through
// the standard AWS SDK configuration (AWS_ENDPOINT_URL_ECS, profiles,
// regions), and that report a failed deployment as soon as ECS knows it
// (internal/deploywatch).
//
// Exit codes: 0 success; 1 an error (usage, config, API); 2 the deployment
// failed or was rolled back; 3 the wait timed out.
package cli
