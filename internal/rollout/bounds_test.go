package rollout

import (
	"math"
	"math/big"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestBoundsExtremes is the table of the bounds arithmetic at the edges of
// int32: nothing overflows, results are capped at MaxInt32.
func TestBoundsExtremes(t *testing.T) {
	const maxI = math.MaxInt32
	for _, tc := range []struct {
		name                string
		desired, minP, maxP int32
		lower, upper        int32
	}{
		{"issue 11: desired MaxInt32 at 0/100", maxI, 0, 100, 0, maxI},
		{"desired 2^30 at 200 % is 2^31: capped", 1 << 30, 100, 200, 1 << 30, maxI},
		{"desired 2^30 − 1 at 200 % fits", 1<<30 - 1, 100, 200, 1<<30 - 1, 1<<31 - 2},
		{"desired MaxInt32 at 200 %", maxI, 100, 200, maxI, maxI},
		{"maximumPercent MaxInt32", 5000, 100, maxI, 5000, maxI},
		{"maximumPercent MaxInt32, desired 1", 1, 0, maxI, 0, maxI / 100},
		{"minimumHealthyPercent MaxInt32 (never accepted, but stored state is not trusted)", 3, maxI, 200, 64424510, 6},
		{"negative desired counts as 0", -5, 100, 200, 0, 0},
		{"negative percents count as 0", 10, -1, -1, 0, 0},
		{"desired 5000 (the default limit) at 200 %", DefaultMaxTasksPerService, 100, 200, 5000, 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lower, upper := Bounds(tc.desired, tc.minP, tc.maxP)
			equal(t, "lower", lower, tc.lower)
			equal(t, "upper", upper, tc.upper)
		})
	}
}

// exactBounds computes Bounds with arbitrary precision.
func exactBounds(desired, minP, maxP int32) (lower, upper int32) {
	d := big.NewInt(int64(max(desired, 0)))
	capped := func(v *big.Int) int32 {
		if v.Cmp(big.NewInt(math.MaxInt32)) > 0 {
			return math.MaxInt32
		}
		return int32(v.Int64())
	}
	l := new(big.Int).Mul(d, big.NewInt(int64(max(minP, 0))))
	l.Add(l, big.NewInt(99)).Quo(l, big.NewInt(100))
	u := new(big.Int).Mul(d, big.NewInt(int64(max(maxP, 0))))
	u.Quo(u, big.NewInt(100))
	return capped(l), capped(u)
}

// FuzzBounds checks Bounds against arbitrary-precision arithmetic for any
// int32 inputs, and the threshold and a Decide step on the same inputs for
// panics and negative counts.
func FuzzBounds(f *testing.F) {
	f.Add(int32(12), int32(75), int32(150))
	f.Add(int32(math.MaxInt32), int32(0), int32(100))
	f.Add(int32(1<<30), int32(100), int32(200))
	f.Add(int32(-1), int32(-1), int32(math.MaxInt32))
	f.Fuzz(func(t *testing.T, desired, minP, maxP int32) {
		lower, upper := Bounds(desired, minP, maxP)
		wantLower, wantUpper := exactBounds(desired, minP, maxP)
		equal(t, "lower", lower, wantLower)
		equal(t, "upper", upper, wantUpper)
		holds(t, "lower ≥ 0", lower >= 0)
		holds(t, "upper ≥ 0", upper >= 0)

		cb := &types.DeploymentCircuitBreaker{Enable: true}
		holds(t, "default breaker threshold in [3, 200]", BreakerThreshold(cb, desired) >= 3 && BreakerThreshold(cb, desired) <= 200)
		cb.ThresholdConfiguration = &types.ThresholdConfiguration{Type: types.ThresholdTypeUnboundedPercent, Value: max(maxP, 1)}
		holds(t, "unbounded breaker threshold ≥ 1", BreakerThreshold(cb, desired) >= 1)

		// A stored service with these values: one step, capped at a small
		// limit so the start stays small.
		s := newSim(t, 2, 2, config(minP, maxP))
		s.st.Params.MaxTasksPerService = 50
		s.st.Service.DesiredCount = desired
		s.deploy(2, 2, behaveOK)
		p := Decide(s.st, s.now)
		holds(t, "start count in [0, limit]", p.Start.Count >= 0 && p.Start.Count <= 50)
		holds(t, "plan desiredCount in [0, limit]", p.DesiredCount >= 0 && p.DesiredCount <= 50)
	})
}
