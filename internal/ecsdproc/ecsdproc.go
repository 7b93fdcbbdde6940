package ecsdproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Options say how Start runs ecsd.
type Options struct {
	// Bin is the ecsd binary (see Build). Required.
	Bin string
	// DataDir is its --data-dir. Required: the caller owns it (a test's
	// t.TempDir, the demo's temporary dir), so that Restart finds the same
	// state.
	DataDir string
	// Addr is its --listen address; default a free 127.0.0.1 port, kept
	// across restarts.
	Addr string
	// Region is its --region and AWSConfig's region; default us-east-1.
	Region string
	// Runtime is its --runtime (auto, docker, process, fake); default
	// ecsd's own (auto).
	Runtime string
	// HealthyAfter, when set, is its --healthy-after.
	HealthyAfter time.Duration
	// NoFsync runs it with --unsafe-no-fsync: a crash may lose recent
	// writes. Not for tests that kill it and check what survived.
	NoFsync bool
	// Args are more flags, after the ones above.
	Args []string
	// Env is added to the environment it inherits.
	Env []string
	// LogFile, when set, receives its stdout and stderr (appended, so a
	// restart keeps the earlier run's log); otherwise they are kept in
	// memory. Either way Logs returns them.
	LogFile string
	// OwnGroup puts it in its own process group, so that a Ctrl-C at the
	// terminal reaches only the parent (which stops it in order) and Stop
	// and Kill reach the whole group.
	OwnGroup bool
	// StartTimeout bounds the wait until it answers; default 30 s.
	StartTimeout time.Duration
	// Grace is how long Stop waits after SIGTERM before SIGKILL; default
	// 10 s.
	Grace time.Duration
}

// Proc is one running ecsd.
type Proc struct {
	Endpoint string // http://ADDR: the ECS and ELBv2 APIs
	Addr     string // its --listen address
	DataDir  string

	opts Options
	logs *logSink

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	err    error         // cmd.Wait's, once exited
}

// ErrKilled is Stop's error when ecsd had to be killed after the grace
// period.
var ErrKilled = errors.New("ecsd did not exit after SIGTERM within the grace period; killed")

// Start runs `ecsd server` with o and waits until it answers HTTP. When o
// chose no address and the free port it picked was taken meanwhile, it
// tries another.
func Start(ctx context.Context, o Options) (*Proc, error) {
	if o.Bin == "" || o.DataDir == "" {
		return nil, errors.New("ecsdproc.Start: Options.Bin and Options.DataDir are required")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	p := &Proc{DataDir: o.DataDir, opts: o, logs: &logSink{path: o.LogFile}}
	for attempt := 0; ; attempt++ {
		addr := o.Addr
		if addr == "" {
			var err error
			if addr, err = freeAddr(); err != nil {
				return nil, err
			}
		}
		p.Addr, p.Endpoint = addr, "http://"+addr
		err := p.start(ctx)
		if err == nil {
			return p, nil
		}
		if o.Addr != "" || attempt == 2 || !strings.Contains(p.Logs(), "address already in use") {
			return nil, err
		}
	}
}

// Restart starts ecsd again with the same options, address and data dir,
// after Stop or Kill.
func (p *Proc) Restart(ctx context.Context) error {
	if p.Alive() {
		return errors.New("ecsdproc: Restart of an ecsd that still runs; Stop or Kill it first")
	}
	return p.start(ctx)
}

func (p *Proc) start(ctx context.Context) error {
	o := p.opts
	args := []string{"server", "--listen", p.Addr, "--data-dir", o.DataDir, "--region", o.Region}
	if o.Runtime != "" {
		args = append(args, "--runtime", o.Runtime)
	}
	if o.HealthyAfter > 0 {
		args = append(args, "--healthy-after", o.HealthyAfter.String())
	}
	if o.NoFsync {
		args = append(args, "--unsafe-no-fsync")
	}
	out, err := p.logs.open()
	if err != nil {
		return err
	}
	cmd := exec.Command(o.Bin, append(args, o.Args...)...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr(o.OwnGroup)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("starting %s: %w", o.Bin, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited, p.err = cmd, exited, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		out.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	if err := p.waitAnswering(ctx, exited); err != nil {
		p.signal(syscall.SIGKILL)
		<-exited
		return err
	}
	return nil
}

// waitAnswering polls until an HTTP request to the endpoint gets any reply.
func (p *Proc) waitAnswering(ctx context.Context, exited chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(p.opts.StartTimeout)
	defer deadline.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"/", nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			client.CloseIdleConnections()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("ecsd exited before answering on %s (%v):\n%s", p.Addr, p.exitErr(), tail(p.Logs()))
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("ecsd did not answer on %s within %s:\n%s", p.Addr, p.opts.StartTimeout, tail(p.Logs()))
		case <-time.After(20 * time.Millisecond): // polling a child process coming up
		}
	}
}

// Pid is the process ID of the ecsd running now (or last).
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// ProcessState is the exit state of the last run, nil while it runs.
func (p *Proc) ProcessState() *os.ProcessState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.ProcessState
}

