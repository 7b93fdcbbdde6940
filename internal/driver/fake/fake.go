package fake

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/internal/lifecycle"
)

// Behavior is what a fake container does.
type Behavior struct {
	PullDelay  time.Duration
	PullError  string // non-empty: PullFailed "CannotPullContainerError: <PullError>"
	StartDelay time.Duration
	StartError string // non-empty: StartFailed "CannotStartContainerError: <StartError>"

	// Exit: the container exits by itself ExitAfter after it started,
	// with ExitCode.
	Exit      bool
	ExitAfter time.Duration
	ExitCode  int32

	// Unhealthy: every health probe fails. UnhealthyAfter > 0: probes
	// fail once the container has run that long.
	Unhealthy      bool
	UnhealthyAfter time.Duration

	// IgnoreSIGTERM: a stop takes the container's StopTimeout and ends in
	// SIGKILL (exit 137). Otherwise the container exits StopDelay after
	// the stop signal with StopExitCode.
	IgnoreSIGTERM bool
	StopDelay     time.Duration
	StopExitCode  int32
}

// BehaviorFromEnv reads the demo app's knobs: DEMO_CRASH_AFTER (exit 1
// after it), DEMO_HEALTH=fail, DEMO_IGNORE_SIGTERM=1, DEMO_START_DELAY.
// Unparseable values are ignored.
func BehaviorFromEnv(env map[string]string) Behavior {
	var b Behavior
	if v, ok := env["DEMO_CRASH_AFTER"]; ok {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			b.Exit, b.ExitAfter, b.ExitCode = true, d, 1
		}
	}
	b.Unhealthy = env["DEMO_HEALTH"] == "fail"
	if ok, err := strconv.ParseBool(env["DEMO_IGNORE_SIGTERM"]); err == nil && ok {
		b.IgnoreSIGTERM = true
	}
	if d, err := time.ParseDuration(env["DEMO_START_DELAY"]); err == nil && d > 0 {
		b.StartDelay = d
	}
	return b
}

// BehaviorFunc chooses a container's behaviour; ok=false falls back to
// BehaviorFromEnv.
type BehaviorFunc func(task driver.TaskSpec, c driver.ContainerSpec) (b Behavior, ok bool)

// Machine is a fake host holding fake tasks.
type Machine struct {
	clock clock.Clock

	mu       sync.Mutex
	images   map[string]Behavior
	behave   BehaviorFunc
	tasks    map[string]*task
	lost     []*task // finished while no driver owned them
	nextID   int
	nextPort int32
}

// NewMachine returns an empty Machine on clk.
func NewMachine(clk clock.Clock) *Machine {
	return &Machine{clock: clk, images: map[string]Behavior{}, tasks: map[string]*task{}, nextPort: firstDynamicPort}
}

// Dynamic host ports are handed out from this range, wrapping around.
const (
	firstDynamicPort = 32768
	lastDynamicPort  = 60999
)

// SetImage makes every container started from image (exact reference)
// behave as b from now on.
func (m *Machine) SetImage(image string, b Behavior) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.images[image] = b
}

// SetBehaviorFunc installs f, consulted for images without SetImage.
func (m *Machine) SetBehaviorFunc(f BehaviorFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.behave = f
}

// Clock returns the machine's clock.
func (m *Machine) Clock() clock.Clock { return m.clock }

// Tasks returns the number of tasks the machine runs (not yet stopped).
func (m *Machine) Tasks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tasks)
}

func (m *Machine) behavior(spec driver.TaskSpec, c driver.ContainerSpec) Behavior {
	m.mu.Lock()
	b, ok := m.images[c.Image]
	f := m.behave
	m.mu.Unlock()
	if ok {
		return b
	}
	if f != nil {
		if b, ok := f(spec, c); ok {
			return b
		}
	}
	return BehaviorFromEnv(c.Environment)
}

// Options configure a Driver.
type Options struct {
	Logger *slog.Logger
}

// Driver is a driver.Driver on a Machine.
type Driver struct {
	m       *Machine
	emitter *driver.Emitter
	closed  atomic.Bool
}

var _ driver.Driver = (*Driver)(nil)

