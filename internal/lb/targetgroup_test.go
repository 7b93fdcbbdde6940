package lb

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// guard bounds waits on goroutines in tests; it is a failure deadline, not
// a sleep: every time-dependent behaviour runs on the fake clock.
const guard = 10 * time.Second

// fakeProber answers probes from a per-host script; hosts without an
// entry answer 200.
type fakeProber struct {
	mu     sync.Mutex
	result map[string]ProbeResult // by host:port
	hang   map[string]bool
	urls   []string
}

var _ Prober = (*fakeProber)(nil)

func newFakeProber() *fakeProber {
	return &fakeProber{result: map[string]ProbeResult{}, hang: map[string]bool{}}
}

func (p *fakeProber) set(addr string, r ProbeResult) {
	p.mu.Lock()
	p.result[addr] = r
	p.mu.Unlock()
}

func (p *fakeProber) setHang(addr string, hang bool) {
	p.mu.Lock()
	p.hang[addr] = hang
	p.mu.Unlock()
}

func (p *fakeProber) Probe(ctx context.Context, url string) ProbeResult {
	host := strings.TrimPrefix(url, "http://")
	host, _, _ = strings.Cut(host, "/")
	p.mu.Lock()
	p.urls = append(p.urls, url)
	r, ok := p.result[host]
	hang := p.hang[host]
	p.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ProbeResult{Err: ctx.Err()}
	}
	if !ok {
		r = ok200
	}
	return r
}

type checkEvent struct {
	target string
	res    ProbeResult
	health TargetHealth
}

type drainEvent struct {
	target   string
	timedOut bool
}

// harness is a target group on a fake clock with observable callbacks.
type harness struct {
	t       *testing.T
	clk     *clock.Fake
	prober  *fakeProber
	tg      *TargetGroup
	checks  chan checkEvent
	changes chan checkEvent
	drained chan drainEvent
}

func newHarness(t *testing.T, cfg TargetGroupConfig) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		clk:     clock.NewFake(time.Time{}),
		prober:  newFakeProber(),
		checks:  make(chan checkEvent, 1000),
		changes: make(chan checkEvent, 1000),
		drained: make(chan drainEvent, 100),
	}
	if cfg.Name == "" {
		cfg.Name = "tg"
	}
	tg, err := NewTargetGroup(cfg, Options{
		Clock:  h.clk,
		Prober: h.prober,
		OnCheck: func(target string, r ProbeResult, th TargetHealth) {
			h.checks <- checkEvent{target, r, th}
		},
		OnHealthChange: func(target string, th TargetHealth) {
			h.changes <- checkEvent{target: target, health: th}
		},
		OnDrained: func(target string, timedOut bool) { h.drained <- drainEvent{target, timedOut} },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	h.tg = tg
	return h
}

// waitChecks waits for n health-check results.
func (h *harness) waitChecks(n int) []checkEvent {
	h.t.Helper()
	var evs []checkEvent
	for range n {
		select {
		case e := <-h.checks:
			evs = append(evs, e)
		case <-time.After(guard):
			h.t.Fatalf("waited for %d checks, got %d", n, len(evs))
		}
	}
	return evs
}

// tick advances one interval and waits for one check per target.
func (h *harness) tick(targets int) []checkEvent {
	h.t.Helper()
	h.clk.Advance(h.tg.HealthCheck().Interval)
	return h.waitChecks(targets)
}

func (h *harness) state(addr string) TargetHealth {
	return h.tg.DescribeTargetHealth(addr)[0].Health
}

func TestCheckerThresholdsOnFakeClock(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{
		Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 2,
		Path: "/health",
	}})
	start := h.clk.Now()
	const a = "127.0.0.1:8080"
	if err := h.tg.Register(a); err != nil {
		t.Fatal(err)
	}
	if got := h.state(a); got.State != StateInitial {
		t.Fatalf("before any check (or racing the first): %+v", got)
	}
	h.waitChecks(1) // the first check runs at registration
	if got := h.state(a); got.Reason != ReasonInitialHealthChecking {
		t.Fatalf("after 1 check: %+v", got)
	}
	h.tick(1)
	h.tick(1)
	if got := h.state(a); got.State != StateHealthy {
		t.Fatalf("after 3 passing checks: %+v", got)
	}
	if el := h.clk.Since(start); el != 20*time.Second {
		t.Fatalf("healthy after %v, want 20s (checks at 0, 10, 20 s)", el)
	}
	h.prober.set(a, bad503)
	h.tick(1)
	if got := h.state(a); got.State != StateHealthy {
		t.Fatalf("one failure must not flip a healthy target: %+v", got)
	}
	h.tick(1)
	want := TargetHealth{StateUnhealthy, ReasonResponseCodeMismatch, "Health checks failed with these codes: [503]"}
	if got := h.state(a); got != want {
		t.Fatalf("after 2 failures: %+v, want %+v", got, want)
	}
	d := h.tg.DescribeTargetHealth()
	if len(d) != 1 || d[0].Target != a || d[0].HealthCheckPort != "8080" {
		t.Fatalf("DescribeTargetHealth() = %+v", d)
	}
	h.prober.mu.Lock()
	url := h.prober.urls[0]
	h.prober.mu.Unlock()
	if url != "http://127.0.0.1:8080/health" {
		t.Fatalf("probed %q", url)
	}
	var states []HealthState
	for len(h.changes) > 0 {
		states = append(states, (<-h.changes).health.State)
	}
	if strings.Join(asStrings(states), ",") != "healthy,unhealthy" {
		t.Fatalf("health changes %v", states)
	}
}

