package rollout

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestBreakerThreshold(t *testing.T) {
	cfg := func(typ types.ThresholdType, v int32) *types.DeploymentCircuitBreaker {
		return &types.DeploymentCircuitBreaker{Enable: true, ThresholdConfiguration: &types.ThresholdConfiguration{Type: typ, Value: v}}
	}
	for _, tc := range []struct {
		name    string
		cb      *types.DeploymentCircuitBreaker
		desired int32
		want    int32
	}{
		{"default desired 1", nil, 1, 3},
		{"default desired 6", nil, 6, 3},
		{"default desired 25", nil, 25, 13},
		{"default desired 400", nil, 400, 200},
		{"default desired 0", nil, 0, 3},
		{"enabled without configuration", &types.DeploymentCircuitBreaker{Enable: true}, 25, 13},
		{"count", cfg(types.ThresholdTypeCount, 7), 400, 7},
		{"bounded percent", cfg(types.ThresholdTypeBoundedPercent, 10), 100, 10},
		{"bounded percent clamps low", cfg(types.ThresholdTypeBoundedPercent, 10), 10, 3},
		{"bounded percent clamps high", cfg(types.ThresholdTypeBoundedPercent, 100), 1000, 200},
		{"unbounded percent", cfg(types.ThresholdTypeUnboundedPercent, 100), 1000, 1000},
		{"unbounded percent small", cfg(types.ThresholdTypeUnboundedPercent, 10), 5, 1},
	} {
		if got := BreakerThreshold(tc.cb, tc.desired); got != tc.want {
			t.Errorf("%s: BreakerThreshold(desired %d) = %d, want %d", tc.name, tc.desired, got, tc.want)
		}
	}
}
