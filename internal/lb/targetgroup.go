package lb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// Errors returned by target registration.
var (
	ErrTargetNotRegistered = errors.New("target is not registered")
	ErrTargetDraining      = errors.New("target is draining")
	ErrClosed              = errors.New("target group is closed")
)

// TargetGroupConfig is what CreateTargetGroup / ModifyTargetGroup(Attributes)
// carry for the data plane.
type TargetGroupConfig struct {
	Name        string
	HealthCheck HealthCheck       // zero fields take the defaults
	Attributes  map[string]string // ELBv2 keys; see [ParseAttributes]
}

// Options are a target group's dependencies and observers. Callbacks run on
// the target group's goroutines (or the clock's, or a request's) without
// any lock held; they must not block for long.
type Options struct {
	Clock  clock.Clock  // default clock.Real()
	Prober Prober       // default an [HTTPProber]
	Logger *slog.Logger // default discards

	// OnCheck is called after every health check with its result and the
	// target's health afterwards.
	OnCheck func(target string, r ProbeResult, h TargetHealth)
	// OnHealthChange is called when a target's state changes (including to
	// draining).
	OnHealthChange func(target string, h TargetHealth)
	// OnDrained is called once per deregistered target when draining ends:
	// timedOut is false when its in-flight requests reached zero (or it had
	// none), true when the deregistration delay expired first.
	OnDrained func(target string, timedOut bool)
}

// TargetGroup holds targets, checks their health on its clock and hands
// routable targets to the proxy.
type TargetGroup struct {
	name   string
	clk    clock.Clock
	prober Prober
	log    *slog.Logger
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	hc       HealthCheck
	attrs    Attributes
	selector Selector
	targets  map[string]*Target // registered and draining
	active   []*Target          // registered, not draining, in registration order
	scratch  []*Target
	seq      uint64
	inUse    bool
	closed   bool
}

// Target is one registered host:port. Its methods are safe for concurrent
// use.
type Target struct {
	addr     string
	port     int
	seq      uint64
	inflight atomic.Int64
	draining atomic.Bool
	done     chan struct{}
	// aborted is cancelled when draining times out (or the group closes):
	// requests still in flight to the target are cut, as ALB closes them.
	aborted context.Context
	abort   context.CancelFunc
	// pool holds the forwarder's keep-alive connections to the target;
	// closed when the target leaves the group (drain expiry also cuts the
	// connections carrying requests) or the group closes.
	pool connPool

	// guarded by TargetGroup.mu
	machine    *HealthMachine
	health     TargetHealth
	stopChecks context.CancelFunc
	drainTimer clock.Timer
	finished   bool
}

// Addr returns the target's host:port.
func (t *Target) Addr() string { return t.addr }

// InFlight returns the number of requests being proxied to the target.
func (t *Target) InFlight() int64 { return t.inflight.Load() }

// TargetDescription is one entry of DescribeTargetHealth.
type TargetDescription struct {
	Target          string // host:port as registered
	HealthCheckPort string
	Health          TargetHealth
}

