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
	ln     net.Listener
	srv    *http.Server
	router *Router
	done   chan struct{}
	log    *slog.Logger
}

// Why a port cannot be bound ([PortError.Cause]).
var (
	ErrPortInUse      = errors.New("another program is listening on it")
	ErrPortPrivileged = errors.New("it is a privileged port this process may not bind")
)

// PortError says that a listener's port could not be bound.
type PortError struct {
	Addr  string // host:port asked for
	Port  int
	Cause error // ErrPortInUse, ErrPortPrivileged, or the system's error
}

func (e *PortError) Error() string { return fmt.Sprintf("cannot listen on %s: %v", e.Addr, e.Cause) }

func (e *PortError) Unwrap() error { return e.Cause }

// Bind opens a TCP socket on host:port (host default 127.0.0.1). It never
// falls back to another port: a port that is taken or privileged is a
// *PortError saying which.
func Bind(host string, port int) (net.Listener, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		err = ErrPortInUse
	case errors.Is(err, syscall.EACCES):
		err = ErrPortPrivileged
	}
	return nil, &PortError{Addr: addr, Port: port, Cause: err}
}

// Listen binds cfg.Host:cfg.Port (see [Bind]) and starts serving.
func Listen(cfg ListenerConfig) (*Listener, error) {
	ln, err := Bind(cfg.Host, cfg.Port)
	if err != nil {
		return nil, err
	}
	return Serve(ln, cfg)
}

// Serve starts serving cfg's rules on a socket already bound (Host and
// Port of cfg are ignored). The Listener owns ln from then on, also when
// Serve fails.
func Serve(ln net.Listener, cfg ListenerConfig) (*Listener, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Router.Logger == nil {
		cfg.Router.Logger = cfg.Logger
	}
	router, err := NewRouter(cfg.Rules, cfg.DefaultAction, cfg.Router)
	if err != nil {
		ln.Close()
		return nil, err
	}
	l := &Listener{
		ln:     clientListener{ln},
		router: router,
		done:   make(chan struct{}),
		log:    cfg.Logger,
		srv: &http.Server{
			Handler:           router,
			ReadHeaderTimeout: 60 * time.Second,
			IdleTimeout:       60 * time.Second, // ALB's default idle timeout
			ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
			ConnContext:       connContext, // client disconnects reach the forwarder
		},
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
