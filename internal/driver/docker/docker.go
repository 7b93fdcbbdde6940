package docker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/internal/lifecycle"
)

// Labels set on every container, besides driver.LabelTaskARN,
// driver.LabelContainerName and driver.LabelCluster.
const (
	LabelInstance = "com.ecsd.instance"  // Options.Instance: which ecsd owns it
	LabelFamily   = "com.ecsd.family"    // task definition family
	LabelRevision = "com.ecsd.revision"  // task definition revision
	LabelTaskSpec = "com.ecsd.task-spec" // JSON driver.TaskSpec, for Recover
)

// Options configure a Driver.
type Options struct {
	// Client talks to the engine. Default: from the environment
	// (DOCKER_HOST, ...), negotiating the API version.
	Client *client.Client
	// Clock (default clock.Real()).
	Clock  clock.Clock
	Logger *slog.Logger
	// DemoBinary, if set, is a static ecsd binary from which missing
	// ecsd/demoapp images are created (EnsureDemoImage) instead of pulled.
	DemoBinary string
	// Instance scopes Recover to the containers this ecsd created
	// (label com.ecsd.instance); default "default".
	Instance string
	// BindIP is the host address ports are published on (default 127.0.0.1).
	BindIP string
	// KeepContainers keeps containers after their task stopped (for
	// `docker logs`); by default they are removed.
	KeepContainers bool
}

// Driver is the Docker driver.Driver.
type Driver struct {
	cli        *client.Client
	ownClient  bool
	clock      clock.Clock
	log        *slog.Logger
	emitter    *driver.Emitter
	demoBinary string
	instance   string
	bindIP     netip.Addr
	keep       bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup

	mu    sync.Mutex
	tasks map[string]*task
	byID  map[string]*ctr // by Docker container ID
}

var _ driver.Driver = (*Driver)(nil)

// New connects to the engine (failing if it does not answer) and returns a
// driver delivering events to sink.
func New(ctx context.Context, sink driver.Sink, opts Options) (*Driver, error) {
	d := &Driver{
		cli: opts.Client, clock: opts.Clock, log: opts.Logger, demoBinary: opts.DemoBinary,
		instance: opts.Instance, keep: opts.KeepContainers,
		tasks: map[string]*task{}, byID: map[string]*ctr{},
	}
	if d.clock == nil {
		d.clock = clock.Real()
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.log = d.log.With("driver", "docker")
	if d.instance == "" {
		d.instance = "default"
	}
	bindIP := opts.BindIP
	if bindIP == "" {
		bindIP = "127.0.0.1"
	}
	var err error
	if d.bindIP, err = netip.ParseAddr(bindIP); err != nil {
		return nil, fmt.Errorf("docker driver: BindIP: %w", err)
	}
	if d.cli == nil {
		if d.cli, err = client.New(client.FromEnv, client.WithAPIVersionNegotiation()); err != nil {
			return nil, fmt.Errorf("docker driver: %w", err)
		}
		d.ownClient = true
	}
	if _, err := d.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		if d.ownClient {
			d.cli.Close()
		}
		return nil, fmt.Errorf("docker driver: engine not reachable: %w", err)
	}
	d.emitter = driver.NewEmitter(sink, opts.Logger)
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go d.watchEvents()
	return d, nil
}

// Client returns the engine client.
func (d *Driver) Client() *client.Client { return d.cli }

// Name returns "docker".
func (d *Driver) Name() string { return "docker" }

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
	d.mu.Lock()
	if old := d.tasks[spec.TaskARN]; old != nil && !old.lc.Done() {
		d.mu.Unlock()
		return fmt.Errorf("starting %s: %w", spec.TaskARN, driver.ErrTaskExists)
	}
	t := d.newTask(spec)
	d.tasks[spec.TaskARN] = t
	d.mu.Unlock()
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

// Close stops watching; containers keep running for a later Recover.
func (d *Driver) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.cancel()
	d.wg.Wait()
	d.emitter.Close()
	if d.ownClient {
		return d.cli.Close()
	}
	return nil
}

