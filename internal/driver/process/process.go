package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/internal/lifecycle"
)

// Options configure a Driver.
type Options struct {
	// DataDir holds logs and state (required).
	DataDir string
	// Clock times health checks and stop timeouts (default clock.Real()).
	Clock clock.Clock
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// DemoCommand runs the demo app for ecsd/demoapp images
	// (default: os.Executable(), "demoapp").
	DemoCommand []string
}

// Driver is the process driver.Driver.
type Driver struct {
	dataDir string
	clock   clock.Clock
	log     *slog.Logger
	demo    []string
	emitter *driver.Emitter

	ctx    context.Context // cancelled by Close: stops health checks
	cancel context.CancelFunc
	closed atomic.Bool
	// closeR becomes readable (hang-up) when Close closes closeW; pidfd
	// watchers poll it to stop.
	closeR, closeW int
	wg             sync.WaitGroup // health loops and pidfd watchers

	mu    sync.Mutex
	tasks map[string]*task
}

var _ driver.Driver = (*Driver)(nil)

// New returns a process driver delivering events to sink.
func New(sink driver.Sink, opts Options) (*Driver, error) {
	if opts.DataDir == "" {
		return nil, errors.New("process driver: DataDir is required")
	}
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "tasks"), 0o755); err != nil {
		return nil, fmt.Errorf("process driver: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(opts.DemoCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("process driver: locating the ecsd binary for the demo app: %w", err)
		}
		opts.DemoCommand = []string{exe, "demoapp"}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("process driver: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Driver{
		dataDir: opts.DataDir,
		clock:   opts.Clock,
		log:     opts.Logger.With("driver", "process"),
		demo:    opts.DemoCommand,
		emitter: driver.NewEmitter(sink, opts.Logger),
		ctx:     ctx,
		cancel:  cancel,
		closeR:  p[0],
		closeW:  p[1],
		tasks:   map[string]*task{},
	}, nil
}

// Name returns "process".
func (d *Driver) Name() string { return "process" }

// Drain waits until every event emitted so far reached the sink.
func (d *Driver) Drain(ctx context.Context) error { return d.emitter.Drain(ctx) }

// Start begins running spec.
func (d *Driver) Start(ctx context.Context, spec driver.TaskSpec) error {
	if d.closed.Load() {
		return driver.ErrClosed
	}
	if err := driver.Validate(spec); err != nil {
		return err
	}
	dir := filepath.Join(d.dataDir, "tasks", driver.TaskID(spec.TaskARN))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("starting %s: %w", spec.TaskARN, err)
	}
	d.mu.Lock()
	if old := d.tasks[spec.TaskARN]; old != nil && !old.lc.Done() {
		d.mu.Unlock()
		return fmt.Errorf("starting %s: %w", spec.TaskARN, driver.ErrTaskExists)
	}
	t := d.newTask(spec, dir, &taskRecord{Spec: spec, Containers: map[string]*procRecord{}})
	d.tasks[spec.TaskARN] = t
	d.mu.Unlock()

	t.mu.Lock()
	err := t.persistLocked()
	t.mu.Unlock()
	if err != nil {
		d.mu.Lock()
		delete(d.tasks, spec.TaskARN)
		d.mu.Unlock()
		return fmt.Errorf("starting %s: %w", spec.TaskARN, err)
	}
	t.lc.Begin()
	return nil
}

// Stop stops the task.
func (d *Driver) Stop(ctx context.Context, taskARN string) error {
	d.mu.Lock()
	t := d.tasks[taskARN]
	d.mu.Unlock()
	if t == nil || t.lc.Done() {
		return fmt.Errorf("stopping %s: %w", taskARN, driver.ErrUnknownTask)
	}
	t.lc.Stop()
	return nil
}

// Close stops watching; processes keep running for a later Recover.
func (d *Driver) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.cancel()
	d.mu.Lock()
	tasks := make([]*task, 0, len(d.tasks))
	for _, t := range d.tasks {
		tasks = append(tasks, t)
	}
	d.mu.Unlock()
	for _, t := range tasks {
		t.mu.Lock()
		for _, p := range t.procs {
			if p.stopTimer != nil {
				p.stopTimer.Stop()
			}
		}
		t.mu.Unlock()
	}
	unix.Close(d.closeW)
	d.wg.Wait()
	unix.Close(d.closeR)
	d.emitter.Close()
	return nil
}

