// Package runtimetest helps test code that consumes runtime.Driver events.
package runtimetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/runtime"
)

// SafetyTimeout bounds how long Recorder.Require waits for real processes
// or containers. It is a guard against hangs, not a timing assertion.
var SafetyTimeout = 2 * time.Minute

// Recorder is a runtime.Sink that keeps every event and lets tests wait
// for the one they expect without sleeping.
type Recorder struct {
	mu      sync.Mutex
	events  []runtime.Event
	changed chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

// Sink records ev; pass r.Sink as a driver's sink.
func (r *Recorder) Sink(ev runtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Events returns a copy of everything recorded so far.
func (r *Recorder) Events() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Event(nil), r.events...)
}

// Match selects events.
type Match struct {
	TaskARN   string // "" matches any
	Container string // "" matches any
	Kind      runtime.EventKind
	Health    runtime.HealthStatus // "" matches any
}

func (m Match) matches(ev runtime.Event) bool {
	return (m.TaskARN == "" || m.TaskARN == ev.TaskARN) &&
		(m.Container == "" || m.Container == ev.Container) &&
		(m.Kind == "" || m.Kind == ev.Kind) &&
		(m.Health == "" || m.Health == ev.Health)
}

func (m Match) String() string {
	return fmt.Sprintf("%s %s/%s %s", m.Kind, m.TaskARN, m.Container, m.Health)
}

// Find returns the first recorded event matching m.
func (r *Recorder) Find(m Match) (runtime.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if m.matches(ev) {
			return ev, true
		}
	}
	return runtime.Event{}, false
}

// Filter returns every recorded event matching m.
func (r *Recorder) Filter(m Match) []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.Event
	for _, ev := range r.events {
		if m.matches(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// Wait blocks until an event matching m has been recorded (it may already
// have been) and returns the first one.
func (r *Recorder) Wait(ctx context.Context, m Match) (runtime.Event, error) {
	for {
		r.mu.Lock()
		for _, ev := range r.events {
			if m.matches(ev) {
				r.mu.Unlock()
				return ev, nil
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return runtime.Event{}, fmt.Errorf("waiting for %v: %w", m, ctx.Err())
		}
	}
}

// Require is Wait bounded by SafetyTimeout that fails the test, listing
// the recorded events, if no matching event arrives.
func (r *Recorder) Require(t testing.TB, m Match) runtime.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), SafetyTimeout)
	defer cancel()
	ev, err := r.Wait(ctx, m)
	if err != nil {
		t.Fatalf("%v\nrecorded events:\n%s", err, r.Dump())
	}
	return ev
}

// Dump formats the recorded events one per line.
func (r *Recorder) Dump() string {
	var b strings.Builder
	for _, ev := range r.Events() {
		b.WriteString("  " + ev.String() + "\n")
	}
	return b.String()
}

// Kinds returns the kinds of the recorded events matching m, in order;
// handy for asserting a container's whole event sequence.
func (r *Recorder) Kinds(m Match) []runtime.EventKind {
	var out []runtime.EventKind
	for _, ev := range r.Filter(m) {
		out = append(out, ev.Kind)
	}
	return out
}