// task is one task; it is the lifecycle.Backend of its state machine.
type task struct {
	d  *Driver
	lc *lifecycle.Task

	mu   sync.Mutex
	ctrs map[string]*ctr
}

// ctr is one Docker container of a task.
type ctr struct {
	t    *task
	name string
	spec *driver.ContainerSpec
	id   string

	stopRequested atomic.Bool
}

func (d *Driver) newTask(spec driver.TaskSpec) *task {
	t := &task{d: d, ctrs: map[string]*ctr{}}
	t.lc = lifecycle.New(spec, d.clock, d.emitter.Emit, t)
	return t
}

// goBackground runs f in a goroutine tied to the driver's lifetime.
func (d *Driver) goBackground(f func()) {
	if d.closed.Load() {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				d.log.Error("panic in docker driver", "panic", r)
			}
		}()
		f()
	}()
}

// StartContainer implements lifecycle.Backend.
func (t *task) StartContainer(name string) {
	t.d.goBackground(func() { t.run(name) })
}

// run pulls, creates and starts a container, then waits for it to exit.
func (t *task) run(name string) {
	d, ctx := t.d, t.d.ctx
	spec, _ := t.lc.Container(name)
	t.lc.Pulling(name)
	if err := d.ensureImage(ctx, spec.Image); err != nil {
		if ctx.Err() == nil {
			t.lc.PullFailed(name, "CannotPullContainerError: "+engineMessage(err))
		}
		return
	}
	t.lc.Pulled(name)
	if t.lc.Stopping() {
		t.lc.Exited(name, nil, "Task stopped before the container started")
		return
	}

	cfg, hostCfg, err := d.containerConfig(t.lc.Spec(), spec)
	if err != nil {
		t.lc.StartFailed(name, "CannotCreateContainerError: "+err.Error())
		return
	}
	opts := client.ContainerCreateOptions{Config: cfg, HostConfig: hostCfg, Name: d.containerName(t.lc.Spec(), spec)}
	res, err := d.cli.ContainerCreate(ctx, opts)
	if err != nil {
		if ctx.Err() == nil {
			t.lc.StartFailed(name, "CannotCreateContainerError: "+engineMessage(err))
		}
		return
	}
	c := &ctr{t: t, name: name, spec: spec, id: res.ID}
	t.register(c)
	if _, err := d.cli.ContainerStart(ctx, c.id, client.ContainerStartOptions{}); err != nil {
		if ctx.Err() == nil {
			t.lc.StartFailed(name, "CannotStartContainerError: "+engineMessage(err))
			if !d.keep {
				d.cli.ContainerRemove(ctx, c.id, client.ContainerRemoveOptions{Force: true})
			}
		}
		return
	}
	var bindings []driver.NetworkBinding
	if insp, err := d.cli.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{}); err == nil {
		bindings = d.bindingsOf(insp.Container, spec)
	} else {
		d.log.Warn("inspecting started container", "container", c.id, "err", err)
	}
	t.lc.Started(name, c.id, bindings)
	t.wait(c)
}

func (t *task) register(c *ctr) {
	t.mu.Lock()
	t.ctrs[c.name] = c
	t.mu.Unlock()
	t.d.mu.Lock()
	t.d.byID[c.id] = c
	t.d.mu.Unlock()
}

// wait blocks until the container is not running and reports its exit.
func (t *task) wait(c *ctr) {
	d, ctx := t.d, t.d.ctx
	w := d.cli.ContainerWait(ctx, c.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var code int32
	select {
	case r := <-w.Result:
		code = int32(r.StatusCode)
	case err := <-w.Error:
		if ctx.Err() == nil {
			d.log.Error("waiting for container", "container", c.id, "err", err)
			t.lc.Exited(c.name, nil, "Lost track of the container: "+engineMessage(err))
		}
		return
	}
	reason := ""
	if insp, err := d.cli.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{}); err == nil && insp.Container.State != nil {
		switch st := insp.Container.State; {
		case st.OOMKilled:
			reason = "OutOfMemoryError: Container killed due to memory usage"
		case st.Error != "":
			reason = st.Error
		}
	}
	if reason == "" && code == driver.ExitCodeSIGKILL && c.stopRequested.Load() {
		reason = fmt.Sprintf("Stop timeout (%s) elapsed; killed with SIGKILL", c.spec.EffectiveStopTimeout())
	}
	if ctx.Err() != nil {
		return
	}
	t.lc.Exited(c.name, &code, reason)
}