// New returns a Driver on a new private Machine.
func New(clk clock.Clock, sink driver.Sink, opts Options) *Driver {
	return NewMachine(clk).NewDriver(sink, opts)
}

// NewDriver returns a Driver on m delivering events to sink.
func (m *Machine) NewDriver(sink driver.Sink, opts Options) *Driver {
	return &Driver{m: m, emitter: driver.NewEmitter(sink, opts.Logger)}
}

// Machine returns the driver's machine.
func (d *Driver) Machine() *Machine { return d.m }

// Name returns "fake".
func (d *Driver) Name() string { return "fake" }

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
	m := d.m
	m.mu.Lock()
	if old := m.tasks[spec.TaskARN]; old != nil && !old.lc.Done() {
		m.mu.Unlock()
		return fmt.Errorf("starting %s: %w", spec.TaskARN, driver.ErrTaskExists)
	}
	t := &task{m: m, ctrs: map[string]*container{}}
	t.owner.Store(d)
	t.lc = lifecycle.New(spec, m.clock, t.emit, t)
	m.tasks[spec.TaskARN] = t
	m.mu.Unlock()
	t.lc.Begin()
	return nil
}

// Stop stops the task.
func (d *Driver) Stop(ctx context.Context, taskARN string) error {
	m := d.m
	m.mu.Lock()
	t := m.tasks[taskARN]
	m.mu.Unlock()
	if t == nil || t.owner.Load() != d || t.lc.Done() {
		return fmt.Errorf("stopping %s: %w", taskARN, driver.ErrUnknownTask)
	}
	t.lc.Stop()
	return nil
}

// Recover adopts the machine's tasks that no open driver owns.
func (d *Driver) Recover(ctx context.Context) ([]driver.Recovered, error) {
	if d.closed.Load() {
		return nil, driver.ErrClosed
	}
	m := d.m
	m.mu.Lock()
	var adopted []*task
	for _, t := range m.tasks {
		if o := t.owner.Load(); o == nil || o.closed.Load() {
			t.owner.Store(d)
			adopted = append(adopted, t)
		}
	}
	lost := m.lost
	m.lost = nil
	m.mu.Unlock()

	var out []driver.Recovered
	for _, t := range adopted {
		out = append(out, driver.Recovered{Spec: t.lc.Spec(), Containers: t.lc.Statuses()})
	}
	for _, t := range lost {
		out = append(out, driver.Recovered{Spec: t.lc.Spec(), Containers: t.lc.Statuses(), Lost: true})
	}
	return out, nil
}

// Close detaches the driver: its tasks keep running on the Machine.
func (d *Driver) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.m.mu.Lock()
	for _, t := range d.m.tasks {
		t.owner.CompareAndSwap(d, nil)
	}
	d.m.mu.Unlock()
	d.emitter.Close()
	return nil
}

// task is one fake task; it is the lifecycle.Backend of its state machine.
type task struct {
	m     *Machine
	lc    *lifecycle.Task
	owner atomic.Pointer[Driver] // nil while orphaned

	// guarded by m.mu
	ctrs map[string]*container
}

type container struct {
	name      string
	spec      *driver.ContainerSpec
	b         Behavior
	running   bool
	exited    bool
	startedAt time.Time
	health    *lifecycle.HealthTracker

	// Pending timers, one per purpose so that re-arming replaces.
	stepTimer, exitTimer, probeTimer, stopTimer clock.Timer
}

func (t *task) emit(ev driver.Event) {
	if d := t.owner.Load(); d != nil {
		d.emitter.Emit(ev)
	}
}

// after runs f after d (at once, synchronously, if d == 0) unless the
// container exits first; the timer is kept in *slot. Must not hold m.mu.
func (t *task) after(c *container, slot *clock.Timer, d time.Duration, f func()) {
	if d <= 0 {
		f()
		return
	}
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if c.exited {
		return
	}
	*slot = t.m.clock.AfterFunc(d, f)
}