func asStrings(s []HealthState) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

func TestCheckerTimeoutOnFakeClock(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{Interval: 10 * time.Second, Timeout: 5 * time.Second}})
	const a = "127.0.0.1:9000"
	h.prober.setHang(a, true)
	if err := h.tg.Register(a); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		h.clk.BlockUntil(2) // next-interval timer + this probe's timeout timer
		h.clk.Advance(5 * time.Second)
		ev := h.waitChecks(1)[0]
		if !ev.res.TimedOut {
			t.Fatalf("check %d: %+v, want a timeout", i+1, ev.res)
		}
		h.clk.Advance(5 * time.Second) // to the next interval
	}
	want := TargetHealth{StateUnhealthy, ReasonTimeout, "Request timed out"}
	if got := h.state(a); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestCheckerHealthCheckPortOverride(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{Port: "9999"}})
	h.tg.Register("127.0.0.1:8080")
	h.waitChecks(1)
	h.prober.mu.Lock()
	defer h.prober.mu.Unlock()
	if h.prober.urls[0] != "http://127.0.0.1:9999/" {
		t.Fatalf("probed %q", h.prober.urls[0])
	}
}

// TestCheckerWithHTTPProber drives the production prober against a real
// server; only the schedule comes from the fake clock.
func TestCheckerWithHTTPProber(t *testing.T) {
	var mu sync.Mutex
	code := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" || r.Header.Get("User-Agent") != "ELB-HealthChecker/2.0" {
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
	}))
	defer srv.Close()
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{HealthyThreshold: 2}})
	h.tg.prober = NewHTTPProber()
	addr := strings.TrimPrefix(srv.URL, "http://")
	h.tg.Register(addr)
	h.waitChecks(1)
	h.tick(1)
	if got := h.state(addr); got.State != StateHealthy {
		t.Fatalf("got %+v", got)
	}
	mu.Lock()
	code = http.StatusServiceUnavailable
	mu.Unlock()
	h.tick(1)
	h.tick(1)
	if got := h.state(addr); got.Reason != ReasonResponseCodeMismatch {
		t.Fatalf("got %+v", got)
	}
	srv.Close()
	h.tick(1)
	if got := h.state(addr); got.Reason != ReasonFailedHealthChecks {
		t.Fatalf("after server closed: %+v", got)
	}
}

func TestDescribeUnknownAndNotInUse(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{})
	got := h.state("10.0.0.1:80")
	if got != (TargetHealth{StateUnused, ReasonNotRegistered, "Target is not registered to the target group"}) {
		t.Fatalf("got %+v", got)
	}
	h.tg.Register("127.0.0.1:1")
	h.tg.SetInUse(false)
	if got := h.state("127.0.0.1:1"); got.State != StateUnused || got.Reason != ReasonNotInUse {
		t.Fatalf("got %+v", got)
	}
}

func TestRegisterValidation(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{})
	for _, bad := range []string{"nohost", "127.0.0.1:0", "127.0.0.1:x", "127.0.0.1:70000"} {
		if err := h.tg.Register(bad); err == nil {
			t.Errorf("Register(%q) accepted", bad)
		}
	}
	if _, err := h.tg.Deregister("127.0.0.1:5"); !errors.Is(err, ErrTargetNotRegistered) {
		t.Fatalf("Deregister unknown: %v", err)
	}
	if _, err := NewTargetGroup(TargetGroupConfig{Name: "x", Attributes: map[string]string{AttrDeregistrationDelay: "4000"}}, Options{}); err == nil {
		t.Fatal("delay 4000 accepted")
	}
}