// StopContainer implements lifecycle.Backend.
func (t *task) StopContainer(name string) {
	t.mu.Lock()
	c := t.ctrs[name]
	t.mu.Unlock()
	if c == nil {
		return
	}
	c.stopRequested.Store(true)
	t.d.goBackground(func() {
		secs := stopSeconds(c.spec.EffectiveStopTimeout())
		// The engine sends the image's STOPSIGNAL (default SIGTERM), then
		// SIGKILL after the timeout; the exit reaches wait.
		if _, err := t.d.cli.ContainerStop(t.d.ctx, c.id, client.ContainerStopOptions{Timeout: &secs}); err != nil && t.d.ctx.Err() == nil {
			t.d.log.Error("stopping container", "container", c.id, "err", err)
		}
	})
}

// TaskDone implements lifecycle.Backend.
func (t *task) TaskDone() {
	d := t.d
	if d.closed.Load() {
		return
	}
	t.mu.Lock()
	var ids []string
	for _, c := range t.ctrs {
		ids = append(ids, c.id)
	}
	t.mu.Unlock()
	d.mu.Lock()
	if arn := t.lc.Spec().TaskARN; d.tasks[arn] == t {
		delete(d.tasks, arn)
	}
	for _, id := range ids {
		delete(d.byID, id)
	}
	d.mu.Unlock()
	if !d.keep {
		d.goBackground(func() { d.removeContainers(ids) })
	}
}

func (d *Driver) removeContainers(ids []string) {
	for _, id := range ids {
		if _, err := d.cli.ContainerRemove(d.ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil &&
			!cerrdefs.IsNotFound(err) && d.ctx.Err() == nil {
			d.log.Warn("removing container", "container", id, "err", err)
		}
	}
}

// stopSeconds rounds a stop timeout up to whole seconds (at least 1), the
// engine's unit.
func stopSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// containerName is like the ECS agent's: ecsd-<family>-<revision>-<container>-<random>.
// The random part keeps names unique across restarts and ecsd instances;
// ecsd itself finds its containers by label.
func (d *Driver) containerName(task driver.TaskSpec, c *driver.ContainerSpec) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("ecsd-%s-%d-%s-%x", driver.SafeName(task.Family), task.Revision, driver.SafeName(c.Name), b)
}

// containerConfig maps a container spec to the engine's configuration.
func (d *Driver) containerConfig(task driver.TaskSpec, c *driver.ContainerSpec) (*container.Config, *container.HostConfig, error) {
	specJSON, err := json.Marshal(task)
	if err != nil {
		return nil, nil, err
	}
	env := make([]string, 0, len(c.Environment))
	for k, v := range c.Environment {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, pm := range c.PortMappings {
		port, err := portOf(pm)
		if err != nil {
			return nil, nil, err
		}
		hostPort := ""
		if pm.HostPort != 0 {
			hostPort = strconv.Itoa(int(pm.HostPort))
		}
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], network.PortBinding{HostIP: d.bindIP, HostPort: hostPort})
	}
	stop := stopSeconds(c.EffectiveStopTimeout())
	cfg := &container.Config{
		Image:        c.Image,
		Env:          env,
		Entrypoint:   c.EntryPoint,
		Cmd:          c.Command,
		WorkingDir:   c.WorkingDirectory,
		ExposedPorts: exposed,
		StopTimeout:  &stop,
		Labels: map[string]string{
			LabelInstance:             d.instance,
			driver.LabelTaskARN:       task.TaskARN,
			driver.LabelContainerName: c.Name,
			driver.LabelCluster:       task.Cluster,
			LabelFamily:               task.Family,
			LabelRevision:             strconv.Itoa(int(task.Revision)),
			LabelTaskSpec:             string(specJSON),
		},
	}
	if hc := c.HealthCheck; hc != nil {
		h := hc.WithDefaults()
		cfg.Healthcheck = &container.HealthConfig{
			Test: h.Command, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries,
		}
	}
	hostCfg := &container.HostConfig{PortBindings: bindings, NetworkMode: "bridge"}
	return cfg, hostCfg, nil
}