// StartContainer implements lifecycle.Backend.
func (t *task) StartContainer(name string) {
	spec, _ := t.lc.Container(name)
	b := t.m.behavior(t.lc.Spec(), *spec)
	c := &container{name: name, spec: spec, b: b}
	t.m.mu.Lock()
	t.ctrs[name] = c
	t.m.mu.Unlock()

	t.lc.Pulling(name)
	t.after(c, &c.stepTimer, b.PullDelay, func() {
		if b.PullError != "" {
			t.finish(c)
			t.lc.PullFailed(name, "CannotPullContainerError: "+b.PullError)
			return
		}
		t.lc.Pulled(name)
		t.after(c, &c.stepTimer, b.StartDelay, func() { t.run(c) })
	})
}

// run makes c running.
func (t *task) run(c *container) {
	if c.b.StartError != "" {
		t.finish(c)
		t.lc.StartFailed(c.name, "CannotStartContainerError: "+c.b.StartError)
		return
	}
	m := t.m
	m.mu.Lock()
	if c.exited {
		m.mu.Unlock()
		return
	}
	m.nextID++
	id := fmt.Sprintf("fake-%d", m.nextID)
	var bindings []driver.NetworkBinding
	for _, pm := range c.spec.PortMappings {
		host := pm.HostPort
		if host == 0 {
			host = m.nextPort
			m.nextPort++
			if m.nextPort > lastDynamicPort {
				m.nextPort = firstDynamicPort
			}
		}
		proto := pm.Protocol
		if proto == "" {
			proto = driver.DefaultProtocol
		}
		bindings = append(bindings, driver.NetworkBinding{BindIP: "127.0.0.1", ContainerPort: pm.ContainerPort, HostPort: host, Protocol: proto})
	}
	c.running = true
	c.startedAt = m.clock.Now()
	m.mu.Unlock()

	t.lc.Started(c.name, id, bindings)
	if c.b.Exit {
		t.after(c, &c.exitTimer, c.b.ExitAfter, func() { t.exit(c, c.b.ExitCode, "") })
	}
	if hc := c.spec.HealthCheck; hc != nil {
		cfg := hc.WithDefaults()
		m.mu.Lock()
		c.health = lifecycle.NewHealthTracker(cfg, c.startedAt)
		m.mu.Unlock()
		t.scheduleProbe(c, cfg.Interval)
	}
}

func (t *task) scheduleProbe(c *container, interval time.Duration) {
	t.after(c, &c.probeTimer, interval, func() {
		m := t.m
		m.mu.Lock()
		if !c.running {
			m.mu.Unlock()
			return
		}
		now := m.clock.Now()
		pass := !c.b.Unhealthy && (c.b.UnhealthyAfter <= 0 || now.Sub(c.startedAt) < c.b.UnhealthyAfter)
		status := c.health.Record(pass, now)
		m.mu.Unlock()
		t.lc.SetHealth(c.name, status)
		t.scheduleProbe(c, interval)
	})
}

// StopContainer implements lifecycle.Backend.
func (t *task) StopContainer(name string) {
	t.m.mu.Lock()
	c := t.ctrs[name]
	t.m.mu.Unlock()
	if c == nil {
		return
	}
	if c.b.IgnoreSIGTERM {
		timeout := c.spec.EffectiveStopTimeout()
		t.after(c, &c.stopTimer, timeout, func() {
			t.exit(c, driver.ExitCodeSIGKILL, fmt.Sprintf("Stop timeout (%s) elapsed; killed with SIGKILL", timeout))
		})
		return
	}
	t.after(c, &c.stopTimer, c.b.StopDelay, func() { t.exit(c, c.b.StopExitCode, "") })
}

// TaskDone implements lifecycle.Backend.
func (t *task) TaskDone() {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if arn := t.lc.Spec().TaskARN; m.tasks[arn] == t {
		delete(m.tasks, arn)
	}
	if t.owner.Load() == nil {
		m.lost = append(m.lost, t)
	}
}

// finish marks c gone and cancels its timers; it reports whether c was
// running.
func (t *task) finish(c *container) bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	wasRunning := c.running
	c.running, c.exited = false, true
	for _, tm := range []clock.Timer{c.stepTimer, c.exitTimer, c.probeTimer, c.stopTimer} {
		if tm != nil {
			tm.Stop()
		}
	}
	return wasRunning
}

func (t *task) exit(c *container, code int32, reason string) {
	if !t.finish(c) {
		return
	}
	t.lc.Exited(c.name, &code, reason)
}

var _ driver.Drainer = (*Driver)(nil)