func TestDrainIdleTargetEndsAtOnce(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{})
	const a = "127.0.0.1:8080"
	h.tg.Register(a)
	h.waitChecks(1)
	done, err := h.tg.Deregister(a)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("idle target still draining")
	}
	if ev := <-h.drained; ev != (drainEvent{a, false}) {
		t.Fatalf("drained %+v", ev)
	}
	if got := h.state(a); got.Reason != ReasonNotRegistered {
		t.Fatalf("after drain: %+v", got)
	}
}

func TestDrainWaitsForInFlightThenEnds(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{Attributes: map[string]string{AttrDeregistrationDelay: "30"}})
	const a, b = "127.0.0.1:8080", "127.0.0.1:8081"
	h.tg.Register(a, b)
	h.waitChecks(2)
	ta := h.tg.acquire()
	if ta.Addr() != a {
		t.Fatalf("round robin started at %s", ta.Addr())
	}
	done, _ := h.tg.Deregister(a)
	if got := h.state(a); got != (TargetHealth{StateDraining, ReasonDeregistrationInProgress, "Target deregistration is in progress"}) {
		t.Fatalf("got %+v", got)
	}
	for range 10 {
		x := h.tg.acquire()
		if x.Addr() == a {
			t.Fatal("new request sent to a draining target")
		}
		h.tg.release(x)
	}
	h.clk.Advance(29 * time.Second)
	select {
	case <-done:
		t.Fatal("drain ended with a request in flight")
	default:
	}
	h.tg.release(ta)
	select {
	case <-done:
	default:
		t.Fatal("drain did not end when the target went idle")
	}
	if ev := <-h.drained; ev != (drainEvent{a, false}) {
		t.Fatalf("drained %+v", ev)
	}
	if ta.aborted.Err() != nil {
		t.Fatal("a drain that completed normally aborted requests")
	}
	h.clk.Advance(time.Hour) // the stopped delay timer must not fire again
	if len(h.drained) != 0 {
		t.Fatal("OnDrained called twice")
	}
}

func TestDrainTimesOut(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{Attributes: map[string]string{AttrDeregistrationDelay: "30"}})
	const a = "127.0.0.1:8080"
	h.tg.Register(a)
	h.waitChecks(1)
	ta := h.tg.acquire()
	done, _ := h.tg.Deregister(a)
	again, _ := h.tg.Deregister(a)
	if again != done {
		t.Fatal("second Deregister returned another channel")
	}
	if err := h.tg.Register(a); !errors.Is(err, ErrTargetDraining) {
		t.Fatalf("re-register while draining: %v", err)
	}
	h.clk.Advance(30*time.Second - time.Nanosecond)
	select {
	case <-done:
		t.Fatal("drain ended early")
	default:
	}
	h.clk.Advance(time.Nanosecond)
	<-done
	if ev := <-h.drained; ev != (drainEvent{a, true}) {
		t.Fatalf("drained %+v", ev)
	}
	if ta.aborted.Err() == nil {
		t.Fatal("in-flight request not aborted at drain expiry")
	}
	h.tg.release(ta) // late release must not finish twice
	if len(h.drained) != 0 {
		t.Fatal("OnDrained called twice")
	}
	if err := h.tg.Register(a); err != nil {
		t.Fatalf("re-register after drain: %v", err)
	}
}

func TestDrainZeroDelayEndsAtOnce(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{Attributes: map[string]string{AttrDeregistrationDelay: "0"}})
	h.tg.Register("127.0.0.1:8080")
	ta := h.tg.acquire()
	done, _ := h.tg.Deregister("127.0.0.1:8080")
	<-done
	if ev := <-h.drained; !ev.timedOut || ta.aborted.Err() == nil {
		t.Fatalf("drained %+v", ev)
	}
}

func TestFailOpenAndHealthyPreference(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{HealthyThreshold: 2}})
	const a, b, c = "127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"
	h.prober.set(a, bad503)
	h.prober.set(b, bad503)
	h.prober.set(c, bad503)
	h.tg.Register(a, b, c)
	h.waitChecks(3)
	h.tick(3)
	count := func(n int) map[string]int {
		m := map[string]int{}
		for range n {
			x := h.tg.acquire()
			m[x.Addr()]++
			h.tg.release(x)
		}
		return m
	}
	if m := count(30); m[a] != 10 || m[b] != 10 || m[c] != 10 {
		t.Fatalf("all unhealthy: want fail-open to all three, got %v", m)
	}
	h.prober.set(b, ok200)
	h.tick(3)
	h.tick(3)
	if m := count(30); m[b] != 30 {
		t.Fatalf("only b healthy: got %v", m)
	}
	h.tg.Deregister(b)
	if m := count(30); m[a] != 15 || m[c] != 15 {
		t.Fatalf("healthy one draining: want fail-open to the rest, got %v", m)
	}
	h.tg.Deregister(a)
	h.tg.Deregister(c)
	if x := h.tg.acquire(); x != nil {
		t.Fatalf("all draining: acquired %s", x.Addr())
	}
}

