package lb

import "sync/atomic"

// Selector chooses one target from a non-empty pool of routable targets.
// The pool is only valid during the call. Implementations must be safe for
// concurrent use.
type Selector interface {
	Select(pool []*Target) *Target
}

var (
	_ Selector = (*RoundRobin)(nil)
	_ Selector = (*LeastOutstanding)(nil)
)

// RoundRobin cycles through the pool (load_balancing.algorithm.type
// round_robin).
type RoundRobin struct{ n atomic.Uint64 }

// Select implements [Selector].
func (r *RoundRobin) Select(pool []*Target) *Target {
	i := r.n.Add(1) - 1
	return pool[i%uint64(len(pool))]
}

// LeastOutstanding picks the target with the fewest in-flight requests
// (least_outstanding_requests); ties are broken round robin so equal
// targets share the load.
type LeastOutstanding struct{ n atomic.Uint64 }

// Select implements [Selector].
func (l *LeastOutstanding) Select(pool []*Target) *Target {
	start := int((l.n.Add(1) - 1) % uint64(len(pool)))
	best := pool[start]
	bestN := best.InFlight()
	for k := 1; k < len(pool); k++ {
		t := pool[(start+k)%len(pool)]
		if n := t.InFlight(); n < bestN {
			best, bestN = t, n
		}
	}
	return best
}

func newSelector(a Algorithm) Selector {
	if a == AlgorithmLeastOutstanding {
		return &LeastOutstanding{}
	}
	return &RoundRobin{}
}
