package main

import (
	"fmt"
	"testing"
	"time"
)

// TestInProcess runs tests 1 and 2 small, to keep the harness working.
func TestInProcess(t *testing.T) {
	dir := t.TempDir()
	sim := simPhase(20, 5*time.Second, dir)
	if sim.Error != "" {
		t.Fatalf("sim: %s", sim.Error)
	}
	if sim.Rollout == nil || sim.Rollout.SimulatedS < 40 || sim.Rollout.Syncs == 0 {
		t.Fatalf("sim: %+v", sim.Rollout)
	}
	s := syncPhase(10, 50*time.Millisecond, dir)
	if s.Error != "" {
		t.Fatalf("sync: %s", s.Error)
	}
	if !s.PlanEmpty || s.SyncNs.Median <= 0 || s.LoadNs.Median <= 0 {
		t.Fatalf("sync: %+v", s)
	}
}

// BenchmarkSync is test 2 as a Go benchmark: one Services.Sync of a
// service in steady state (fake runtime and clock, store in $TMPDIR).
//
//	go test -run XXX -bench BenchmarkSync ./bench/rollout/
func BenchmarkSync(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			w, err := newWorld(b.TempDir(), defaultParams)
			if err != nil {
				b.Fatal(err)
			}
			defer w.close()
			if _, err := newSteadyService(w, int32(n), "web:1"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p, err := w.services.Sync(serviceKey)
				if err != nil {
					b.Fatal(err)
				}
				if !p.Empty() {
					b.Fatalf("steady state sync planned work: %+v", p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
		})
	}
}
