// Command ecsd is a local Amazon ECS control plane: it answers the ECS API on
// one endpoint and keeps its state in a data directory.
//
//	ecsd [server] [flags]   run the control plane (the default)
//	ecsd demo               a guided rollout and rollback on a private ecsd
//	ecsd version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/controller"
	"github.com/ecsd/ecsd/internal/demoapp"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/elbapi"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/server"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
	"github.com/ecsd/ecsd/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "server"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "server":
		return serve(args, stderr)
	case "demo":
		return runDemo(args, stdout, stderr)
	case "demoapp":
		return demoapp.Main(args)
	case "version":
		fmt.Fprintln(stdout, "ecsd", version.Version)
		return 0
	case "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "ecsd: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ecsd [command] [flags]

Commands:
  server    run the control plane (default): the Amazon ECS API on one endpoint
  demo      see it work: a private ecsd, a load-balanced service rolled to v2,
            a crashing v3 rolled back by the circuit breaker, then clean-up
  demoapp   run the demo HTTP application tasks are made of (see README)
  version   print the version

Run 'ecsd server -h' for the server's flags.
`)
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func defaultDataDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ecsd")
	}
	return filepath.Join(os.TempDir(), "ecsd")
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("ecsd server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", env("ECSD_LISTEN", "127.0.0.1:5440"), "address to serve the AWS APIs on (env ECSD_LISTEN)")
	dataDir := fs.String("data-dir", env("ECSD_DATA_DIR", defaultDataDir()), "directory for ecsd's state (env ECSD_DATA_DIR)")
	region := fs.String("region", env("ECSD_REGION", "us-east-1"), "region for requests without a SigV4 credential scope (env ECSD_REGION)")
	account := fs.String("account-id", env("ECSD_ACCOUNT_ID", "000000000000"), "12-digit account ID used in ARNs (env ECSD_ACCOUNT_ID)")
	runtimeKind := fs.String("runtime", env("ECSD_RUNTIME", "auto"), "how tasks run: auto (docker if an engine answers, else process), docker, process or fake (env ECSD_RUNTIME)")
	healthyAfter := fs.Duration("healthy-after", envDuration("ECSD_HEALTHY_AFTER", 40*time.Second), "how long a service task without health checks must run to count as healthy; ECS uses 40s (env ECSD_HEALTHY_AFTER)")
	backoffBase := fs.Duration("start-backoff", envDuration("ECSD_START_BACKOFF", 10*time.Second), "first delay before relaunching a service's tasks that keep failing to start (env ECSD_START_BACKOFF)")
	backoffMax := fs.Duration("start-backoff-max", envDuration("ECSD_START_BACKOFF_MAX", 15*time.Minute), "longest such delay; ECS uses 15m and never gives up (env ECSD_START_BACKOFF_MAX)")
	logLevel := fs.String("log-level", env("ECSD_LOG_LEVEL", "info"), "debug, info, warn or error (env ECSD_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "ecsd: --log-level %q: use debug, info, warn or error\n", *logLevel)
		return 2
	}
	if len(*account) != 12 || !isDigits(*account) {
		fmt.Fprintf(stderr, "ecsd: --account-id %q: an AWS account ID is 12 digits\n", *account)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	st, err := store.Open(*dataDir)
	if err != nil {
		logger.Error("cannot open the data dir", "error", err)
		return 1
	}
	defer st.Close()

	clk := clock.Real()
	// Load balancers of the last run first: their listeners serve again
	// (targets in their last known health, drains resumed) before anything
	// slower, such as the task runtime's recovery.
	live, err := lbrun.New(lbrun.Config{Store: st, Clock: clk, Logger: logger})
	if err != nil {
		logger.Error("cannot recover load balancers from the last run", "error", err)
		return 1
	}
	defer func() {
		// Requests in flight through the listeners get a moment to finish.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		live.Shutdown(ctx)
	}()
	elb := elbapi.New(elbapi.Config{Store: st, AccountID: *account, Clock: clk, Logger: logger, Live: live})
	services := controller.NewServices(controller.ServicesConfig{
		Store: st, Clock: clk, Logger: logger, AccountID: *account, Targets: live,
		Params: rollout.Params{HealthyAfterRunning: *healthyAfter, BackoffBase: *backoffBase, BackoffMax: *backoffMax},
	})
	api := ecsapi.New(ecsapi.Config{Store: st, AccountID: *account, Logger: logger, TargetGroup: func(arn string) (bool, int) {
		tg, ok := live.TargetGroup(arn)
		return ok, len(tg.LoadBalancerARNs)
	}})
	if err := api.EnsureDefaultCluster(*region); err != nil {
		logger.Error("cannot create the default cluster", "error", err)
		return 1
	}
	h := server.New(*region, logger)
	h.HandleJSON(ecsapi.TargetPrefix, api)
	h.HandleQuery(elbapi.Version, elb)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen; pass another --listen address", "listen", *listen, "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go live.Run(ctx)
	drainer := controller.NewDrainer(st, logger)
	go drainer.Run(ctx)

	runner := taskrun.New(taskrun.Config{Store: st, Clock: clk, Logger: logger, Targets: live, ServiceEvent: services.RecordEvent})
	driver, err := newDriver(ctx, *runtimeKind, *dataDir, runner.HandleEvent, clk, logger)
	if err != nil {
		logger.Error("cannot start the task runtime", "error", err)
		return 1
	}
	defer driver.Close()
	runner.Attach(driver)
	if err := runner.Recover(ctx); err != nil {
		logger.Error("cannot recover tasks from the last run", "error", err)
		return 1
	}
	go runner.Run(ctx)

	go services.Run(ctx)

	// Keep-alive connections stay open while idle (AWS SDKs reuse them);
	// without IdleTimeout, ReadHeaderTimeout would cut them after 10 s.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	logger.Info("ecsd listening", "version", version.Version, "endpoint", "http://"+ln.Addr().String(), "data_dir", *dataDir, "region", *region, "account_id", *account, "runtime", driver.Name())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		logger.Error("server stopped", "error", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	// Requests in flight get a moment to finish; idle connections that
	// never sent a request are not waited for.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	return 0
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