// NewTargetGroup validates cfg and returns an empty target group. Close it
// to stop its health checks.
func NewTargetGroup(cfg TargetGroupConfig, opts Options) (*TargetGroup, error) {
	hc := cfg.HealthCheck.WithDefaults()
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("target group %s: %w", cfg.Name, err)
	}
	attrs, err := ParseAttributes(DefaultAttributes(), cfg.Attributes)
	if err != nil {
		return nil, fmt.Errorf("target group %s: %w", cfg.Name, err)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Prober == nil {
		opts.Prober = NewHTTPProber()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &TargetGroup{
		name:     cfg.Name,
		clk:      opts.Clock,
		prober:   opts.Prober,
		log:      opts.Logger.With("target_group", cfg.Name),
		opts:     opts,
		ctx:      ctx,
		cancel:   cancel,
		hc:       hc,
		attrs:    attrs,
		selector: newSelector(attrs.Algorithm),
		targets:  map[string]*Target{},
		inUse:    true,
	}, nil
}

// Name returns the target group's name.
func (tg *TargetGroup) Name() string { return tg.name }

// HealthCheck returns the health-check configuration (with defaults).
func (tg *TargetGroup) HealthCheck() HealthCheck {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.hc
}

// Attributes returns the typed attributes.
func (tg *TargetGroup) Attributes() Attributes {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.attrs
}

// SetHealthCheck replaces the health-check configuration. New thresholds
// and matcher apply from the next check of every target; counts restart.
func (tg *TargetGroup) SetHealthCheck(hc HealthCheck) error {
	hc = hc.WithDefaults()
	if err := hc.Validate(); err != nil {
		return fmt.Errorf("modifying target group %s: %w", tg.name, err)
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.hc = hc
	for _, t := range tg.active {
		m := NewHealthMachine(hc)
		m.health = t.machine.health
		t.machine = m
	}
	return nil
}

// SetAttributes applies ELBv2 attributes (ModifyTargetGroupAttributes). A
// new deregistration delay applies to later deregistrations.
func (tg *TargetGroup) SetAttributes(kv map[string]string) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	a, err := ParseAttributes(tg.attrs, kv)
	if err != nil {
		return fmt.Errorf("modifying target group %s: %w", tg.name, err)
	}
	if a.Algorithm != tg.attrs.Algorithm {
		tg.selector = newSelector(a.Algorithm)
	}
	tg.attrs = a
	return nil
}

// SetInUse records whether a listener rule forwards to the group. A group
// not in use reports its targets unused (Target.NotInUse), as ELBv2 does;
// health checks keep running. New groups are in use.
func (tg *TargetGroup) SetInUse(inUse bool) {
	tg.mu.Lock()
	tg.inUse = inUse
	tg.mu.Unlock()
}

// Register adds targets (host:port). A target already registered is left
// as it is; one still draining is refused with ErrTargetDraining. Each new
// target starts initial and is checked at once, then every interval.
func (tg *TargetGroup) Register(addrs ...string) error {
	return tg.register(TargetHealth{}, addrs)
}

// Resume registers targets that were registered before ecsd restarted, in
// their last known state h (initial, healthy or unhealthy) instead of
// initial: a healthy target serves at once. Checks start at once, as for
// Register, and move it from there with the usual thresholds.
func (tg *TargetGroup) Resume(h TargetHealth, addrs ...string) error {
	switch h.State {
	case StateInitial, StateHealthy, StateUnhealthy:
	default:
		return fmt.Errorf("resuming targets of %s in state %q: only initial, healthy and unhealthy are checked states", tg.name, h.State)
	}
	return tg.register(h, addrs)
}

// register adds targets starting in state h (zero: initial).
func (tg *TargetGroup) register(h TargetHealth, addrs []string) error {
	type parsed struct {
		addr string
		port int
	}
	ps := make([]parsed, 0, len(addrs))
	for _, a := range addrs {
		_, p, err := net.SplitHostPort(a)
		port, perr := strconv.Atoi(p)
		if err != nil || perr != nil || port < 1 || port > 65535 {
			return fmt.Errorf("registering %q in %s: target must be host:port", a, tg.name)
		}
		ps = append(ps, parsed{a, port})
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.closed {
		return fmt.Errorf("registering targets in %s: %w", tg.name, ErrClosed)
	}
	for _, p := range ps {
		if t, ok := tg.targets[p.addr]; ok && t.draining.Load() {
			return fmt.Errorf("registering %s in %s: %w", p.addr, tg.name, ErrTargetDraining)
		}
	}
	for _, p := range ps {
		if _, ok := tg.targets[p.addr]; ok {
			continue
		}
		tg.seq++
		aborted, abort := context.WithCancel(context.Background())
		t := &Target{addr: p.addr, port: p.port, seq: tg.seq, done: make(chan struct{}),
			aborted: aborted, abort: abort, machine: NewHealthMachine(tg.hc)}
		if h.State != "" {
			t.machine.resume(h)
		}
		t.health = t.machine.Health()
		t.pool.addr = p.addr
		ctx, cancel := context.WithCancel(tg.ctx)
		t.stopChecks = cancel
		tg.targets[p.addr] = t
		tg.active = append(tg.active, t)
		tg.wg.Add(1)
		go tg.checkLoop(ctx, t)
		tg.log.Info("target registered", "target", p.addr, "state", t.health.State)
	}
	return nil
}

// Deregister starts draining a target: it gets no new requests, its health
// checks stop, and it leaves the group when its in-flight requests reach
// zero or the deregistration delay expires. The returned channel is closed
// then. Deregistering a draining target returns the same channel.
func (tg *TargetGroup) Deregister(addr string) (<-chan struct{}, error) {
	return tg.deregister(addr, time.Time{})
}

// DeregisterBy is Deregister with the drain's deadline given (a stored
// deregistration time plus the delay) instead of now plus the
// deregistration delay. A deadline already past ends the drain at once.
func (tg *TargetGroup) DeregisterBy(addr string, deadline time.Time) (<-chan struct{}, error) {
	if deadline.IsZero() {
		return nil, fmt.Errorf("deregistering %s from %s: no deadline", addr, tg.name)
	}
	return tg.deregister(addr, deadline)
}

func (tg *TargetGroup) deregister(addr string, deadline time.Time) (<-chan struct{}, error) {
	tg.mu.Lock()
	t, ok := tg.targets[addr]
	if !ok {
		tg.mu.Unlock()
		return nil, fmt.Errorf("deregistering %s from %s: %w", addr, tg.name, ErrTargetNotRegistered)
	}
	if t.draining.Load() {
		tg.mu.Unlock()
		return t.done, nil
	}
	t.draining.Store(true)
	t.stopChecks()
	tg.active = slices.DeleteFunc(tg.active, func(x *Target) bool { return x == t })
	t.health = DrainingHealth()
	delay := tg.attrs.DeregistrationDelay
	if !deadline.IsZero() {
		delay = deadline.Sub(tg.clk.Now())
	}
	idle := t.inflight.Load() == 0
	if !idle && delay > 0 {
		t.drainTimer = tg.clk.AfterFunc(delay, func() { tg.finishDrain(t, true) })
	}
	tg.mu.Unlock()
	tg.log.Info("target draining", "target", addr, "in_flight", t.inflight.Load(), "delay", delay)
	if h := tg.opts.OnHealthChange; h != nil {
		h(addr, t.health)
	}
	switch {
	case idle:
		tg.finishDrain(t, false)
	case delay <= 0:
		tg.finishDrain(t, true)
	}
	return t.done, nil
}

// finishDrain removes a draining target; it is idempotent.
func (tg *TargetGroup) finishDrain(t *Target, timedOut bool) {
	tg.mu.Lock()
	if t.finished {
		tg.mu.Unlock()
		return
	}
	t.finished = true
	if t.drainTimer != nil {
		t.drainTimer.Stop()
	}
	if tg.targets[t.addr] == t {
		delete(tg.targets, t.addr)
	}
	tg.mu.Unlock()
	t.pool.shutdown(timedOut)
	if timedOut {
		t.abort()
	}
	close(t.done)
	tg.log.Info("target drained", "target", t.addr, "timed_out", timedOut, "in_flight", t.inflight.Load())
	if f := tg.opts.OnDrained; f != nil {
		f(t.addr, timedOut)
	}
}

// DescribeTargetHealth reports the named targets, or every registered and
// draining target (in registration order) when none is named. Unknown
// targets are unused with Target.NotRegistered.
func (tg *TargetGroup) DescribeTargetHealth(addrs ...string) []TargetDescription {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	var ts []*Target
	if len(addrs) == 0 {
		for _, t := range tg.targets {
			ts = append(ts, t)
		}
		slices.SortFunc(ts, func(a, b *Target) int { return cmp.Compare(a.seq, b.seq) })
		for _, t := range ts {
			addrs = append(addrs, t.addr)
		}
	}
	out := make([]TargetDescription, 0, len(addrs))
	for _, a := range addrs {
		d := TargetDescription{Target: a, HealthCheckPort: tg.hc.Port}
		t, ok := tg.targets[a]
		switch {
		case !ok:
			d.Health = TargetHealth{StateUnused, ReasonNotRegistered, descNotRegistered}
		case !tg.inUse && t.health.State != StateDraining:
			d.Health = TargetHealth{StateUnused, ReasonNotInUse, descNotInUse}
		default:
			d.Health = t.health
		}
		if d.HealthCheckPort == TrafficPort && ok {
			d.HealthCheckPort = strconv.Itoa(t.port)
		}
		out = append(out, d)
	}
	return out
}

// Close stops health checks and ends draining at once (aborting requests
// still in flight). Targets stay described. Idle connections to targets
// are closed; requests still forwarded to the group use a connection each.
func (tg *TargetGroup) Close() {
	tg.mu.Lock()
	if tg.closed {
		tg.mu.Unlock()
		return
	}
	tg.closed = true
	var draining, active []*Target
	for _, t := range tg.targets {
		if t.draining.Load() {
			draining = append(draining, t)
		} else {
			active = append(active, t)
		}
	}
	tg.mu.Unlock()
	tg.cancel()
	tg.wg.Wait()
	for _, t := range draining {
		tg.finishDrain(t, true)
	}
	for _, t := range active {
		t.pool.shutdown(false)
	}
}

// acquire chooses a target for a new request and counts it in flight; nil
// when the group has no non-draining target. Healthy targets are preferred;
// with none healthy every non-draining target is eligible (fail open).
func (tg *TargetGroup) acquire() *Target {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := tg.scratch[:0]
	for _, t := range tg.active {
		if t.health.State == StateHealthy {
			c = append(c, t)
		}
	}
	if len(c) == 0 {
		c = append(c, tg.active...)
	}
	tg.scratch = c[:0]
	if len(c) == 0 {
		return nil
	}
	t := tg.selector.Select(c)
	t.inflight.Add(1)
	return t
}

// release ends a request started by acquire.
func (tg *TargetGroup) release(t *Target) {
	if t.inflight.Add(-1) == 0 && t.draining.Load() {
		tg.finishDrain(t, false)
	}
}

func (tg *TargetGroup) checkLoop(ctx context.Context, t *Target) {
	defer tg.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			tg.log.Error("health check loop panicked", "target", t.addr, "panic", r)
		}
	}()
	timer := tg.clk.NewTimer(0) // first check at registration
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		}
		tg.mu.Lock()
		hc := tg.hc
		tg.mu.Unlock()
		timer.Reset(hc.Interval)
		res := tg.probe(ctx, t, hc)
		if ctx.Err() != nil {
			return // deregistered or closed mid-check
		}
		tg.mu.Lock()
		if t.draining.Load() {
			tg.mu.Unlock()
			return
		}
		h, changed := t.machine.Observe(res)
		t.health = h
		tg.mu.Unlock()
		if changed {
			tg.log.Info("target health changed", "target", t.addr, "state", h.State, "reason", h.Reason)
			if f := tg.opts.OnHealthChange; f != nil {
				f(t.addr, h)
			}
		}
		if f := tg.opts.OnCheck; f != nil {
			f(t.addr, res, h)
		}
	}
}

// probe runs one check with the timeout measured on the group's clock.
func (tg *TargetGroup) probe(ctx context.Context, t *Target, hc HealthCheck) ProbeResult {
	host, _, _ := net.SplitHostPort(t.addr)
	port := strconv.Itoa(t.port)
	if hc.Port != TrafficPort {
		port = hc.Port
	}
	url := "http://" + net.JoinHostPort(host, port) + hc.Path
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	timer := tg.clk.AfterFunc(hc.Timeout, func() {
		timedOut.Store(true)
		cancel()
	})
	res := tg.prober.Probe(pctx, url)
	timer.Stop()
	if timedOut.Load() {
		return ProbeResult{TimedOut: true}
	}
	return res
}
