package lbrun

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// Config wires a Runner.
type Config struct {
	Store  *store.Store
	Clock  clock.Clock  // health checks, draining, bind retries; default clock.Real()
	Logger *slog.Logger // default slog.Default()
	// Prober performs health checks; default an HTTP GET ([lb.HTTPProber]).
	Prober lb.Prober
	// Transport carries listener traffic to targets; default lb's own
	// forwarder.
	Transport http.RoundTripper
	// OnCheck, when set, observes every health check: the target group
	// ARN, the target (host:port), the result and the target's health
	// after it.
	OnCheck func(tgARN, target string, r lb.ProbeResult, h lb.TargetHealth)
}

// Runner keeps the live load-balancer objects in step with the stored
// ELBv2 state. Its methods are safe for concurrent use.
type Runner struct {
	cfg   Config
	store *store.Store
	clock clock.Clock
	log   *slog.Logger
	kick  chan struct{}

	// mu serialises passes, drain endings and Close: the live objects
	// change under it only.
	mu     sync.Mutex
	closed bool

	// liveMu guards the maps for the data-plane reads, which do not wait
	// for a pass.
	liveMu    sync.RWMutex
	groups    map[string]*group            // by target group ARN
	drains    map[string]map[string]*drain // by target group ARN, then host:port
	listeners map[string]*listener         // by listener ARN

	resMu    sync.Mutex
	reserved map[string]net.Listener // sockets bound for a listener ARN not yet stored
}

// New builds the live objects of everything stored (an earlier run's load
// balancers: target groups with their targets in their last known health,
// drains until their stored deadlines, listeners on their ports) and
// returns the Runner, subscribed to store changes. Call Run to follow
// changes in the background, and Close (or Shutdown) when done.
//
// Everything that uses the Runner gets it from New, so nothing can use
// the load balancers before they are recovered.
func New(cfg Config) (*Runner, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{
		cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger,
		kick:      make(chan struct{}, 1),
		groups:    map[string]*group{},
		drains:    map[string]map[string]*drain{},
		listeners: map[string]*listener{},
		reserved:  map[string]net.Listener{},
	}
	cfg.Store.Subscribe(r.notice)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.pass(true); err != nil {
		r.closeLocked(context.Background())
		return nil, err
	}
	return r, nil
}

// notice asks for a pass when the stored load balancers change. Target
// health records are the Runner's own output: they ask for nothing.
func (r *Runner) notice(changes []store.Change) {
	for _, c := range changes {
		switch c.Bucket {
		case store.LoadBalancers, store.TargetGroups, store.Listeners, store.ListenerRules:
			r.Kick()
			return
		}
	}
}

// Kick asks Run for a pass soon; it never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// kickAfter asks for a pass after d (a bind retry, a transient failure).
func (r *Runner) kickAfter(d time.Duration) clock.Timer { return r.clock.AfterFunc(d, r.Kick) }

// Run makes a pass whenever the stored load balancers change (and when a
// retry falls due), until ctx ends. It is the Runner's only loop: a kick
// channel, so a reconcile-loop primitive can replace it.
func (r *Runner) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			r.Sync()
		}
	}
}

// Sync makes one pass now and returns when the live objects match the
// store (as far as they can: a port that cannot be bound is retried
// later). Writers that answer a caller (elbapi after each change, the ECS
// contract) call it, so what they wrote serves before they answer.
func (r *Runner) Sync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if err := r.pass(false); err != nil {
		r.log.Error("reading the stored load balancers failed; retrying", "error", err)
		r.kickAfter(time.Second)
	}
}

// Close closes every listener at once and stops every target group's
// health checks. Stored drains and health stay for the next run.
func (r *Runner) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Shutdown(ctx)
}

// Shutdown stops the listeners from accepting connections, lets requests
// in flight finish until ctx ends (then cuts them), and closes
// everything, as Close does.
func (r *Runner) Shutdown(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked(ctx)
}

func (r *Runner) closeLocked(ctx context.Context) {
	if r.closed {
		return
	}
	r.closed = true
	r.liveMu.Lock()
	listeners, groups, drains := r.listeners, r.groups, r.drains
	r.listeners, r.groups, r.drains = map[string]*listener{}, map[string]*group{}, map[string]map[string]*drain{}
	r.liveMu.Unlock()
	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Go(func() { l.close(ctx) })
	}
	wg.Wait()
	for _, byAddr := range drains {
		for _, d := range byAddr {
			d.stop()
		}
	}
	for _, g := range groups {
		g.tg.Close()
	}
	r.resMu.Lock()
	for arn, ln := range r.reserved {
		ln.Close()
		delete(r.reserved, arn)
	}
	r.resMu.Unlock()
}

// pass brings the live objects to the stored state: target groups first
// (listeners forward to them), then listeners. resume is the first pass
// of a run: targets start in their stored health.
func (r *Runner) pass(resume bool) error {
	st, err := r.read(resume)
	if err != nil {
		return err
	}
	r.syncGroups(st, resume)
	r.syncListeners(st)
	if resume {
		r.log.Info("load balancers recovered", "target_groups", len(st.groups), "listeners", len(st.listeners))
	}
	return nil
}
