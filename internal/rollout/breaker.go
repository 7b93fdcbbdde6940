package rollout

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// BreakerThreshold is the number of failed tasks that trips the deployment
// circuit breaker of a deployment of desired tasks. The default is
// ceil(0.5 × desired) clamped to [3, 200]; thresholdConfiguration changes it:
// COUNT is the value itself, BOUNDED_PERCENT is value% of desired clamped to
// [3, 200], UNBOUNDED_PERCENT is value% of desired with no clamp (at least 1).
func BreakerThreshold(cb *types.DeploymentCircuitBreaker, desired int32) int32 {
	typ, value := types.ThresholdTypeBoundedPercent, int32(50)
	if cb != nil && cb.ThresholdConfiguration != nil {
		typ, value = cb.ThresholdConfiguration.Type, cb.ThresholdConfiguration.Value
	}
	percent := int32(math.Ceil(float64(desired) * float64(value) / 100))
	switch typ {
	case types.ThresholdTypeCount:
		return max(value, 1)
	case types.ThresholdTypeUnboundedPercent:
		return max(percent, 1)
	default:
		return min(max(percent, 3), 200)
	}
}