func TestSetAttributesAndHealthCheck(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{})
	if err := h.tg.SetAttributes(map[string]string{AttrAlgorithm: "least_outstanding_requests"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.tg.selector.(*LeastOutstanding); !ok {
		t.Fatalf("selector %T", h.tg.selector)
	}
	if err := h.tg.SetAttributes(map[string]string{AttrAlgorithm: "nope"}); err == nil {
		t.Fatal("bad algorithm accepted")
	}
	if err := h.tg.SetHealthCheck(HealthCheck{Interval: time.Second}); err == nil {
		t.Fatal("1s interval accepted")
	}
	if err := h.tg.SetHealthCheck(HealthCheck{HealthyThreshold: 2}); err != nil {
		t.Fatal(err)
	}
	if h.tg.HealthCheck().HealthyThreshold != 2 {
		t.Fatal("health check not updated")
	}
}

// DeregisterBy drains until the given deadline, not the group's delay.
func TestDeregisterByDeadline(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{Attributes: map[string]string{AttrDeregistrationDelay: "300"}})
	const a = "127.0.0.1:8080"
	h.tg.Register(a)
	h.waitChecks(1)
	ta := h.tg.acquire()
	done, err := h.tg.DeregisterBy(a, h.clk.Now().Add(7*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(7*time.Second - time.Nanosecond)
	select {
	case <-done:
		t.Fatal("drain ended before its deadline")
	default:
	}
	h.clk.Advance(time.Nanosecond)
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("drain did not end at its deadline (it used the group's 300 s delay)")
	}
	if ev := <-h.drained; ev != (drainEvent{a, true}) {
		t.Fatalf("drained %+v, want timed out", ev)
	}
	h.tg.release(ta)

	// A deadline already past ends the drain at once.
	const b = "127.0.0.1:8081"
	h.tg.Register(b)
	tb := h.tg.acquire()
	done, _ = h.tg.DeregisterBy(b, h.clk.Now().Add(-time.Second))
	select {
	case <-done:
	default:
		t.Fatal("a drain whose deadline has passed is still going")
	}
	h.tg.release(tb)
	if _, err := h.tg.DeregisterBy(b, time.Time{}); err == nil {
		t.Error("DeregisterBy without a deadline was accepted")
	}
}

// Resume starts targets in their last known state; checks then move them
// with the usual thresholds.
func TestResumeKeepsLastKnownHealth(t *testing.T) {
	h := newHarness(t, TargetGroupConfig{HealthCheck: HealthCheck{HealthyThreshold: 2, UnhealthyThreshold: 2}})
	const a, b = "127.0.0.1:8080", "127.0.0.1:8081"
	h.prober.set(a, ProbeResult{StatusCode: 500})
	if err := h.tg.Resume(TargetHealth{State: StateHealthy}, a); err != nil {
		t.Fatal(err)
	}
	if got := h.state(a); got.State != StateHealthy {
		t.Fatalf("resumed healthy target, before any check: %+v", got)
	}
	if x := h.tg.acquire(); x == nil || x.Addr() != a {
		t.Fatalf("a resumed healthy target does not receive requests: %v", x)
	} else {
		h.tg.release(x)
	}
	h.waitChecks(1)
	if got := h.state(a); got.State != StateHealthy {
		t.Fatalf("one failure moved a resumed healthy target: %+v", got)
	}
	h.tick(1)
	if got := h.state(a); got.State != StateUnhealthy {
		t.Fatalf("two failures (the unhealthy threshold) left it %+v", got)
	}

	unhealthy := TargetHealth{StateUnhealthy, ReasonTimeout, descTimeout}
	if err := h.tg.Resume(unhealthy, b); err != nil {
		t.Fatal(err)
	}
	if got := h.state(b); got != unhealthy {
		t.Fatalf("resumed unhealthy target: %+v", got)
	}
	if err := h.tg.Resume(TargetHealth{State: StateDraining}, "127.0.0.1:8082"); err == nil {
		t.Error("resuming in state draining was accepted")
	}
}