func portOf(pm driver.PortMapping) (network.Port, error) {
	proto := pm.Protocol
	if proto == "" {
		proto = driver.DefaultProtocol
	}
	p, ok := network.PortFrom(uint16(pm.ContainerPort), network.IPProtocol(proto))
	if !ok {
		return p, fmt.Errorf("invalid port %d/%s", pm.ContainerPort, proto)
	}
	return p, nil
}

// bindingsOf reads the published ports of a running container.
func (d *Driver) bindingsOf(insp container.InspectResponse, c *driver.ContainerSpec) []driver.NetworkBinding {
	if insp.NetworkSettings == nil {
		return nil
	}
	var out []driver.NetworkBinding
	for _, pm := range c.PortMappings {
		port, err := portOf(pm)
		if err != nil {
			continue
		}
		for _, b := range insp.NetworkSettings.Ports[port] {
			host, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			ip := d.bindIP.String()
			if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
				ip = b.HostIP.String()
			}
			out = append(out, driver.NetworkBinding{BindIP: ip, ContainerPort: pm.ContainerPort, HostPort: int32(host), Protocol: string(port.Proto())})
			break
		}
	}
	return out
}

// watchEvents follows the engine's container events for health changes,
// reconnecting when the stream breaks.
func (d *Driver) watchEvents() {
	defer d.wg.Done()
	since := ""
	for {
		filters := client.Filters{}.Add("type", "container").Add("label", LabelInstance+"="+d.instance)
		res := d.cli.Events(d.ctx, client.EventsListOptions{Since: since, Filters: filters})
	stream:
		for {
			select {
			case m := <-res.Messages:
				if m.TimeNano != 0 {
					since = fmt.Sprintf("%d.%09d", m.TimeNano/1e9, m.TimeNano%1e9)
				}
				d.handleEvent(m)
			case err := <-res.Err:
				if d.ctx.Err() != nil {
					return
				}
				d.log.Warn("docker event stream broke; reconnecting", "err", err)
				break stream
			}
		}
		select {
		case <-d.ctx.Done():
			return
		case <-d.clock.After(time.Second):
		}
		d.resyncHealth()
	}
}

func (d *Driver) handleEvent(m events.Message) {
	action, status, ok := strings.Cut(string(m.Action), ":")
	if !ok || action != "health_status" {
		return
	}
	d.mu.Lock()
	c := d.byID[m.Actor.ID]
	d.mu.Unlock()
	if c != nil && c.spec.HealthCheck != nil {
		c.t.lc.SetHealth(c.name, healthOf(container.HealthStatus(strings.TrimSpace(status))))
	}
}

// resyncHealth reads the health of every tracked container, for changes
// missed while the event stream was down.
func (d *Driver) resyncHealth() {
	d.mu.Lock()
	var ctrs []*ctr
	for _, c := range d.byID {
		if c.spec.HealthCheck != nil {
			ctrs = append(ctrs, c)
		}
	}
	d.mu.Unlock()
	for _, c := range ctrs {
		insp, err := d.cli.ContainerInspect(d.ctx, c.id, client.ContainerInspectOptions{})
		if err == nil && insp.Container.State != nil && insp.Container.State.Health != nil {
			c.t.lc.SetHealth(c.name, healthOf(insp.Container.State.Health.Status))
		}
	}
}