// taskRecord is the state file of a task.
type taskRecord struct {
	Spec       driver.TaskSpec        `json:"spec"`
	Containers map[string]*procRecord `json:"containers"`
}

// procRecord is what we persist about one started container.
type procRecord struct {
	PID        int                     `json:"pid"`
	StartTicks uint64                  `json:"startTicks"` // /proc/<pid>/stat starttime
	StartedAt  time.Time               `json:"startedAt"`
	Argv       []string                `json:"argv"`
	Env        []string                `json:"env"`
	Dir        string                  `json:"dir"`
	Bindings   []driver.NetworkBinding `json:"bindings,omitempty"`
	Health     driver.HealthStatus     `json:"health,omitempty"`
	Exited     bool                    `json:"exited,omitempty"`
	ExitCode   *int32                  `json:"exitCode,omitempty"`
	Reason     string                  `json:"reason,omitempty"`
}

// task is one task; it is the lifecycle.Backend of its state machine.
type task struct {
	d   *Driver
	arn string
	dir string
	lc  *lifecycle.Task

	mu     sync.Mutex
	record *taskRecord
	procs  map[string]*proc
}

// proc is one container process.
type proc struct {
	name    string
	spec    *driver.ContainerSpec
	rec     *procRecord // shared with task.record
	cmd     *exec.Cmd   // nil when adopted
	adopted bool

	// guarded by task.mu
	gone       bool // exited; the pid may no longer be signalled
	exited     bool // exit handled
	killed     bool // SIGKILLed after the stop timeout
	stopTimer  clock.Timer
	stopHealth context.CancelFunc

	reported chan struct{} // closed once Started was reported
}

func (d *Driver) newTask(spec driver.TaskSpec, dir string, rec *taskRecord) *task {
	t := &task{d: d, arn: spec.TaskARN, dir: dir, record: rec, procs: map[string]*proc{}}
	t.lc = lifecycle.New(spec, d.clock, d.emitter.Emit, t)
	return t
}

func (t *task) statePath() string { return filepath.Join(t.dir, "state.json") }

// persistLocked writes the state file atomically. Must hold t.mu.
func (t *task) persistLocked() error {
	b, err := json.MarshalIndent(t.record, "", "  ")
	if err != nil {
		return err
	}
	tmp := t.statePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil { // it holds the environment
		return err
	}
	return os.Rename(tmp, t.statePath())
}

func (t *task) persist() {
	if t.d.closed.Load() {
		return // a new driver may own the state file now
	}
	if err := t.persistLocked(); err != nil {
		t.d.log.Error("writing task state", "task", t.arn, "err", err)
	}
}

// StartContainer implements lifecycle.Backend.
func (t *task) StartContainer(name string) {
	if t.d.closed.Load() {
		return
	}
	spec, _ := t.lc.Container(name)
	// There is no image to pull; report the pull anyway so every driver
	// produces the same event sequence.
	t.lc.Pulling(name)
	t.lc.Pulled(name)
	p, err := t.launch(name, spec)
	if err != nil {
		t.lc.StartFailed(name, "CannotStartContainerError: "+err.Error())
		return
	}
	t.lc.Started(name, fmt.Sprintf("pid:%d", p.rec.PID), p.rec.Bindings)
	close(p.reported)
	if hc := spec.HealthCheck; hc != nil {
		t.startHealth(p, lifecycle.NewHealthTracker(*hc, p.rec.StartedAt))
	}
}

