package controller

import (
	"context"
	"sync"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// queue is a set of keys waiting to be synced: adding a key that is already
// waiting does nothing (level-triggered), and deadlines are delayed adds.
type queue struct {
	clock clock.Clock

	mu      sync.Mutex
	waiting map[string]bool
	order   []string
	timers  map[string]clock.Timer
	wake    chan struct{}
}

func newQueue(clk clock.Clock) *queue {
	return &queue{clock: clk, waiting: map[string]bool{}, timers: map[string]clock.Timer{}, wake: make(chan struct{}, 1)}
}

// add makes key wait for a sync.
func (q *queue) add(key string) {
	q.mu.Lock()
	if !q.waiting[key] {
		q.waiting[key] = true
		q.order = append(q.order, key)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// addAfter adds key after d, replacing a pending deadline for it.
func (q *queue) addAfter(key string, d time.Duration) {
	if d <= 0 {
		q.add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.timers[key]; ok {
		t.Stop()
	}
	q.timers[key] = q.clock.AfterFunc(d, func() {
		q.mu.Lock()
		delete(q.timers, key)
		q.mu.Unlock()
		q.add(key)
	})
}

// take removes and returns the waiting keys.
func (q *queue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	keys := q.order
	q.order = nil
	clear(q.waiting)
	return keys
}

// next blocks until keys wait or ctx ends.
func (q *queue) next(ctx context.Context) ([]string, bool) {
	for {
		if keys := q.take(); len(keys) > 0 {
			return keys, true
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-q.wake:
		}
	}
}
