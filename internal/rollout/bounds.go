package rollout

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// DefaultMaxTasksPerService is ECS's default quota of tasks per service
// (the desired count). Params.MaxTasksPerService overrides it.
const DefaultMaxTasksPerService = 5000

// Bounds returns a rolling update's bounds for desired tasks: at least
// lower = ceil(desired × minimumHealthyPercent / 100) tasks must stay
// healthy and at most upper = floor(desired × maximumPercent / 100) tasks
// may be RUNNING or PENDING. Negative inputs count as 0; the arithmetic is
// done in 64 bits and both results are capped at math.MaxInt32, so no
// int32 input overflows (desired 2^30 at 200 % is 2^31, capped).
//
// Worked example (the seed article's): desired 12, min 75 %, max 150 % →
// lower 9, upper 18. From 12 old healthy tasks the scheduler may stop
// 12 - 9 = 3 old tasks, then start 18 - 9 = 9 new ones, wait for them to be
// healthy (18 healthy), stop the remaining 9 old ones (9 left) and start the
// last 3 new ones. Desired 100 with 90/110 moves in batches of 110 - 90 =
// 20; with 90/150, batches of 60.
func Bounds(desired, minPercent, maxPercent int32) (lower, upper int32) {
	d := int64(max(desired, 0))
	lower = capInt32((d*int64(max(minPercent, 0)) + 99) / 100)
	upper = capInt32(d * int64(max(maxPercent, 0)) / 100)
	return lower, upper
}

func capInt32(v int64) int32 { return int32(min(v, math.MaxInt32)) }

// Percents returns the minimumHealthyPercent and maximumPercent of cfg,
// with ECS's defaults (100 and 200) for unset values.
func Percents(cfg *types.DeploymentConfiguration) (minPercent, maxPercent int32) {
	minPercent, maxPercent = 100, 200
	if cfg != nil {
		if cfg.MinimumHealthyPercent != nil {
			minPercent = *cfg.MinimumHealthyPercent
		}
		if cfg.MaximumPercent != nil {
			maxPercent = *cfg.MaximumPercent
		}
	}
	return minPercent, maxPercent
}