// Exited is closed when the ecsd running now exits.
func (p *Proc) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// Alive reports whether ecsd still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.Exited():
		return false
	default:
		return true
	}
}

func (p *Proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGTERM and waits for ecsd to exit, sending SIGKILL after the
// grace period. Its error is the exit's (nil for a clean exit 0), or
// ErrKilled. Stopping an ecsd that has exited returns how it exited.
func (p *Proc) Stop() error {
	exited := p.Exited()
	select {
	case <-exited:
		return p.exitErr()
	default:
	}
	p.signal(syscall.SIGTERM)
	grace := time.NewTimer(p.opts.Grace)
	defer grace.Stop()
	select {
	case <-exited:
		p.reapGroup()
		return p.exitErr()
	case <-grace.C:
	}
	p.signal(syscall.SIGKILL)
	<-exited
	return ErrKilled
}

// Kill sends SIGKILL and waits until ecsd is gone: a crash, for restart
// tests.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
	<-p.Exited()
}

// signal signals ecsd (its group, with OwnGroup).
func (p *Proc) signal(sig syscall.Signal) {
	pid := p.Pid()
	if p.opts.OwnGroup {
		syscall.Kill(-pid, sig)
		return
	}
	syscall.Kill(pid, sig)
}

// reapGroup kills what is left of ecsd's own process group, if any.
func (p *Proc) reapGroup() {
	if p.opts.OwnGroup {
		syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
}

// Logs returns what ecsd wrote to stdout and stderr, over all its runs.
func (p *Proc) Logs() string { return p.logs.String() }

// AWSConfig is an AWS client configuration for this ecsd: its endpoint and
// region, static credentials. The SDK's retries stay on: it closes a
// request body when the response headers arrive, which now and then makes
// Go's client drop a kept-alive connection mid-reply ("use of closed
// network connection", aws/aws-sdk-go-v2#2737); the SDK retries those.
func (p *Proc) AWSConfig() aws.Config {
	return aws.Config{
		Region:       p.opts.Region,
		BaseEndpoint: aws.String(p.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}
}

// The key AWSConfig signs with. A child started with --credentials must
// list it (Credential) for AWSConfig's clients, and StartTest's clean-up,
// to be answered.
const (
	AccessKeyID     = "AKIDECSDPROC"
	SecretAccessKey = "ecsdproc-secret"
	Credential      = AccessKeyID + ":" + SecretAccessKey
)

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tail is the end of a log, for error messages.
func tail(s string) string {
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return strings.TrimRight(s, "\n")
}

// logSink keeps ecsd's output in memory, or in a file.
type logSink struct {
	path string

	mu  sync.Mutex
	buf strings.Builder
}

func (s *logSink) open() (io.WriteCloser, error) {
	if s.path == "" {
		return nopCloser{s}, nil
	}
	return os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *logSink) String() string {
	if s.path != "" {
		b, _ := os.ReadFile(s.path)
		return string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
