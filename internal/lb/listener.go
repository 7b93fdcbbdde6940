package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// ListenerConfig describes an HTTP listener.
type ListenerConfig struct {
	Host          string // default 127.0.0.1
	Port          int    // requested port; 0 picks a free one
	Rules         []Rule
	DefaultAction Action
	Router        RouterOptions
	Logger        *slog.Logger // default discards
}

// Listener is a real socket serving a [Router].
type Listener struct {
	ln        net.Listener
	srv       *http.Server
	router    *Router
	requested int
	done      chan struct{}
	log       *slog.Logger
}

// Listen opens the socket and starts serving. If the requested port is in
// use, or privileged and the process may not bind it (port 80 as a normal
// user), it falls back to a free port: Port reports the one actually bound
// and FellBack whether that happened.
func Listen(cfg ListenerConfig) (*Listener, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Router.Logger == nil {
		cfg.Router.Logger = cfg.Logger
	}
	router, err := NewRouter(cfg.Rules, cfg.DefaultAction, cfg.Router)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	refused := err
	if err != nil && cfg.Port != 0 && (errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES)) {
		ln, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	ln = clientListener{ln}
	l := &Listener{
		ln:        ln,
		router:    router,
		requested: cfg.Port,
		done:      make(chan struct{}),
		log:       cfg.Logger,
		srv: &http.Server{
			Handler:           router,
			ReadHeaderTimeout: 60 * time.Second,
			IdleTimeout:       60 * time.Second, // ALB's default idle timeout
			ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
			ConnContext:       connContext, // client disconnects reach the forwarder
		},
	}
	if l.FellBack() {
		l.log.Warn("listener port not available, using a free one", "requested", cfg.Port, "port", l.Port(), "reason", refused)
	}
	go l.serve()
	return l, nil
}

func (l *Listener) serve() {
	defer close(l.done)
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("listener panicked", "panic", r)
		}
	}()
	if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		l.log.Error("listener stopped", "addr", l.Addr(), "err", err)
	}
}

// Router returns the listener's handler (to change its rules).
func (l *Listener) Router() *Router { return l.router }

// Addr returns the bound host:port.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Port returns the bound port.
func (l *Listener) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Requested returns the port asked for.
func (l *Listener) Requested() int { return l.requested }

// FellBack reports whether the requested port was taken and another used.
func (l *Listener) FellBack() bool { return l.requested != 0 && l.requested != l.Port() }

// URL returns http://host:port.
func (l *Listener) URL() string { return "http://" + l.Addr() }

// Shutdown stops accepting and waits for requests in progress (or ctx).
func (l *Listener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	<-l.done
	return err
}

// Close stops the listener at once.
func (l *Listener) Close() error {
	err := l.srv.Close()
	<-l.done
	return err
}
