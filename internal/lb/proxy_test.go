package lb

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend is a real loopback server that answers with its name. Requests
// to /slow announce themselves on arrived and block until release is
// closed or the request is cancelled.
type backend struct {
	name    string
	srv     *httptest.Server
	arrived chan string
	release chan struct{}
	mu      sync.Mutex
	hdr     http.Header
	host    string
}

func newBackend(t *testing.T, name string) *backend {
	b := &backend{name: name, arrived: make(chan string, 10), release: make(chan struct{})}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hdr = r.Header.Clone()
		b.host = r.Host
		b.mu.Unlock()
		if r.URL.Path == "/slow" {
			b.arrived <- name
			select {
			case <-b.release:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// healthyGroup returns a harness whose targets are the backends, all
// healthy (healthy threshold 2: the registration check plus one tick).
func healthyGroup(t *testing.T, name string, attrs map[string]string, bs ...*backend) *harness {
	t.Helper()
	h := newHarness(t, TargetGroupConfig{Name: name, HealthCheck: HealthCheck{HealthyThreshold: 2}, Attributes: attrs})
	for _, b := range bs {
		if err := h.tg.Register(b.addr()); err != nil {
			t.Fatal(err)
		}
	}
	h.waitChecks(len(bs))
	h.tick(len(bs))
	for _, b := range bs {
		if s := h.state(b.addr()); s.State != StateHealthy {
			t.Fatalf("%s: %+v", b.name, s)
		}
	}
	return h
}

func listen(t *testing.T, rules []Rule, def Action) *Listener {
	t.Helper()
	l, err := Listen(ListenerConfig{Rules: rules, DefaultAction: def})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func forward(t *testing.T, groups ...WeightedTargetGroup) *Forward {
	t.Helper()
	f, err := NewForward(groups...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

func get(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
		} else {
			req.Header.Add(hdr[i], hdr[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestProxyRoundRobin(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h := healthyGroup(t, "tg", nil, a, b)
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	var got []string
	for range 6 {
		code, body := get(t, l.URL()+"/")
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		got = append(got, body)
	}
	if s := strings.Join(got, ""); s != "ababab" {
		t.Fatalf("got %s", s)
	}
}

func TestProxyWeightedProportions(t *testing.T) {
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	hb := healthyGroup(t, "blue", nil, blue)
	hg := healthyGroup(t, "green", nil, green)
	l := listen(t, nil, forward(t, WeightedTargetGroup{hb.tg, 3}, WeightedTargetGroup{hg.tg, 1}))
	n := map[string]int{}
	for range 400 {
		_, body := get(t, l.URL()+"/")
		n[body]++
	}
	if n["blue"] != 300 || n["green"] != 100 {
		t.Fatalf("got %v, want blue 300 green 100", n)
	}
}

func TestProxyLeastOutstanding(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h := healthyGroup(t, "tg", map[string]string{AttrAlgorithm: "least_outstanding_requests"}, a, b)
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	slow := make(chan string, 1)
	go func() { _, body := get(t, l.URL()+"/slow"); slow <- body }()
	var busy string
	select {
	case busy = <-a.arrived:
	case busy = <-b.arrived:
	case <-time.After(guard):
		t.Fatal("slow request never arrived")
	}
	for range 10 {
		if _, body := get(t, l.URL()+"/"); body == busy {
			t.Fatalf("request sent to %s, which has one outstanding while the other has none", busy)
		}
	}
	close(a.release)
	close(b.release)
	if got := <-slow; got != busy {
		t.Fatalf("slow answered by %s", got)
	}
}

func TestProxyFailOpen(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h := newHarness(t, TargetGroupConfig{})
	h.prober.set(a.addr(), bad503)
	h.prober.set(b.addr(), bad503)
	h.tg.Register(a.addr(), b.addr())
	h.waitChecks(2)
	h.tick(2)
	if s := h.state(a.addr()); s.State != StateUnhealthy {
		t.Fatalf("got %+v", s)
	}
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	n := map[string]int{}
	for range 10 {
		code, body := get(t, l.URL()+"/")
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		n[body]++
	}
	if n["a"] != 5 || n["b"] != 5 {
		t.Fatalf("fail-open spread %v", n)
	}
}

func TestProxyDraining(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h := healthyGroup(t, "tg", map[string]string{AttrDeregistrationDelay: "30"}, a, b)
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	type result struct {
		code int
		body string
	}
	slow := make(chan result, 1)
	go func() { c, body := get(t, l.URL()+"/slow"); slow <- result{c, body} }()
	var victim, other *backend
	select {
	case <-a.arrived:
		victim, other = a, b
	case <-b.arrived:
		victim, other = b, a
	case <-time.After(guard):
		t.Fatal("slow request never arrived")
	}
	done, err := h.tg.Deregister(victim.addr())
	if err != nil {
		t.Fatal(err)
	}
	if s := h.state(victim.addr()); s.State != StateDraining {
		t.Fatalf("got %+v", s)
	}
	for range 20 {
		if _, body := get(t, l.URL()+"/"); body != other.name {
			t.Fatalf("new request reached draining target %s", body)
		}
	}
	h.clk.Advance(29 * time.Second)
	select {
	case <-done:
		t.Fatal("draining ended while a request was in flight")
	default:
	}
	close(victim.release)
	if r := <-slow; r.code != 200 || r.body != victim.name {
		t.Fatalf("in-flight request: %d %q", r.code, r.body)
	}
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("draining did not end when the target went idle")
	}
	if ev := <-h.drained; ev != (drainEvent{victim.addr(), false}) {
		t.Fatalf("drained %+v", ev)
	}
}

func TestProxyDrainExpiryAbortsInFlight(t *testing.T) {
	a := newBackend(t, "a")
	h := healthyGroup(t, "tg", map[string]string{AttrDeregistrationDelay: "10"}, a)
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	slow := make(chan int, 1)
	go func() { c, _ := get(t, l.URL()+"/slow"); slow <- c }()
	<-a.arrived
	done, _ := h.tg.Deregister(a.addr())
	h.clk.Advance(10 * time.Second)
	<-done
	if ev := <-h.drained; !ev.timedOut {
		t.Fatalf("drained %+v", ev)
	}
	select {
	case c := <-slow:
		if c != http.StatusBadGateway {
			t.Fatalf("aborted request answered %d, want 502", c)
		}
	case <-time.After(guard):
		t.Fatal("in-flight request not cut at drain expiry")
	}
	if code, _ := get(t, l.URL()+"/"); code != http.StatusServiceUnavailable {
		t.Fatalf("empty group answered %d, want 503", code)
	}
}

func TestProxyForwardedHeaders(t *testing.T) {
	a := newBackend(t, "a")
	h := healthyGroup(t, "tg", nil, a)
	l := listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg}))
	code, _ := get(t, l.URL()+"/x", "X-Forwarded-For", "203.0.113.7", "Host", "app.example.com")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	a.mu.Lock()
	hdr, host := a.hdr, a.host
	a.mu.Unlock()
	want := map[string]string{
		"X-Forwarded-For":   "203.0.113.7, 127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Port":  strconv.Itoa(l.Port()),
	}
	for k, v := range want {
		if got := hdr.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if host != "app.example.com" {
		t.Errorf("Host = %q, want the client's", host)
	}
	get(t, l.URL()+"/x")
	a.mu.Lock()
	hdr = a.hdr
	a.mu.Unlock()
	if got := hdr.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For without prior = %q", got)
	}
}

func TestProxyErrors(t *testing.T) {
	empty := newHarness(t, TargetGroupConfig{Name: "empty"})
	// A target whose port refuses connections: fail-open routes to it and
	// the proxy answers 502.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	broken := newHarness(t, TargetGroupConfig{Name: "broken"})
	broken.prober.set(dead, refused)
	broken.tg.Register(dead)
	broken.waitChecks(1)
	a := newBackend(t, "a")
	zeroA := healthyGroup(t, "zero", nil, a)
	zero := forward(t, WeightedTargetGroup{zeroA.tg, 0}, WeightedTargetGroup{empty.tg, 0})

	l := listen(t, []Rule{
		{Priority: 1, Conditions: []Condition{PathPattern{"/empty*"}}, Action: forward(t, WeightedTargetGroup{Group: empty.tg})},
		{Priority: 2, Conditions: []Condition{PathPattern{"/broken*"}}, Action: forward(t, WeightedTargetGroup{Group: broken.tg})},
		{Priority: 3, Conditions: []Condition{PathPattern{"/zero"}}, Action: zero},
		{Priority: 4, Conditions: []Condition{HostHeader{"api.*"}, PathPattern{"/v?/*"}}, Action: forward(t, WeightedTargetGroup{Group: zeroA.tg})},
	}, FixedResponse{StatusCode: 404, Body: "no rule"})
	tests := []struct {
		path, host string
		code       int
		body       string
	}{
		{"/empty", "", 503, "503 Service Temporarily Unavailable\n"},
		{"/broken", "", 502, "502 Bad Gateway\n"},
		{"/zero", "", 503, "503 Service Temporarily Unavailable\n"},
		{"/v1/users", "api.example.com", 200, "a"},
		{"/v1/users", "www.example.com", 404, "no rule"},
		{"/nothing", "", 404, "no rule"},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.host != "" {
			hdr = []string{"Host", tt.host}
		}
		code, body := get(t, l.URL()+tt.path, hdr...)
		if code != tt.code || body != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.host, tt.path, code, body, tt.code, tt.body)
		}
	}
	if n := broken.tg.DescribeTargetHealth(dead)[0]; n.Health.State != StateInitial {
		t.Fatalf("broken target %+v", n)
	}
	// Rules can be swapped live.
	if err := l.Router().SetRules(nil, FixedResponse{StatusCode: 418}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, l.URL()+"/empty"); code != 418 {
		t.Fatalf("after SetRules: %d", code)
	}
}

// A taken port is an error naming it: a listener never moves to another
// port.
func TestListenerRefusesTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := taken.Addr().(*net.TCPAddr).Port
	_, err = Listen(ListenerConfig{Port: port, DefaultAction: FixedResponse{StatusCode: 200, Body: "ok"}})
	var pe *PortError
	if !errors.As(err, &pe) {
		t.Fatalf("listening on a taken port: %v, want a *PortError", err)
	}
	if !errors.Is(err, ErrPortInUse) {
		t.Errorf("cause: %v, want ErrPortInUse", pe.Cause)
	}
	if pe.Port != port {
		t.Errorf("port in the error: %d, want %d", pe.Port, port)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("the message does not name the port: %v", err)
	}
	taken.Close()
	l, err := Listen(ListenerConfig{Port: port, DefaultAction: FixedResponse{StatusCode: 200, Body: "ok"}})
	if err != nil {
		t.Fatalf("listening on the port once free: %v", err)
	}
	defer l.Close()
	if l.Port() != port {
		t.Errorf("bound port %d, want %d", l.Port(), port)
	}
	if code, body := get(t, l.URL()+"/"); code != 200 || body != "ok" {
		t.Fatalf("%d %q", code, body)
	}
}
