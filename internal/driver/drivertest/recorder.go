// Package drivertest helps test code that consumes driver.Driver events.
package drivertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/driver"
)

// SafetyTimeout bounds how long Recorder.Require waits for real processes
// or containers. It is a guard against hangs, not a timing assertion.
var SafetyTimeout = 2 * time.Minute

// Recorder is a driver.Sink that keeps every event and lets tests wait
// for the one they expect without sleeping.
type Recorder struct {
	mu      sync.Mutex
	events  []driver.Event
	changed chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

// Sink records ev; pass r.Sink as a driver's sink.
func (r *Recorder) Sink(ev driver.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Events returns a copy of everything recorded so far.
func (r *Recorder) Events() []driver.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]driver.Event(nil), r.events...)
}

// Match selects events.
type Match struct {
	TaskARN   string // "" matches any
	Container string // "" matches any
	Kind      driver.EventKind
	Health    driver.HealthStatus // "" matches any
}

func (m Match) matches(ev driver.Event) bool {
	return (m.TaskARN == "" || m.TaskARN == ev.TaskARN) &&
		(m.Container == "" || m.Container == ev.Container) &&
		(m.Kind == "" || m.Kind == ev.Kind) &&
		(m.Health == "" || m.Health == ev.Health)
}

func (m Match) String() string {
	return fmt.Sprintf("%s %s/%s %s", m.Kind, m.TaskARN, m.Container, m.Health)
}

// Find returns the first recorded event matching m.
func (r *Recorder) Find(m Match) (driver.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if m.matches(ev) {
			return ev, true
		}
	}
	return driver.Event{}, false
}

// Filter returns every recorded event matching m.
func (r *Recorder) Filter(m Match) []driver.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []driver.Event
	for _, ev := range r.events {
		if m.matches(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// Wait blocks until an event matching m has been recorded (it may already
// have been) and returns the first one.
func (r *Recorder) Wait(ctx context.Context, m Match) (driver.Event, error) {
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
			return driver.Event{}, fmt.Errorf("waiting for %v: %w", m, ctx.Err())
		}
	}
}

// Require is Wait bounded by SafetyTimeout that fails the test, listing
// the recorded events, if no matching event arrives.
func (r *Recorder) Require(t testing.TB, m Match) driver.Event {
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
func (r *Recorder) Kinds(m Match) []driver.EventKind {
	var out []driver.EventKind
	for _, ev := range r.Filter(m) {
		out = append(out, ev.Kind)
	}
	return out
}