// launch starts the process of a container.
func (t *task) launch(name string, spec *driver.ContainerSpec) (*proc, error) {
	argv, defaults := t.d.command(spec)
	if len(argv) == 0 {
		return nil, fmt.Errorf("container %s has no entryPoint or command (the process driver runs no images except %s)", name, driver.DemoImageRepository)
	}
	bindings, err := allocatePorts(spec.PortMappings)
	if err != nil {
		return nil, err
	}
	env := buildEnv(spec.Environment, defaults, bindings)
	path, err := lookPath(argv[0], envValue(env, "PATH"))
	if err != nil {
		return nil, err
	}
	dir := spec.WorkingDirectory
	if dir == "" {
		dir = t.dir
	}
	logf, err := os.OpenFile(filepath.Join(t.dir, driver.SafeName(name)+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := &exec.Cmd{
		Path: path, Args: argv, Env: env, Dir: dir, Stdout: logf, Stderr: logf,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	// Not yet reaped, so /proc/<pid> exists even if it already exited.
	st, err := readProcStat(pid)
	if err != nil {
		t.d.log.Warn("reading process start time", "pid", pid, "err", err)
	}
	p := &proc{
		name: name, spec: spec, cmd: cmd, reported: make(chan struct{}),
		rec: &procRecord{
			PID: pid, StartTicks: st.startTicks, StartedAt: t.d.clock.Now(),
			Argv: argv, Env: env, Dir: dir, Bindings: bindings,
		},
	}
	if spec.HealthCheck != nil {
		p.rec.Health = driver.HealthUnknown
	}
	t.mu.Lock()
	t.procs[name] = p
	t.record.Containers[name] = p.rec
	t.persist()
	t.mu.Unlock()
	go t.reap(p) // not in d.wg: it ends with the process, not with Close
	return p, nil
}

// reap waits for a child process and reports its exit.
func (t *task) reap(p *proc) {
	var info unix.Siginfo
	for {
		// WNOWAIT leaves the zombie in place, so the pid (and its process
		// group id) cannot be reused until cmd.Wait below.
		err := unix.Waitid(unix.P_PID, p.rec.PID, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	t.mu.Lock()
	p.gone = true
	t.mu.Unlock()
	syscall.Kill(-p.rec.PID, syscall.SIGKILL) // leftovers in the group, as when a container's PID 1 exits
	p.cmd.Wait()
	<-p.reported
	code := exitCode(p.cmd.ProcessState)
	t.exited(p, &code)
}

// exited records and reports a container's exit; code nil means unknown.
func (t *task) exited(p *proc, code *int32) {
	t.mu.Lock()
	if p.exited {
		t.mu.Unlock()
		return
	}
	p.gone, p.exited = true, true
	if p.stopTimer != nil {
		p.stopTimer.Stop()
	}
	if p.stopHealth != nil {
		p.stopHealth()
	}
	reason := ""
	switch {
	case p.killed:
		reason = fmt.Sprintf("Stop timeout (%s) elapsed; killed with SIGKILL", p.spec.EffectiveStopTimeout())
		if code == nil {
			c := driver.ExitCodeSIGKILL
			code = &c
		}
	case code == nil:
		reason = "Exit code unknown: the process was re-attached after an ecsd restart"
	}
	p.rec.Exited, p.rec.ExitCode, p.rec.Reason = true, code, reason
	t.persist()
	t.mu.Unlock()
	if t.d.closed.Load() {
		return
	}
	t.lc.Exited(p.name, code, reason)
}

// StopContainer implements lifecycle.Backend.
func (t *task) StopContainer(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.procs[name]
	if p == nil || p.gone || (p.adopted && !alive(p.rec.PID, p.rec.StartTicks)) {
		return
	}
	pid := p.rec.PID
	timeout := p.spec.EffectiveStopTimeout()
	syscall.Kill(-pid, syscall.SIGTERM)
	p.stopTimer = t.d.clock.AfterFunc(timeout, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if p.gone || (p.adopted && !alive(pid, p.rec.StartTicks)) {
			return
		}
		p.killed = true
		syscall.Kill(-pid, syscall.SIGKILL)
	})
}

// TaskDone implements lifecycle.Backend.
func (t *task) TaskDone() {
	if t.d.closed.Load() {
		return
	}
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	if t.d.tasks[t.arn] != t {
		return
	}
	delete(t.d.tasks, t.arn)
	if err := os.Remove(t.statePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.d.log.Error("removing task state", "task", t.arn, "err", err)
	}
}

// command returns the argv for spec and env defaults that come with it.
func (d *Driver) command(spec *driver.ContainerSpec) (argv []string, defaults map[string]string) {
	if tag, ok := driver.IsDemoImage(spec.Image); ok && len(spec.EntryPoint) == 0 {
		return append(slices.Clone(d.demo), spec.Command...), map[string]string{"VERSION": tag}
	}
	return append(slices.Clone(spec.EntryPoint), spec.Command...), nil
}

// healthArgv returns the probe argv of a container's health check.
func (d *Driver) healthArgv(spec *driver.ContainerSpec) []string {
	hc := spec.HealthCheck.Command
	_, demo := driver.IsDemoImage(spec.Image)
	if hc[0] == "CMD-SHELL" {
		cmd := hc[1]
		if demo && strings.HasPrefix(cmd, "/ecsd ") {
			cmd = shellQuote(d.demo[0]) + cmd[len("/ecsd"):]
		}
		return []string{"/bin/sh", "-c", cmd}
	}
	argv := slices.Clone(hc[1:])
	if demo && argv[0] == "/ecsd" {
		argv[0] = d.demo[0]
	}
	return argv
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startHealth runs the container's health checks until it exits or the
// driver closes.
func (t *task) startHealth(p *proc, tracker *lifecycle.HealthTracker) {
	ctx, cancel := context.WithCancel(t.d.ctx)
	t.mu.Lock()
	if p.exited {
		t.mu.Unlock()
		cancel()
		return
	}
	p.stopHealth = cancel
	t.mu.Unlock()
	cfg := p.spec.HealthCheck.WithDefaults()
	argv := t.d.healthArgv(p.spec)
	t.d.wg.Add(1)
	go func() {
		defer t.d.wg.Done()
		defer cancel()
		for {
			timer := t.d.clock.NewTimer(cfg.Interval)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C():
			}
			pass := t.d.probe(ctx, argv, p.rec.Env, p.rec.Dir, cfg.Timeout)
			if ctx.Err() != nil {
				return
			}
			status := tracker.Record(pass, t.d.clock.Now())
			t.mu.Lock()
			if p.rec.Health != status {
				p.rec.Health = status
				t.persist()
			}
			t.mu.Unlock()
			t.lc.SetHealth(p.name, status)
		}
	}()
}

// probe runs one health-check command and reports whether it passed
// (exit 0 within timeout).
func (d *Driver) probe(ctx context.Context, argv, env []string, dir string, timeout time.Duration) bool {
	path, err := lookPath(argv[0], envValue(env, "PATH"))
	if err != nil {
		return false
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Dir: dir, SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		return false
	}
	pid := cmd.Process.Pid
	var mu sync.Mutex
	gone, timedOut := false, false
	kill := func(timeout bool) {
		mu.Lock()
		defer mu.Unlock()
		if !gone {
			timedOut = timeout
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	timer := d.clock.AfterFunc(timeout, func() { kill(true) })
	stopWatch := context.AfterFunc(ctx, func() { kill(false) })
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
	mu.Lock()
	gone = true
	mu.Unlock()
	timer.Stop()
	stopWatch()
	err = cmd.Wait()
	return err == nil && !timedOut
}

// Recover re-attaches the tasks recorded under DataDir.
func (d *Driver) Recover(ctx context.Context) ([]driver.Recovered, error) {
	if d.closed.Load() {
		return nil, driver.ErrClosed
	}
	entries, err := os.ReadDir(filepath.Join(d.dataDir, "tasks"))
	if err != nil {
		return nil, fmt.Errorf("recovering process tasks: %w", err)
	}
	var out []driver.Recovered
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(d.dataDir, "tasks", e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("recovering %s: %w", dir, err)
		}
		var rec taskRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			d.log.Error("skipping unreadable task state", "path", dir, "err", err)
			continue
		}
		if rec.Containers == nil {
			rec.Containers = map[string]*procRecord{}
		}
		if r, ok := d.recoverTask(dir, &rec); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *Driver) recoverTask(dir string, rec *taskRecord) (driver.Recovered, bool) {
	if driver.Validate(rec.Spec) != nil {
		return driver.Recovered{}, false
	}
	d.mu.Lock()
	if d.tasks[rec.Spec.TaskARN] != nil {
		d.mu.Unlock()
		return driver.Recovered{}, false
	}
	t := d.newTask(rec.Spec, dir, rec)
	var running []*proc
	for i := range t.record.Spec.Containers {
		spec := &t.record.Spec.Containers[i]
		r := rec.Containers[spec.Name]
		st := driver.ContainerStatus{Name: spec.Name}
		switch {
		case r == nil:
			continue // never started: stays pending
		case !r.Exited && alive(r.PID, r.StartTicks):
			p := &proc{name: spec.Name, spec: spec, rec: r, adopted: true, reported: make(chan struct{})}
			close(p.reported)
			t.procs[spec.Name] = p
			running = append(running, p)
			st.Status = driver.StatusRunning
		case !r.Exited:
			r.Exited, r.Reason = true, "Process gone while ecsd was not running: exit code unknown"
			fallthrough
		default:
			st.Status = driver.StatusStopped
		}
		st.RuntimeID = fmt.Sprintf("pid:%d", r.PID)
		st.ExitCode, st.Reason, st.Health, st.Bindings, st.StartedAt = r.ExitCode, r.Reason, r.Health, r.Bindings, r.StartedAt
		t.lc.Restore(st)
	}
	out := driver.Recovered{Spec: rec.Spec, Containers: t.lc.Statuses()}
	if len(running) == 0 {
		d.mu.Unlock()
		out.Lost = true
		os.Remove(t.statePath())
		return out, true
	}
	d.tasks[rec.Spec.TaskARN] = t
	d.mu.Unlock()

	t.mu.Lock()
	t.persist()
	t.mu.Unlock()
	for _, p := range running {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			t.watch(p)
		}()
		if hc := p.spec.HealthCheck; hc != nil {
			t.startHealth(p, lifecycle.Resume(*hc, p.rec.StartedAt, p.rec.Health))
		}
	}
	t.lc.Begin()
	return out, true
}

// watch waits, through a pidfd, for an adopted process (not our child) to
// exit, or for the driver to close.
func (t *task) watch(p *proc) {
	fd, err := unix.PidfdOpen(p.rec.PID, 0)
	if err != nil {
		t.exited(p, nil)
		return
	}
	defer unix.Close(fd)
	if !alive(p.rec.PID, p.rec.StartTicks) { // the pid was reused before we opened it
		t.exited(p, nil)
		return
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(t.d.closeR), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.d.log.Error("watching re-attached process", "pid", p.rec.PID, "err", err)
			return
		}
		if fds[1].Revents != 0 {
			return // driver closed
		}
		if fds[0].Revents != 0 {
			break
		}
	}
	t.exited(p, nil)
}

// exitCode maps a wait status to an exit code as Docker reports it.
func exitCode(ps *os.ProcessState) int32 {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

// allocatePorts picks host ports for mappings: the given hostPort, or a
// free loopback port.
func allocatePorts(pms []driver.PortMapping) ([]driver.NetworkBinding, error) {
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	var out []driver.NetworkBinding
	for _, pm := range pms {
		proto := pm.Protocol
		if proto == "" {
			proto = driver.DefaultProtocol
		}
		host := pm.HostPort
		if host == 0 {
			// Hold each port until all are chosen so they differ.
			var port int
			if proto == "udp" {
				c, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					return nil, fmt.Errorf("allocating a host port: %w", err)
				}
				closers = append(closers, c.Close)
				port = c.LocalAddr().(*net.UDPAddr).Port
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return nil, fmt.Errorf("allocating a host port: %w", err)
				}
				closers = append(closers, l.Close)
				port = l.Addr().(*net.TCPAddr).Port
			}
			host = int32(port)
		}
		out = append(out, driver.NetworkBinding{BindIP: "127.0.0.1", ContainerPort: pm.ContainerPort, HostPort: host, Protocol: proto})
	}
	return out, nil
}

const defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// buildEnv returns the environment of a container process: the given
// variables, defaults for missing ones, PATH, and PORT.
func buildEnv(given, defaults map[string]string, bindings []driver.NetworkBinding) []string {
	env := make(map[string]string, len(given)+3)
	for k, v := range defaults {
		env[k] = v
	}
	for k, v := range given {
		env[k] = v
	}
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = os.Getenv("PATH")
		if env["PATH"] == "" {
			env["PATH"] = defaultPATH
		}
	}
	if len(bindings) > 0 {
		env["PORT"] = strconv.Itoa(int(bindings[0].HostPort))
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lookPath finds file in the directories of path (the container's PATH,
// not ecsd's).
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in $PATH", file)
}

var _ driver.Drainer = (*Driver)(nil)
