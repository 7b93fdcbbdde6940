package lb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawBackend is a TCP server whose conversation the test scripts: serve
// runs for each accepted connection (n counts them from 1).
type rawBackend struct {
	ln    net.Listener
	conns atomic.Int32
	mu    sync.Mutex
	open  []net.Conn
}

func newRawBackend(t *testing.T, serve func(n int, c net.Conn, br *bufio.Reader)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.open = append(b.open, c)
			b.mu.Unlock()
			n := int(b.conns.Add(1))
			go func() {
				defer c.Close()
				serve(n, c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.open {
			c.Close()
		}
		b.mu.Unlock()
	})
	return b
}

func (b *rawBackend) addr() string { return b.ln.Addr().String() }

// proxyTo returns a listener forwarding to the given targets (initial:
// fail-open routes to them) and its target group.
func proxyTo(t *testing.T, addrs ...string) (*Listener, *harness) {
	t.Helper()
	h := newHarness(t, TargetGroupConfig{Attributes: map[string]string{AttrDeregistrationDelay: "10"}})
	if err := h.tg.Register(addrs...); err != nil {
		t.Fatal(err)
	}
	h.waitChecks(len(addrs))
	return listen(t, nil, forward(t, WeightedTargetGroup{Group: h.tg})), h
}

func targetOf(t *testing.T, h *harness, addr string) *Target {
	t.Helper()
	h.tg.mu.Lock()
	defer h.tg.mu.Unlock()
	tt := h.tg.targets[addr]
	if tt == nil {
		t.Fatalf("no target %s", addr)
	}
	return tt
}

// countingBackend is an httptest server that counts the connections it
// accepted.
func countingBackend(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32, chan struct{}) {
	var n atomic.Int32
	closed := make(chan struct{}, 100)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n.Add(1)
		case http.StateClosed, http.StateHijacked:
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n, closed
}

func TestForwardKeepAlive(t *testing.T) {
	srv, conns, closed := countingBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.Method)
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	l, h := proxyTo(t, addr)
	for i := range 20 {
		method := []string{"GET", "POST", "HEAD", "DELETE"}[i%4]
		req, _ := http.NewRequest(method, l.URL()+"/", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "ok " + method; resp.StatusCode != 200 || (method != "HEAD" && string(body) != want) {
			t.Fatalf("%s: %d %q", method, resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 sequential requests used %d backend connections, want 1", n)
	}
	tgt := targetOf(t, h, addr)
	if n := tgt.pool.idleConns(); n != 1 {
		t.Fatalf("idle connections %d, want 1", n)
	}
	// The target leaving the group closes its idle connection.
	if _, err := h.tg.Deregister(addr); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("idle backend connection not closed when the target drained")
	}
}

func TestForwardBodies(t *testing.T) {
	type seen struct {
		cl       int64
		te       []string
		body     string
		trailer  string
		clHeader string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.ContentLength, r.TransferEncoding, string(b), r.Trailer.Get("X-Sum"), r.Header.Get("Content-Length")}
		w.Header().Set("Trailer", "X-Resp-Sum")
		fmt.Fprintf(w, "%d bytes", len(b))
		w.Header().Set("X-Resp-Sum", "abc")
	}))
	t.Cleanup(srv.Close)
	l, _ := proxyTo(t, strings.TrimPrefix(srv.URL, "http://"))
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB: many reads and writes
	for _, tt := range []struct {
		name    string
		body    io.Reader
		trailer bool
		want    seen
	}{
		{"content-length", strings.NewReader("hello"), false, seen{cl: 5, body: "hello", clHeader: "5"}},
		{"content-length-big", strings.NewReader(big), false, seen{cl: int64(len(big)), body: big, clHeader: fmt.Sprint(len(big))}},
		{"chunked", io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo")), false, seen{cl: -1, te: []string{"chunked"}, body: "hello"}},
		{"chunked-trailer", io.MultiReader(strings.NewReader(big)), true, seen{cl: -1, te: []string{"chunked"}, body: big, trailer: "42"}},
		{"empty", nil, false, seen{cl: 0, clHeader: "0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", l.URL()+"/upload", tt.body)
			if tt.trailer {
				req.Trailer = http.Header{"X-Sum": {"42"}}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("%d bytes", len(tt.want.body)); resp.StatusCode != 200 || string(b) != want {
				t.Fatalf("%d %q, want %q", resp.StatusCode, b, want)
			}
			if s := resp.Trailer.Get("X-Resp-Sum"); s != "abc" {
				t.Errorf("response trailer %q", s)
			}
			s := <-got
			if s.cl != tt.want.cl || fmt.Sprint(s.te) != fmt.Sprint(tt.want.te) || s.body != tt.want.body ||
				s.trailer != tt.want.trailer || s.clHeader != tt.want.clHeader {
				t.Fatalf("backend saw length %d %v %q (%d bytes) trailer %q, want %d %v %q (%d bytes) trailer %q",
					s.cl, s.te, s.clHeader, len(s.body), s.trailer, tt.want.cl, tt.want.te, tt.want.clHeader, len(tt.want.body), tt.want.trailer)
			}
		})
	}
}

