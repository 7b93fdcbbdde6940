package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NewTransport returns an http.Transport like the forwarder's own
// connections to targets: keep-alive, pooled generously per target, with
// ALB's 10 s connect timeout. The Router uses it (one per process) only for
// connection upgrades and CONNECT; see [RouterOptions.Transport].
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never send target traffic through an environment proxy
		DialContext:           dialer.DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   maxIdleConnsPerTarget,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

var sharedTransport = sync.OnceValue(NewTransport)

// RouterOptions configure a Router.
type RouterOptions struct {
	// Transport, when set, carries every forwarded request through
	// httputil.ReverseProxy and this RoundTripper instead of the built-in
	// forwarder (tests inject one). Default: the forwarder, and a
	// process-wide [NewTransport] for upgrades and CONNECT.
	Transport http.RoundTripper
	Logger    *slog.Logger // default discards
	// Proto is the listener protocol written to X-Forwarded-Proto ("http").
	Proto string
}

// Router is a listener's http.Handler: it evaluates rules, then forwards
// to a target or answers a fixed response. Responses of its own: 503 when
// the chosen target group has no non-draining target (or every weight is
// 0), 502 when the target fails.
//
// Requests are forwarded synchronously on the handler's goroutine over the
// target's pool of keep-alive connections (see forward.go); requests that
// ask for a connection upgrade (an Upgrade header: WebSocket, h2c) or
// CONNECT go through httputil.ReverseProxy, as does everything when
// [RouterOptions.Transport] is set.
type Router struct {
	table  atomic.Pointer[routeTable]
	proxy  *httputil.ReverseProxy
	custom bool // RouterOptions.Transport given: every request through proxy
	log    *slog.Logger
	proto  string
	port   atomic.Pointer[portString] // X-Forwarded-Port of the last request
}

type portString struct {
	port int
	s    string
}

var _ http.Handler = (*Router)(nil)

type targetCtxKey struct{}

// NewRouter returns a Router with the given rules and default action.
func NewRouter(rules []Rule, def Action, opts RouterOptions) (*Router, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Proto == "" {
		opts.Proto = "http"
	}
	rt := &Router{log: opts.Logger, proto: opts.Proto, custom: opts.Transport != nil}
	if err := rt.SetRules(rules, def); err != nil {
		return nil, err
	}
	transport := opts.Transport
	if transport == nil {
		transport = lazyTransport{}
	}
	rt.proxy = &httputil.ReverseProxy{
		Rewrite:      rt.rewrite,
		Transport:    transport,
		ErrorHandler: rt.proxyError,
		ErrorLog:     slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		BufferPool:   bufferPool{},
	}
	return rt, nil
}

// lazyTransport is the shared transport, built on first use.
type lazyTransport struct{}

func (lazyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return sharedTransport().RoundTrip(r)
}

// bufferPool recycles 32 KiB copy buffers (ReverseProxy's and the
// forwarder's).
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// SetRules atomically replaces the rules and default action; requests in
// progress finish with the table they started with.
func (rt *Router) SetRules(rules []Rule, def Action) error {
	t, err := newRouteTable(rules, def)
	if err != nil {
		return fmt.Errorf("setting listener rules: %w", err)
	}
	rt.table.Store(t)
	return nil
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch a := rt.table.Load().route(r).(type) {
	case *Forward:
		rt.forward(w, r, a.pick())
	case FixedResponse:
		ct := a.ContentType
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.StatusCode)
		_, _ = w.Write([]byte(a.Body))
	default:
		http.Error(w, "500 Internal Server Error: unsupported action", http.StatusInternalServerError)
	}
}

func (rt *Router) forward(w http.ResponseWriter, r *http.Request, tg *TargetGroup) {
	var t *Target
	if tg != nil {
		t = tg.acquire()
	}
	if t == nil {
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	defer tg.release(t)
	if _, upgrade := r.Header["Upgrade"]; upgrade || rt.custom || r.Method == http.MethodConnect {
		rt.reverseProxy(w, r, t)
		return
	}
	rt.forwardDirect(w, r, t)
}

// reverseProxy forwards through httputil.ReverseProxy: connection upgrades
// (it hijacks both sides and copies), CONNECT, and every request when a
// Transport was injected.
func (rt *Router) reverseProxy(w http.ResponseWriter, r *http.Request, t *Target) {
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), targetCtxKey{}, t))
	defer cancel()
	stop := context.AfterFunc(t.aborted, cancel) // drain expiry cuts the request
	defer stop()
	rt.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// rewrite points the outbound request at the chosen target, keeps the
// client's Host header (as ALB does) and sets X-Forwarded-For (appending
// the client address to any the client sent), -Proto and -Port.
func (rt *Router) rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(targetCtxKey{}).(*Target)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = t.addr
	pr.Out.Host = pr.In.Host
	client, _, err := net.SplitHostPort(pr.In.RemoteAddr)
	if err != nil {
		client = pr.In.RemoteAddr
	}
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		client = strings.Join(prior, ", ") + ", " + client
	}
	pr.Out.Header.Set("X-Forwarded-For", client)
	pr.Out.Header.Set("X-Forwarded-Proto", rt.proto)
	pr.Out.Header.Set("X-Forwarded-Port", rt.listenerPort(pr.In))
}

// listenerPort is the port the request came in on, for X-Forwarded-Port;
// the string is cached.
func (rt *Router) listenerPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		if c := rt.port.Load(); c != nil && c.port == a.Port {
			return c.s
		}
		c := &portString{a.Port, strconv.Itoa(a.Port)}
		rt.port.Store(c)
		return c.s
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		return p
	}
	return "80"
}

func (rt *Router) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	t, _ := r.Context().Value(targetCtxKey{}).(*Target)
	addr := ""
	if t != nil {
		addr = t.addr
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil && t != nil && t.aborted.Err() == nil {
		// The client went away; nobody is listening for the answer.
		rt.log.Debug("client cancelled request", "target", addr, "path", r.URL.Path)
	} else {
		rt.log.Warn("target request failed", "target", addr, "path", r.URL.Path, "err", err)
	}
	http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
}
