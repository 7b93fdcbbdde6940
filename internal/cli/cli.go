package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/internal/deployconf"
	"github.com/ecsd/ecsd/internal/version"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitFailed  = 2
	ExitTimeout = 3
)

// errDeploymentFailed and errTimeout carry their exit codes.
var (
	errDeploymentFailed = errors.New("deployment failed")
	errTimeout          = errors.New("timed out")
)

// globals are the flags every command takes; each may also come from an
// ECSCTL_* environment variable.
type globals struct {
	config    string
	envfiles  multi
	extStr    multi
	extCode   multi
	debug     bool
	timeout   time.Duration
	logFormat string
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func (g *globals) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&g.config, "config", getenv("ECSCTL_CONFIG"), "config `file` (default ecspresso.yml, .yaml, .json or .jsonnet) (env ECSCTL_CONFIG)")
	fs.Var(&g.envfiles, "envfile", "`file` of KEY=VALUE lines for templates; repeatable (env ECSCTL_ENVFILE)")
	fs.Var(&g.extStr, "ext-str", "Jsonnet external string var `KEY=VALUE`; repeatable")
	fs.Var(&g.extCode, "ext-code", "Jsonnet external code var `KEY=CODE`; repeatable")
	fs.BoolVar(&g.debug, "debug", getenv("ECSCTL_DEBUG") != "", "log API calls (env ECSCTL_DEBUG)")
	d, _ := time.ParseDuration(getenv("ECSCTL_TIMEOUT"))
	fs.DurationVar(&g.timeout, "timeout", d, "how long to wait (default: the config's timeout, else 10m) (env ECSCTL_TIMEOUT)")
	fs.StringVar(&g.logFormat, "log-format", firstNonEmpty(getenv("ECSCTL_LOG_FORMAT"), "text"), "how ecsctl reports, `text|json`: timestamped lines (a live view on a terminal), or a JSON object per line (env ECSCTL_LOG_FORMAT)")
	if f := getenv("ECSCTL_ENVFILE"); f != "" {
		g.envfiles = append(g.envfiles, f)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// app is one ecsctl invocation.
type app struct {
	g      globals
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	cfg    *deployconf.Config
	awsCfg aws.Config // the AWS configuration the clients use
	ecs    *ecs.Client
	out    *printer
}

type command struct {
	summary string // one line, lower case, no final period: the list and the help's first line
	args    string // the arguments after the flags, for the help's usage line
	details string // more description for the command's help, if any
	run     func(a *app, args []string) error
	flags   func(fs *flag.FlagSet) func() // registers command flags; returns a finisher
}

var commands = map[string]command{}

// Run runs ecsctl with args and returns its exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	return run(args, stdout, stderr, os.Getenv)
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || len(args) == 1 && args[0] == "help" {
		usage(stdout)
		return ExitOK
	}
	if args[0] == "help" {
		if args[1] == "version" || args[1] == "help" {
			usage(stdout)
			return ExitOK
		}
		if _, ok := commands[args[1]]; !ok {
			fmt.Fprintf(stderr, "ecsctl help: unknown command %q\n\n", args[1])
			usage(stderr)
			return ExitError
		}
		commandHelp(stdout, args[1])
		return ExitOK
	}
	name := args[0]
	if name == "version" || name == "--version" {
		fmt.Fprintln(stdout, "ecsctl", version.Version)
		return ExitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "ecsctl: unknown command %q\n\n", name)
		usage(stderr)
		return ExitError
	}
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv}
	fs := flag.NewFlagSet("ecsctl "+name, flag.ContinueOnError)
	var flagOut strings.Builder
	fs.SetOutput(&flagOut)
	a.g.register(fs, getenv)
	var finish func()
	if cmd.flags != nil {
		finish = cmd.flags(fs)
	}
	parseErr := fs.Parse(args[1:])
	if a.g.logFormat != "text" && a.g.logFormat != "json" {
		fmt.Fprintf(stderr, "ecsctl %s: --log-format %q: use text or json\n", name, a.g.logFormat)
		return ExitError
	}
	a.out = newPrinter(stdout, stderr, a.g.logFormat, getenv)
	if parseErr != nil {
		if errors.Is(parseErr, flag.ErrHelp) {
			commandHelp(stdout, name)
			return ExitOK
		}
		if a.out.json {
			a.out.commandError(name, parseErr, ExitError)
		} else {
			fmt.Fprint(stderr, flagOut.String())
		}
		return ExitError
	}
	if finish != nil {
		finish()
	}
	if err := cmd.run(a, fs.Args()); err != nil {
		var exit *taskExitError
		switch {
		case errors.As(err, &exit):
			a.out.taskExit(exit)
			return exit.code
		case errors.Is(err, errDeploymentFailed):
			a.out.fail(err, ExitFailed)
			return ExitFailed
		case errors.Is(err, errTimeout):
			a.out.fail(err, ExitTimeout)
			return ExitTimeout
		}
		a.out.commandError(name, err, ExitError)
		return ExitError
	}
	return ExitOK
}

// load reads the config and its definitions' settings.
func (a *app) load() error {
	path := a.g.config
	if path == "" {
		for _, p := range []string{"ecspresso.yml", "ecspresso.yaml", "ecspresso.json", "ecspresso.jsonnet"} {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return errors.New("no config: pass --config FILE (no ecspresso.yml, .yaml, .json or .jsonnet here)")
		}
	}
	opts := deployconf.Options{ExtStr: kv(a.g.extStr), ExtCode: kv(a.g.extCode), EnvFiles: a.g.envfiles,
		Warn: func(msg string) { a.warn([]string{msg}) }}
	cfg, err := deployconf.Load(path, opts)
	if err != nil {
		return err
	}
	if err := cfg.CheckVersion(version.Version); err != nil {
		return err
	}
	a.cfg = cfg
	if a.g.timeout == 0 {
		a.g.timeout = cfg.Timeout
	}
	return nil
}

func kv(pairs []string) map[string]string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return m
}

// client connects to the ECS endpoint the standard AWS configuration names.
func (a *app) client(ctx context.Context) error {
	var opts []func(*config.LoadOptions) error
	if a.cfg != nil && a.cfg.Region != "" {
		opts = append(opts, config.WithRegion(a.cfg.Region))
	}
	if a.g.debug {
		opts = append(opts, config.WithClientLogMode(1|2)) // signing and retries
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return errors.New("no region: set region in the config or AWS_REGION")
	}
	a.awsCfg = awsCfg
	a.ecs = ecs.NewFromConfig(awsCfg)
	return nil
}

// signalContext is cancelled by SIGINT/SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
