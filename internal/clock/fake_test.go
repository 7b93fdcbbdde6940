package clock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestFakeAdvanceFiresInDeadlineOrder(t *testing.T) {
	f := NewFake(time.Time{})
	start := f.Now()
	var got []string
	var at []time.Duration
	record := func(name string) func() {
		return func() {
			got = append(got, name)
			at = append(at, f.Since(start))
		}
	}
	f.AfterFunc(3*time.Second, record("c"))
	f.AfterFunc(1*time.Second, record("a"))
	f.AfterFunc(2*time.Second, record("b1"))
	f.AfterFunc(2*time.Second, record("b2")) // same deadline: arming order
	f.AfterFunc(10*time.Second, record("late"))

	f.Advance(3 * time.Second)
	if want := []string{"a", "b1", "b2", "c"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("Now during callbacks = %v, want %v", at, want)
	}
	if f.Since(start) != 3*time.Second {
		t.Fatalf("after Advance: %v elapsed, want 3s", f.Since(start))
	}
	if n := f.Waiters(); n != 1 {
		t.Fatalf("Waiters = %d, want 1", n)
	}
}

func TestFakeCallbackSchedulesWithinAdvance(t *testing.T) {
	f := NewFake(time.Time{})
	var fired []time.Duration
	start := f.Now()
	var tick func()
	tick = func() {
		fired = append(fired, f.Since(start))
		if len(fired) < 5 {
			f.AfterFunc(time.Second, tick)
		}
	}
	f.AfterFunc(time.Second, tick)
	f.Advance(3500 * time.Millisecond)
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(fired, want) {
		t.Fatalf("fired at %v, want %v", fired, want)
	}
	f.Advance(time.Hour)
	if len(fired) != 5 {
		t.Fatalf("fired %d times, want 5", len(fired))
	}
}

func TestFakeTimerStopReset(t *testing.T) {
	f := NewFake(time.Time{})
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of armed timer returned false")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
	f.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of stopped timer reported active")
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Millisecond)
	select {
	case got := <-tm.C():
		if !got.Equal(f.Now()) {
			t.Fatalf("timer sent %v, want %v", got, f.Now())
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
}

func TestFakeResetDrainsStaleValue(t *testing.T) {
	f := NewFake(time.Time{})
	tm := f.NewTimer(time.Second)
	f.Advance(time.Second) // value now buffered
	tm.Reset(time.Second)
	select {
	case <-tm.C():
		t.Fatal("stale value after Reset")
	default:
	}
}

func TestFakeTicker(t *testing.T) {
	f := NewFake(time.Time{})
	tk := f.NewTicker(time.Second)
	start := f.Now()
	for i := 1; i <= 3; i++ {
		f.Advance(time.Second)
		got := <-tk.C()
		if d := got.Sub(start); d != time.Duration(i)*time.Second {
			t.Fatalf("tick %d at %v", i, d)
		}
	}
	// A slow reader loses ticks instead of blocking Advance.
	f.Advance(5 * time.Second)
	<-tk.C()
	select {
	case <-tk.C():
		t.Fatal("more than one tick buffered")
	default:
	}
	tk.Stop()
	if f.Waiters() != 0 {
		t.Fatalf("Waiters after Stop = %d", f.Waiters())
	}
}

func TestFakeZeroDurationFiresAtOnce(t *testing.T) {
	f := NewFake(time.Time{})
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) not ready")
	}
	done := make(chan struct{})
	f.AfterFunc(-time.Second, func() { close(done) })
	<-done
}

func TestFakeBlockUntil(t *testing.T) {
	f := NewFake(time.Time{})
	result := make(chan time.Duration)
	start := f.Now()
	go func() {
		<-f.After(5 * time.Second)
		result <- f.Since(start)
	}()
	f.BlockUntil(1) // the goroutine has armed its timer
	f.Advance(5 * time.Second)
	if got := <-result; got != 5*time.Second {
		t.Fatalf("woke at %v", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.BlockUntilContext(ctx, 1); err == nil {
		t.Fatal("BlockUntilContext with no waiters and cancelled ctx returned nil")
	}
}

func TestFakeConcurrentUse(t *testing.T) {
	f := NewFake(time.Time{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	fired := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.AfterFunc(time.Duration(i)*time.Millisecond+time.Millisecond, func() {
				mu.Lock()
				fired++
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	f.Advance(time.Second)
	if fired != 50 {
		t.Fatalf("fired %d, want 50", fired)
	}
}

func TestRealClock(t *testing.T) {
	c := Real()
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop returned false")
	}
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	<-done
	if c.Since(c.Now()) < 0 {
		t.Fatal("negative Since")
	}
}