func healthOf(s container.HealthStatus) driver.HealthStatus {
	switch s {
	case container.Healthy:
		return driver.HealthHealthy
	case container.Unhealthy:
		return driver.HealthUnhealthy
	default:
		return driver.HealthUnknown
	}
}

// Recover re-attaches the tasks whose containers carry this instance's
// labels.
func (d *Driver) Recover(ctx context.Context) ([]driver.Recovered, error) {
	if d.closed.Load() {
		return nil, driver.ErrClosed
	}
	list, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: client.Filters{}.Add("label", LabelInstance+"="+d.instance),
	})
	if err != nil {
		return nil, fmt.Errorf("recovering docker tasks: %w", err)
	}
	groups := map[string][]container.Summary{}
	var order []string
	for _, s := range list.Items {
		arn := s.Labels[driver.LabelTaskARN]
		if arn == "" {
			continue
		}
		if _, seen := groups[arn]; !seen {
			order = append(order, arn)
		}
		groups[arn] = append(groups[arn], s)
	}
	var out []driver.Recovered
	for _, arn := range order {
		r, ok, err := d.recoverTask(ctx, arn, groups[arn])
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *Driver) recoverTask(ctx context.Context, arn string, items []container.Summary) (driver.Recovered, bool, error) {
	d.mu.Lock()
	known := d.tasks[arn] != nil
	d.mu.Unlock()
	if known {
		return driver.Recovered{}, false, nil
	}
	var spec driver.TaskSpec
	if err := json.Unmarshal([]byte(items[0].Labels[LabelTaskSpec]), &spec); err != nil || driver.Validate(spec) != nil {
		d.log.Error("skipping containers with an unreadable task spec label", "task", arn, "err", err)
		return driver.Recovered{}, false, nil
	}
	t := d.newTask(spec)
	var running, all []*ctr
	for _, s := range items {
		cs, ok := t.lc.Container(s.Labels[driver.LabelContainerName])
		if !ok {
			continue
		}
		insp, err := d.cli.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				continue
			}
			return driver.Recovered{}, false, fmt.Errorf("recovering %s: %w", arn, err)
		}
		st := insp.Container.State
		c := &ctr{t: t, name: cs.Name, spec: cs, id: s.ID}
		status := driver.ContainerStatus{Name: cs.Name, RuntimeID: s.ID}
		if st != nil {
			status.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
		}
		switch {
		case st == nil || st.Status == container.StateCreated:
			// Created but never started: it will be recreated if needed.
			d.cli.ContainerRemove(ctx, s.ID, client.ContainerRemoveOptions{Force: true})
			continue
		case st.Running:
			status.Status = driver.StatusRunning
			status.Bindings = d.bindingsOf(insp.Container, cs)
			if cs.HealthCheck != nil {
				status.Health = driver.HealthUnknown
				if st.Health != nil {
					status.Health = healthOf(st.Health.Status)
				}
			}
			running = append(running, c)
		default:
			code := int32(st.ExitCode)
			status.Status, status.ExitCode = driver.StatusStopped, &code
			if st.OOMKilled {
				status.Reason = "OutOfMemoryError: Container killed due to memory usage"
			}
		}
		all = append(all, c)
		t.lc.Restore(status)
	}
	out := driver.Recovered{Spec: spec, Containers: t.lc.Statuses()}
	if len(running) == 0 {
		out.Lost = true
		if !d.keep {
			var ids []string
			for _, c := range all {
				ids = append(ids, c.id)
			}
			d.removeContainers(ids)
		}
		return out, true, nil
	}
	d.mu.Lock()
	if d.tasks[arn] != nil {
		d.mu.Unlock()
		return driver.Recovered{}, false, nil
	}
	d.tasks[arn] = t
	d.mu.Unlock()
	for _, c := range all {
		t.register(c)
	}
	for _, c := range running {
		d.goBackground(func() { t.wait(c) })
	}
	t.lc.Begin()
	return out, true, nil
}

var _ driver.Drainer = (*Driver)(nil)