func TestForwardStreamingFlush(t *testing.T) {
	for _, ct := range []string{"text/plain", "text/event-stream; charset=utf-8"} {
		t.Run(ct, func(t *testing.T) {
			headSent, release := make(chan struct{}), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				select {
				case <-headSent:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "data: one\n\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
				}
				io.WriteString(w, "data: two\n\n")
			}))
			t.Cleanup(srv.Close)
			defer close(release)
			l, _ := proxyTo(t, strings.TrimPrefix(srv.URL, "http://"))
			// The head reaches the client before any event.
			c := &http.Client{Timeout: guard, Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			resp, err := c.Get(l.URL() + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			close(headSent)
			line := make(chan string, 1)
			go func() {
				s, _ := bufio.NewReader(resp.Body).ReadString('\n')
				line <- s
			}()
			select {
			case s := <-line:
				if s != "data: one\n" {
					t.Fatalf("got %q", s)
				}
			case <-time.After(guard):
				t.Fatal("first event not flushed to the client while the backend holds the stream")
			}
		})
	}
}

func TestForwardHopByHopHeaders(t *testing.T) {
	var hdr http.Header
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hdr = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-Resp-End", "kept")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	l, _ := proxyTo(t, strings.TrimPrefix(srv.URL, "http://"))
	code, _ := get(t, l.URL()+"/", "Connection", "X-Hop, keep-alive", "X-Hop", "1", "Keep-Alive", "timeout=5",
		"Proxy-Authorization", "Basic eA==", "Proxy-Connection", "keep-alive", "Te", "trailers, deflate",
		"Forwarded", "for=1.2.3.4", "X-Forwarded-Host", "evil", "X-Forwarded-Proto", "https", "X-Forwarded-Port", "1",
		"X-End", "kept", "User-Agent", "ua/1")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	mu.Lock()
	got := hdr
	mu.Unlock()
	for _, k := range []string{"Connection", "X-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Forwarded", "X-Forwarded-Host"} {
		if v, ok := got[k]; ok {
			t.Errorf("backend got %s: %q", k, v)
		}
	}
	want := map[string]string{"Te": "trailers", "X-End": "kept", "User-Agent": "ua/1", "X-Forwarded-Proto": "http",
		"X-Forwarded-Port": fmt.Sprint(l.Port()), "X-Forwarded-For": "127.0.0.1"}
	for k, v := range want {
		if vv := got.Values(k); len(vv) != 1 || vv[0] != v {
			t.Errorf("backend got %s: %q, want %q", k, vv, v)
		}
	}
	resp, err := client.Get(l.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range []string{"X-Resp-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v, ok := resp.Header[k]; ok {
			t.Errorf("client got %s: %q", k, v)
		}
	}
	if v := resp.Header.Get("X-Resp-End"); v != "kept" {
		t.Errorf("X-Resp-End = %q", v)
	}
}

// TestForwardRetriesGETOnStaleConnection: the backend answers one request
// per connection and closes it without saying so; the next GET finds the
// pooled connection dead and is sent again on a new one.
func TestForwardRetriesGETOnStaleConnection(t *testing.T) {
	var reqs atomic.Int32
	b := newRawBackend(t, func(n int, c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		reqs.Add(1)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc%d", n)
	})
	l, _ := proxyTo(t, b.addr())
	for i, want := range []string{"c1", "c2", "c3"} {
		if code, body := get(t, l.URL()+"/"); code != 200 || body != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i, code, body, want)
		}
	}
	if n, r := b.conns.Load(), reqs.Load(); n != 3 || r != 3 {
		t.Fatalf("backend: %d connections, %d requests answered, want 3 and 3", n, r)
	}
}

