package driver

import (
	"context"
	"log/slog"
	"sync"
)

// Emitter delivers a driver's events to its Sink. Drivers call Emit, which
// only queues and never blocks, often while holding their own locks; a
// delivery goroutine then calls the sink with no driver lock held, so the
// sink may call back into the driver (for example Stop).
//
// Guarantees: the sink is called serially (never concurrently), in the
// order Emit was called, and never from inside a driver method.
type Emitter struct {
	log *slog.Logger

	mu      sync.Mutex
	sink    Sink
	queue   []Event
	busy    bool          // a delivery goroutine is running
	idle    chan struct{} // closed when the queue drains; nil when not busy
	closed  bool
	pending sync.WaitGroup // the running delivery goroutine
}

// NewEmitter returns an Emitter delivering to sink (which may be nil:
// events are then dropped). A nil logger means slog.Default().
func NewEmitter(sink Sink, log *slog.Logger) *Emitter {
	if log == nil {
		log = slog.Default()
	}
	return &Emitter{sink: sink, log: log}
}

// Emit queues ev for delivery.
func (e *Emitter) Emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.sink == nil {
		return
	}
	e.queue = append(e.queue, ev)
	if !e.busy {
		e.busy = true
		e.idle = make(chan struct{})
		e.pending.Add(1)
		go e.deliver()
	}
}

func (e *Emitter) deliver() {
	defer e.pending.Done()
	for {
		e.mu.Lock()
		if len(e.queue) == 0 || e.closed {
			e.queue = nil
			e.busy = false
			close(e.idle)
			e.idle = nil
			e.mu.Unlock()
			return
		}
		batch := e.queue
		e.queue = nil
		sink := e.sink
		e.mu.Unlock()
		for _, ev := range batch {
			e.call(sink, ev)
		}
	}
}

func (e *Emitter) call(sink Sink, ev Event) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("driver event sink panicked", "event", ev.String(), "panic", r)
		}
	}()
	if sink != nil {
		sink(ev)
	}
}

// SetSink replaces the sink (nil drops events). Events already taken for
// delivery may still reach the old sink.
func (e *Emitter) SetSink(sink Sink) {
	e.mu.Lock()
	e.sink = sink
	e.mu.Unlock()
}

// Drain waits until every event emitted so far has been delivered and the
// sink has returned, including events the sink's own calls emitted. Fake
// clock tests call it after Advance to see the events that Advance caused.
func (e *Emitter) Drain(ctx context.Context) error {
	for {
		e.mu.Lock()
		idle := e.idle
		e.mu.Unlock()
		if idle == nil {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close drops queued events, waits for a sink call in progress to return,
// and makes later Emits no-ops. It must not be called from the sink.
func (e *Emitter) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.pending.Wait()
}
