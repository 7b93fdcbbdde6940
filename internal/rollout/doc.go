// Package rollout holds ECS's deployment arithmetic as pure functions: the
// bounds a rolling update works within and the deployment circuit breaker's
// threshold. Nothing here reads a clock or the store; callers pass state in
// and get decisions out, so every rule is table-tested.
package rollout