// TestForwardNoRetryPOST: a POST the backend reads and then drops without
// an answer, on a reused connection, is not sent again: 502.
func TestForwardNoRetryPOST(t *testing.T) {
	var posts atomic.Int32
	b := newRawBackend(t, func(n int, c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if req.Method == "POST" {
				posts.Add(1)
				return // drop the connection, no answer
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	l, _ := proxyTo(t, b.addr())
	if code, _ := get(t, l.URL()+"/"); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	for i, body := range []io.Reader{strings.NewReader("data"), nil} {
		resp, err := client.Post(l.URL()+"/", "text/plain", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("POST %d: %d, want 502", i, resp.StatusCode)
		}
		if n := posts.Load(); n != int32(i+1) {
			t.Fatalf("backend received the POST %d times, want once", n-int32(i))
		}
		if code, _ := get(t, l.URL()+"/"); code != 200 { // a new connection for the next ones
			t.Fatalf("GET: %d", code)
		}
	}
}

// TestForwardPOSTSkipsClosedIdleConnection: before a request it could not
// send again, the forwarder checks the pooled connection and, finding it
// closed by the target, uses a new one.
func TestForwardPOSTSkipsClosedIdleConnection(t *testing.T) {
	var posts atomic.Int32
	b := newRawBackend(t, func(n int, c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		if req.Method == "POST" {
			posts.Add(1)
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	l, h := proxyTo(t, b.addr())
	if code, _ := get(t, l.URL()+"/"); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	// Wait until the forwarder's idle connection sees the target's FIN.
	p := &targetOf(t, h, b.addr()).pool
	deadline := time.Now().Add(guard)
	for {
		p.mu.Lock()
		bc := p.idle[0]
		p.mu.Unlock()
		if !bc.alive() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle connection never saw the target close it")
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := client.Post(l.URL()+"/", "text/plain", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || posts.Load() != 1 || b.conns.Load() != 2 {
		t.Fatalf("POST: %d, backend got %d POSTs on %d connections; want 200, 1 and 2", resp.StatusCode, posts.Load(), b.conns.Load())
	}
}

// TestForwardBackendClosesMidResponse: the client sees a truncated
// response (an error reading the body), not a hang, and the connection is
// not pooled.
func TestForwardBackendClosesMidResponse(t *testing.T) {
	for _, resp := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n",
	} {
		t.Run(strings.Fields(resp)[3], func(t *testing.T) {
			b := newRawBackend(t, func(n int, c net.Conn, br *bufio.Reader) {
				if _, err := http.ReadRequest(br); err == nil {
					io.WriteString(c, resp)
				}
			})
			l, h := proxyTo(t, b.addr())
			c := &http.Client{Timeout: guard, Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			// The listener may not have sent the head yet (a short body
			// with a Content-Length is buffered): then the request fails,
			// else the body read does.
			res, err := c.Get(l.URL() + "/")
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !strings.HasPrefix("partial", string(body)) {
					t.Fatalf("%d %q", res.StatusCode, body)
				}
			}
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%q %v, want an unexpected EOF", body, err)
			}
			if n := targetOf(t, h, b.addr()).pool.idleConns(); n != 0 {
				t.Fatalf("%d idle connections after a broken response", n)
			}
		})
	}
}

// TestForwardDrainExpiryCutsStream: a response still streaming when the
// deregistration delay expires is cut: the client's body read fails and
// the target sees its request cancelled.
func TestForwardDrainExpiryCutsStream(t *testing.T) {
	cancelled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	l, h := proxyTo(t, addr)
	c := &http.Client{Timeout: guard, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	res, err := c.Get(l.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("%q %v", buf, err)
	}
	done, _ := h.tg.Deregister(addr)
	h.clk.Advance(10 * time.Second)
	<-done
	if ev := <-h.drained; !ev.timedOut {
		t.Fatalf("drained %+v", ev)
	}
	if _, err := io.ReadAll(res.Body); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("body read after drain expiry: %v, want a cut stream", err)
	}
	select {
	case <-cancelled:
	case <-time.After(guard):
		t.Fatal("the target never saw its request cancelled")
	}
}

// TestForwardClientCancel: a client giving up closes the backend
// connection, so the target sees its request cancelled: through the
// Listener's clientConn, or context.AfterFunc when another server serves
// the Router.
func TestForwardClientCancel(t *testing.T) {
	for _, viaListener := range []bool{true, false} {
		t.Run(fmt.Sprint("listener=", viaListener), func(t *testing.T) {
			arrived, cancelled, quit := make(chan struct{}), make(chan struct{}), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/slow" {
					return
				}
				close(arrived)
				select {
				case <-r.Context().Done():
					close(cancelled)
				case <-quit:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(quit) }) // runs first: a failing test does not hang in srv.Close
			l, h := proxyTo(t, strings.TrimPrefix(srv.URL, "http://"))
			url := l.URL()
			if !viaListener {
				rt, err := NewRouter(nil, forward(t, WeightedTargetGroup{Group: h.tg}), RouterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				plain := httptest.NewServer(rt)
				t.Cleanup(plain.Close)
				url = plain.URL
			}
			if code, _ := get(t, url+"/"); code != 200 { // a pooled connection for the next
				t.Fatalf("status %d", code)
			}
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
			errc := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			<-arrived
			cancel()
			select {
			case <-cancelled:
			case <-time.After(guard):
				t.Fatal("the target never saw the client's cancellation")
			}
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v", err)
			}
			if code, _ := get(t, url+"/"); code != 200 {
				t.Fatalf("after the cancelled request: %d", code)
			}
		})
	}
}

func TestForwardInformationalResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	l, _ := proxyTo(t, strings.TrimPrefix(srv.URL, "http://"))
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprint(code, " ", h.Get("Link")))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", l.URL()+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" || resp.Header.Get("Link") != "" {
		t.Fatalf("%d %q %v", resp.StatusCode, body, resp.Header)
	}
	if fmt.Sprint(hints) != "[103 </style.css>; rel=preload]" {
		t.Fatalf("1xx seen by the client: %q", hints)
	}
}

// TestForwardUpgrade: requests asking for an upgrade go through
// httputil.ReverseProxy, which hijacks both connections and copies; drain
// expiry cuts the upgraded connection too.
func TestForwardUpgrade(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		io.Copy(c, brw)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	l, h := proxyTo(t, addr)
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "echo" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	if n := targetOf(t, h, addr).InFlight(); n != 1 {
		t.Fatalf("upgraded connection counts %d in flight, want 1", n)
	}
	done, _ := h.tg.Deregister(addr)
	h.clk.Advance(10 * time.Second)
	<-done
	if _, err := br.ReadByte(); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("upgraded connection after drain expiry: %v, want closed", err)
	}
}

// TestForwardCustomTransport: RouterOptions.Transport routes every request
// through httputil.ReverseProxy and that RoundTripper.
func TestForwardCustomTransport(t *testing.T) {
	a := newBackend(t, "a")
	h := healthyGroup(t, "tg", nil, a)
	var calls atomic.Int32
	rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	l, err := Listen(ListenerConfig{DefaultAction: forward(t, WeightedTargetGroup{Group: h.tg}), Router: RouterOptions{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if code, body := get(t, l.URL()+"/", "X-Forwarded-For", "203.0.113.7"); code != 200 || body != "a" {
		t.Fatalf("%d %q", code, body)
	}
	a.mu.Lock()
	xff := a.hdr.Get("X-Forwarded-For")
	a.mu.Unlock()
	if calls.Load() != 1 || xff != "203.0.113.7, 127.0.0.1" {
		t.Fatalf("transport calls %d, X-Forwarded-For %q", calls.Load(), xff)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConnPoolBoundAndIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range accepted {
			c.Close()
		}
		mu.Unlock()
	}()
	p := &connPool{addr: ln.Addr().String()}
	var bcs []*backendConn
	for range maxIdleConnsPerTarget + 2 {
		bc, err := p.get(context.Background(), true, false)
		if err != nil {
			t.Fatal(err)
		}
		bcs = append(bcs, bc)
	}
	for _, bc := range bcs {
		p.put(bc)
	}
	if n := p.idleConns(); n != maxIdleConnsPerTarget {
		t.Fatalf("%d idle, want the bound %d", n, maxIdleConnsPerTarget)
	}
	if _, err := bcs[len(bcs)-1].nc.Write([]byte("x")); err == nil {
		t.Fatal("a connection over the bound was kept open")
	}
	// All but the most recently used two have been idle past the timeout.
	p.mu.Lock()
	for _, bc := range p.idle[:len(p.idle)-2] {
		bc.idleSince = bc.idleSince.Add(-idleConnTimeout)
	}
	oldest := p.idle[0]
	p.mu.Unlock()
	p.sweep()
	if n := p.idleConns(); n != 2 {
		t.Fatalf("%d idle after the sweep, want 2", n)
	}
	if _, err := oldest.nc.Write([]byte("x")); err == nil {
		t.Fatal("an expired idle connection was kept open")
	}
	// Most recently used first.
	if bc, _ := p.get(context.Background(), false, false); bc != bcs[maxIdleConnsPerTarget-1] {
		t.Fatal("get did not return the most recently used connection")
	}
	p.shutdown(true)
	if _, err := p.get(context.Background(), false, false); !errors.Is(err, errTargetAborted) {
		t.Fatalf("get after abort: %v", err)
	}
}
