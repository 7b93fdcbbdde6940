// Command ecsd is a local Amazon ECS control plane: it answers the ECS API on
// one endpoint and keeps its state in a data directory.
//
//	ecsd [server] [flags]   run the control plane (the default)
//	ecsd demo               a guided rollout and rollback on a private ecsd
//	ecsd demoapp            the demo HTTP application tasks are made of
//	ecsd version            print the version
//	ecsd help [command]     the commands, or a command's flags
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/demoapp"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/ecsd"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/server"
	"github.com/ecsd/ecsd/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "server"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "--help" || a == "-help":
			usage(stdout)
			return 0
		case a != "" && a[0] != '-':
			cmd, args = a, args[1:]
		}
	}
	switch cmd {
	case "server":
		return serve(args, stdout, stderr)
	case "demo":
		return runDemo(args, stdout, stderr)
	case "demoapp":
		return demoapp.Main(args)
	case "version":
		fmt.Fprintln(stdout, "ecsd", version.Version)
		return 0
	case "help":
		return help(args, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "ecsd: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

// commandList is every command with its one-line summary, as `ecsd help`
// lists them.
var commandList = []struct{ name, summary string }{
	{"server", "run the control plane (the default): the Amazon ECS, ELBv2 and Application Auto Scaling APIs on one endpoint"},
	{"demo", "see it work: a private ecsd, a service rolled to v2, a crashing v3 rolled back, then clean-up"},
	{"demoapp", "run the demo HTTP application tasks are made of (its settings: ecsd demoapp --help)"},
	{"version", "print the version"},
	{"help", "print this help, or 'ecsd help <command>' a command's flags and settings"},
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: ecsd [command] [flags]\n\nCommands:\n")
	for _, c := range commandList {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'ecsd help <command>' (or 'ecsd <command> --help') for a command's flags.\n")
}

// help is `ecsd help [command]`.
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || args[0] == "help":
		usage(stdout)
		return 0
	case args[0] == "version":
		fmt.Fprintln(stdout, "Usage: ecsd version\n\nPrint the version.")
		return 0
	case args[0] == "server" || args[0] == "demo" || args[0] == "demoapp":
		return run([]string{args[0], "--help"}, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ecsd help: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses a command's flags. On -h or --help it prints the
// command's usage line, description and flags on stdout; on a bad flag, the
// error and the same help on stderr. done says the command must return
// code now.
func parseFlags(fs *flag.FlagSet, args []string, description string, stdout, stderr io.Writer) (done bool, code int) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == nil {
		return false, 0
	}
	w, code := stderr, 2
	if errors.Is(err, flag.ErrHelp) {
		w, code = stdout, 0
	} else {
		fmt.Fprintf(stderr, "%s: %v\n\n", fs.Name(), err)
	}
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n\nFlags:\n", fs.Name(), description)
	fs.SetOutput(w)
	fs.PrintDefaults()
	return true, code
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

const serverDescription = `Run the control plane: the Amazon ECS, ELBv2 and Application Auto Scaling
APIs on one endpoint, state kept in the data dir, tasks run as Docker
containers or host processes. At start it prints the export lines that
point AWS clients at it. Every flag has an environment variable.`

// serverSettings are ecsd server's flags (and their environment
// variables), parsed and checked.
type serverSettings struct {
	listen, dataDir, region, account, runtime string
	noFsync                                   bool
	level                                     slog.Level
	params                                    rollout.Params
	guard                                     server.GuardConfig
}

// parseServerFlags parses ecsd server's flags. done says serve must return
// code now: on --help (the help is printed) or a bad flag (what was wrong
// is printed on stderr).
func parseServerFlags(args []string, stdout, stderr io.Writer) (s serverSettings, done bool, code int) {
	fs := flag.NewFlagSet("ecsd server", flag.ContinueOnError)
	fs.StringVar(&s.listen, "listen", env("ECSD_LISTEN", "127.0.0.1:5440"), "address to serve the AWS APIs on (env ECSD_LISTEN)")
	fs.StringVar(&s.dataDir, "data-dir", env("ECSD_DATA_DIR", defaultDataDir()), "directory for ecsd's state (env ECSD_DATA_DIR)")
	fs.StringVar(&s.region, "region", env("ECSD_REGION", ecsd.DefaultRegion), "region for requests without a SigV4 credential scope (env ECSD_REGION)")
	fs.StringVar(&s.account, "account-id", env("ECSD_ACCOUNT_ID", ecsd.DefaultAccountID), "12-digit account ID used in ARNs (env ECSD_ACCOUNT_ID)")
	fs.StringVar(&s.runtime, "runtime", env("ECSD_RUNTIME", "auto"), "how tasks run: auto (docker if an engine answers, else process), docker, process or fake (env ECSD_RUNTIME)")
	fs.DurationVar(&s.params.HealthyAfterRunning, "healthy-after", envDuration("ECSD_HEALTHY_AFTER", ecsHealthyAfter), "how long a service task without health checks must run to count as healthy; ECS uses 40s (env ECSD_HEALTHY_AFTER)")
	fs.DurationVar(&s.params.BackoffBase, "start-backoff", envDuration("ECSD_START_BACKOFF", 10*time.Second), "first delay before relaunching a service's tasks that keep failing to start (env ECSD_START_BACKOFF)")
	fs.DurationVar(&s.params.BackoffMax, "start-backoff-max", envDuration("ECSD_START_BACKOFF_MAX", 15*time.Minute), "longest such delay; ECS uses 15m and never gives up (env ECSD_START_BACKOFF_MAX)")
	fs.BoolVar(&s.noFsync, "unsafe-no-fsync", envBool("ECSD_UNSAFE_NO_FSYNC"), "for tests only: do not fsync state writes; faster, but a machine crash may lose recent writes or corrupt the data dir (env ECSD_UNSAFE_NO_FSYNC)")
	maxTasks := fs.Int("max-tasks-per-service", envInt("ECSD_MAX_TASKS_PER_SERVICE", rollout.DefaultMaxTasksPerService), "highest desiredCount a service may have; ECS's quota is 5000 (env ECSD_MAX_TASKS_PER_SERVICE)")
	logLevel := fs.String("log-level", env("ECSD_LOG_LEVEL", "info"), "debug, info, warn or error (env ECSD_LOG_LEVEL)")
	credentials := fs.String("credentials", env("ECSD_CREDENTIALS", ""), "ACCESS_KEY_ID:SECRET_ACCESS_KEY[,...]: answer only requests signed by these keys; without it any SigV4-signed request is answered (env ECSD_CREDENTIALS)")
	auth := fs.String("auth", env("ECSD_AUTH", string(server.AuthSigV4)), "sigv4: requests must be SigV4-signed; none: unsigned requests are answered too (env ECSD_AUTH)")
	allowedHosts := fs.String("allowed-hosts", env("ECSD_ALLOWED_HOSTS", ""), "more Host names to answer besides the listen address and loopback names: name,*.domain,... or * for any (env ECSD_ALLOWED_HOSTS)")
	if done, code := parseFlags(fs, args, serverDescription, stdout, stderr); done {
		return s, true, code
	}
	bad := func(format string, a ...any) (serverSettings, bool, int) {
		fmt.Fprintf(stderr, "ecsd: "+format+"\n", a...)
		return s, true, 2
	}
	if err := s.level.UnmarshalText([]byte(*logLevel)); err != nil {
		return bad("--log-level %q: use debug, info, warn or error", *logLevel)
	}
	if !slices.Contains(runtimes, s.runtime) {
		return bad("--runtime %q: use auto, docker, process or fake", s.runtime)
	}
	if *maxTasks < 1 || *maxTasks > math.MaxInt32 {
		return bad("--max-tasks-per-service %d: use 1 to %d (ECS's quota is 5000)", *maxTasks, math.MaxInt32)
	}
	s.params.MaxTasksPerService = int32(*maxTasks)
	if len(s.account) != 12 || !isDigits(s.account) {
		return bad("--account-id %q: an AWS account ID is 12 digits", s.account)
	}
	var err error
	if s.guard, err = guardConfig(s.listen, *auth, *credentials, *allowedHosts); err != nil {
		return bad("%v", err)
	}
	return s, false, 0
}

// serve is ecsd server: the assembly (internal/ecsd) on the flags'
// settings, until SIGINT or SIGTERM.
func serve(args []string, stdout, stderr io.Writer) int {
	s, done, code := parseServerFlags(args, stdout, stderr)
	if done {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: s.level}))
	s.guard.Logger = logger
	guard, err := server.NewGuard(s.guard)
	if err != nil {
		fmt.Fprintf(stderr, "ecsd: %v\n", err)
		return 2
	}

	// Signals are caught before the port opens: a SIGTERM sent as soon as
	// ecsd answers shuts it down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		logger.Error("cannot listen; pass another --listen address", "listen", s.listen, "error", err)
		return 1
	}
	if s.noFsync {
		logger.Warn("--unsafe-no-fsync: state writes are not fsynced; a machine crash may lose them (for tests only)")
	}
	clk := clock.Real()
	srv, err := ecsd.New(ecsd.Config{
		DataDir: s.dataDir, NoSync: s.noFsync, Region: s.region, AccountID: s.account, Params: s.params,
		Driver: func(sink driver.Sink) (driver.Driver, error) {
			return newDriver(ctx, s.runtime, s.dataDir, sink, clk, logger)
		},
		Listener: ln, Guard: guard, Clock: clk, Logger: logger,
	})
	if err != nil {
		logger.Error("ecsd cannot start", "error", err)
		return 1
	}
	defer srv.Close()

	logger.Info("ecsd listening", "version", version.Version, "endpoint", "http://"+ln.Addr().String(), "data_dir", s.dataDir, "region", s.region, "account_id", s.account, "runtime", srv.Driver.Name(), "auth", authSummary(s.guard))
	warnExposure(logger, ln.Addr(), s.guard)
	logger.Info(healthyAfterNote(s.params.HealthyAfterRunning), "healthy_after", s.params.HealthyAfterRunning.String())
	printExports(stderr, ln.Addr(), s.region)
	if err := srv.Run(ctx); err != nil {
		logger.Error("server stopped", "error", err)
		return 1
	}
	return 0
}

// healthyAfterNote says at start how long service tasks that nothing else
// says are healthy must run to count as healthy, and how to change it.
func healthyAfterNote(d time.Duration) string {
	const what = "service tasks without a load balancer or container health check count as healthy after "
	if d == ecsHealthyAfter {
		return what + d.String() + " of RUNNING, as on ECS; for faster local rollouts pass --healthy-after 5s (or ECSD_HEALTHY_AFTER=5s)"
	}
	return what + d.String() + " of RUNNING (ECS: " + ecsHealthyAfter.String() + "; --healthy-after, ECSD_HEALTHY_AFTER)"
}

// ecsHealthyAfter is how long ECS lets such a task run before it counts
// as healthy.
const ecsHealthyAfter = 40 * time.Second

// printExports prints the lines a user pastes into a shell to point AWS
// clients at this ecsd: AWS_ENDPOINT_URL sends every service to it (ECS,
// ELBv2, Application Auto Scaling: tools call more than ECS, and with only
// AWS_ENDPOINT_URL_ECS those calls would go to real AWS with the user's
// credentials), and dummy credentials, which ecsd accepts.
func printExports(w io.Writer, addr net.Addr, region string) {
	fmt.Fprintf(w, `# Point AWS clients (aws CLI, SDKs, ecspresso, ecsctl) at this ecsd, every service:
export AWS_ENDPOINT_URL=%s
export AWS_REGION=%s AWS_DEFAULT_REGION=%s
export AWS_ACCESS_KEY_ID=ecsd AWS_SECRET_ACCESS_KEY=ecsd
`, clientEndpoint(addr), region, region)
}

// clientEndpoint is the URL a local client reaches addr at: a wildcard
// listen address (0.0.0.0, ::) is reached on loopback.
func clientEndpoint(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// envBool is whether the environment variable is set to a true value
// (1, true, ...: strconv.ParseBool).
func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// envInt returns the environment variable as an integer, or def when it
// is unset or not a number.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
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
