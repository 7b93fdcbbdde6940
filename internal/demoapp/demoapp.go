package demoapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// CheckTimeout bounds a `demoapp check` request.
const CheckTimeout = 2 * time.Second

// Main runs `ecsd demoapp args...` and returns the process exit code.
func Main(args []string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(args) > 0 && args[0] == "check" {
		return check(args[1:], os.Getenv, logger)
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		Usage(os.Stdout)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "ecsd demoapp: unexpected arguments %q\n\n", args)
		Usage(os.Stderr)
		return 2
	}
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	return run(cfg, env{clock: clock.Real(), signals: sigs, logger: logger})
}

// config is the environment-derived configuration of serving mode.
type config struct {
	port          string
	version       string
	healthFail    bool
	crash         bool // crash after crashAfter
	crashAfter    time.Duration
	exitCode      int // the exit code of a crash
	startDelay    time.Duration
	latency       time.Duration
	ignoreSIGTERM bool
}

func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{
		port:          getenv("PORT"),
		version:       getenv("VERSION"),
		healthFail:    getenv("DEMO_HEALTH") == "fail",
		ignoreSIGTERM: truthy(getenv("DEMO_IGNORE_SIGTERM")),
		exitCode:      1,
	}
	if cfg.port == "" {
		cfg.port = "8080"
	}
	if _, err := strconv.ParseUint(cfg.port, 10, 16); err != nil {
		return cfg, fmt.Errorf("PORT=%q: not a port number", cfg.port)
	}
	if cfg.version == "" {
		cfg.version = "unknown"
	}
	var err error
	if v := getenv("DEMO_CRASH_AFTER"); v != "" {
		cfg.crash = true
		if cfg.crashAfter, err = parseDuration("DEMO_CRASH_AFTER", v); err != nil {
			return cfg, err
		}
	}
	if v := getenv("DEMO_EXIT_CODE"); v != "" {
		if cfg.exitCode, err = strconv.Atoi(v); err != nil || cfg.exitCode < 0 || cfg.exitCode > 255 {
			return cfg, fmt.Errorf("DEMO_EXIT_CODE=%q: want an exit code from 0 to 255", v)
		}
	}
	if cfg.startDelay, err = parseDuration("DEMO_START_DELAY", getenv("DEMO_START_DELAY")); err != nil {
		return cfg, err
	}
	if cfg.latency, err = parseDuration("DEMO_LATENCY", getenv("DEMO_LATENCY")); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func parseDuration(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative Go duration such as 10s", name, v)
	}
	return d, nil
}

func truthy(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// env is what run needs from its surroundings; tests substitute a fake
// clock, their own signal channel and hooks.
type env struct {
	clock   clock.Clock
	signals <-chan os.Signal
	logger  *slog.Logger
	// ready, if set, is called with the listening address.
	ready func(net.Addr)
	// requestStarted, if set, is called when a handler begins.
	requestStarted func(*http.Request)
}

// run serves until a stop signal or a crash and returns the exit code.
func run(cfg config, e env) int {
	log := e.logger
	log.Info("starting", "version", cfg.version, "port", cfg.port,
		"health_fail", cfg.healthFail, "crash", cfg.crash, "crash_after", cfg.crashAfter, "exit_code", cfg.exitCode,
		"start_delay", cfg.startDelay, "latency", cfg.latency, "ignore_sigterm", cfg.ignoreSIGTERM)

	var crashC <-chan time.Time
	if cfg.crash {
		if cfg.crashAfter == 0 {
			log.Error("crashing as asked by DEMO_CRASH_AFTER", "exit_code", cfg.exitCode)
			return cfg.exitCode
		}
		crashC = e.clock.After(cfg.crashAfter)
	}

	// stopRequested reports whether sig should stop the app, logging it.
	stopRequested := func(sig os.Signal) bool {
		if sig == syscall.SIGTERM && cfg.ignoreSIGTERM {
			log.Warn("ignoring SIGTERM as asked by DEMO_IGNORE_SIGTERM")
			return false
		}
		log.Info("stop signal received", "signal", sig.String())
		return true
	}

	if cfg.startDelay > 0 {
		log.Info("delaying start", "start_delay", cfg.startDelay)
		delay := e.clock.After(cfg.startDelay)
	wait:
		for {
			select {
			case <-delay:
				break wait
			case sig := <-e.signals:
				if stopRequested(sig) {
					return 0
				}
			case <-crashC:
				log.Error("crashing as asked by DEMO_CRASH_AFTER", "exit_code", cfg.exitCode)
				return cfg.exitCode
			}
		}
	}

	ln, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		log.Error("cannot listen", "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           handler(cfg, e),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	if e.ready != nil {
		e.ready(ln.Addr())
	}

	for {
		select {
		case sig := <-e.signals:
			if !stopRequested(sig) {
				continue
			}
			log.Info("shutting down: finishing in-flight requests")
			if err := srv.Shutdown(context.Background()); err != nil {
				log.Error("shutdown", "err", err)
				return 1
			}
			log.Info("stopped")
			return 0
		case <-crashC:
			log.Error("crashing as asked by DEMO_CRASH_AFTER", "exit_code", cfg.exitCode)
			srv.Close()
			return cfg.exitCode
		case err := <-serveErr:
			log.Error("serving failed", "err", err)
			return 1
		}
	}
}

func handler(cfg config, e env) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, cfg.version+"\n")
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.healthFail {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "unhealthy\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.requestStarted != nil {
			e.requestStarted(r)
		}
		if cfg.latency > 0 {
			select {
			case <-e.clock.After(cfg.latency):
			case <-r.Context().Done():
				return
			}
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		e.logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "remote", r.RemoteAddr)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// check implements `demoapp check [url]`.
func check(args []string, getenv func(string) string, log *slog.Logger) int {
	if len(args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: demoapp check [url]")
		return 2
	}
	url := ""
	if len(args) == 1 {
		url = args[0]
	} else {
		port := getenv("PORT")
		if port == "" {
			port = "8080"
		}
		url = "http://127.0.0.1:" + port + "/health"
	}
	client := &http.Client{Timeout: CheckTimeout}
	resp, err := client.Get(url)
	if err != nil {
		log.Error("check failed", "url", url, "err", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		log.Error("check failed", "url", url, "status", resp.StatusCode)
		return 1
	}
	log.Info("check passed", "url", url, "status", resp.StatusCode)
	return 0
}
