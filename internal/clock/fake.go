package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when Advance is called.
// The zero value is not usable; create one with NewFake.
//
// Timers created with a non-positive duration behave as with package time:
// a channel timer has its value ready on return and an AfterFunc callback
// runs at once in its own goroutine. Every other timer fires inside Advance:
// channel sends never block (a full channel drops the value, as tickers in
// package time do) and AfterFunc callbacks run synchronously on the
// goroutine calling Advance, without any lock of the Fake held, so they may
// create, stop or reset timers but must not call Advance.
type Fake struct {
	advanceMu sync.Mutex // serialises Advance calls so time only moves forward

	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters waiterHeap
	changed chan struct{} // closed and replaced whenever len(waiters) changes
}

var _ Clock = (*Fake)(nil)

// DefaultStart is the time a Fake created with a zero start time begins at.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// NewFake returns a Fake clock reading start (DefaultStart if zero).
func NewFake(start time.Time) *Fake {
	if start.IsZero() {
		start = DefaultStart
	}
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns the fake time elapsed since t.
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// After returns a channel that receives the time once d has elapsed.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer returns a timer firing on its channel once d has elapsed.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &waiter{f: f, ch: make(chan time.Time, 1), index: -1}
	f.arm(w, d)
	return (*fakeTimer)(w)
}

// AfterFunc calls fn once d has elapsed (during Advance, see Fake).
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	w := &waiter{f: f, fn: fn, index: -1}
	f.arm(w, d)
	return (*fakeTimer)(w)
}

// NewTicker returns a ticker firing every d. It panics if d <= 0.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &waiter{f: f, ch: make(chan time.Time, 1), period: d, index: -1}
	f.arm(w, d)
	return (*fakeTicker)(w)
}

// Advance moves the clock forward by d, firing every timer that falls due
// on the way in deadline order; ties fire in the order they were armed.
// While a timer fires, Now reports its deadline. When Advance returns, Now
// reports the old time plus d and every callback due by then has returned.
func (f *Fake) Advance(d time.Duration) {
	f.advanceMu.Lock()
	defer f.advanceMu.Unlock()

	f.mu.Lock()
	end := f.now.Add(d)
	for len(f.waiters) > 0 && !f.waiters[0].when.After(end) {
		w := heap.Pop(&f.waiters).(*waiter)
		if w.when.After(f.now) {
			f.now = w.when
		}
		if w.period > 0 {
			w.when = w.when.Add(w.period)
			w.seq = f.nextSeq()
			heap.Push(&f.waiters, w)
		}
		f.notifyLocked()
		if w.fn != nil {
			fn := w.fn
			f.mu.Unlock()
			fn()
			f.mu.Lock()
			continue
		}
		select {
		case w.ch <- f.now:
		default:
		}
	}
	if end.After(f.now) {
		f.now = end
	}
	f.mu.Unlock()
}

// Waiters returns the number of armed timers, tickers and After channels.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// NextDeadline returns the earliest deadline of an armed waiter, if any.
// Simulations use it to jump straight to the next thing that happens.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.waiters) == 0 {
		return time.Time{}, false
	}
	return f.waiters[0].when, true
}

// BlockUntil blocks until at least n waiters are armed. Tests call it after
// starting a goroutine that will wait on the clock, then Advance, so that
// the Advance cannot happen before the goroutine armed its timer.
func (f *Fake) BlockUntil(n int) {
	_ = f.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext is BlockUntil that gives up when ctx is done.
func (f *Fake) BlockUntilContext(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *Fake) nextSeq() uint64 {
	f.seq++
	return f.seq
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// arm schedules w to fire after d, first disarming it if it was armed.
// It reports whether w was armed.
func (f *Fake) arm(w *waiter, d time.Duration) bool {
	f.mu.Lock()
	wasArmed := f.disarmLocked(w)
	if w.ch != nil {
		// Like package time since Go 1.23: no stale value after Stop/Reset.
		select {
		case <-w.ch:
		default:
		}
	}
	if d <= 0 && w.period == 0 {
		now := f.now
		f.mu.Unlock()
		if w.fn != nil {
			go w.fn()
		} else {
			w.ch <- now
		}
		return wasArmed
	}
	w.when = f.now.Add(d)
	w.seq = f.nextSeq()
	heap.Push(&f.waiters, w)
	f.notifyLocked()
	f.mu.Unlock()
	return wasArmed
}

func (f *Fake) disarm(w *waiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := f.disarmLocked(w)
	if w.ch != nil {
		select {
		case <-w.ch:
		default:
		}
	}
	return ok
}

func (f *Fake) disarmLocked(w *waiter) bool {
	if w.index < 0 {
		return false
	}
	heap.Remove(&f.waiters, w.index)
	f.notifyLocked()
	return true
}

// waiter is one armed timer or ticker.
type waiter struct {
	f      *Fake
	when   time.Time
	seq    uint64 // tie-breaker: arming order
	index  int    // position in the heap, -1 when not armed
	ch     chan time.Time
	fn     func()
	period time.Duration // > 0 for tickers
}

type fakeTimer waiter

func (t *fakeTimer) C() <-chan time.Time { return t.ch }
func (t *fakeTimer) Stop() bool          { return t.f.disarm((*waiter)(t)) }
func (t *fakeTimer) Reset(d time.Duration) bool {
	return t.f.arm((*waiter)(t), d)
}

type fakeTicker waiter

func (t *fakeTicker) C() <-chan time.Time { return t.ch }
func (t *fakeTicker) Stop()               { t.f.disarm((*waiter)(t)) }
func (t *fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	w := (*waiter)(t)
	t.f.mu.Lock()
	w.period = d
	t.f.mu.Unlock()
	t.f.arm(w, d)
}

// waiterHeap orders waiters by deadline, then arming order.
type waiterHeap []*waiter

func (h waiterHeap) Len() int { return len(h) }
func (h waiterHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waiterHeap) Pop() any {
	old := *h
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	w.index = -1
	*h = old[:n-1]
	return w
}
