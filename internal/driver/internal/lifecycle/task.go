package lifecycle

import (
	"fmt"
	"sync"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
)

// Backend carries out a Task's decisions. Its methods are called without
// the Task's lock held and may call back into the Task synchronously.
type Backend interface {
	// StartContainer starts container name, whose dependencies are met.
	// The outcome is reported with Pulling/Pulled/PullFailed/StartFailed/
	// Started. If the Task is stopping by the time it is started, the Task
	// asks for it to be stopped right away.
	StartContainer(name string)
	// StopContainer stops running container name: stop signal, then
	// SIGKILL after its stop timeout. The exit is reported with Exited.
	// It is called at most once per container.
	StopContainer(name string)
	// TaskDone is called once, when every container is terminal, just
	// before TaskStopped is emitted.
	TaskDone()
}

type phase int

const (
	waiting phase = iota
	starting
	running
	terminal
)

type container struct {
	spec        *driver.ContainerSpec
	phase       phase
	started     bool // reached running at some point
	everHealthy bool
	health      driver.HealthStatus
	exitCode    *int32
	reason      string
	runtimeID   string
	bindings    []driver.NetworkBinding
	startedAt   time.Time
	stopSent    bool
	dependents  []*container
}

// Task is the state machine of one task. All methods are safe for
// concurrent use.
type Task struct {
	spec    driver.TaskSpec
	clock   clock.Clock
	emit    func(driver.Event)
	backend Backend

	mu       sync.Mutex
	ctrs     []*container // spec order
	byName   map[string]*container
	stopping bool
	done     bool
}

// New returns the state machine for spec, which must have passed
// driver.Validate. emit must not block (driver.Emitter.Emit). Nothing
// happens until Begin.
func New(spec driver.TaskSpec, clk clock.Clock, emit func(driver.Event), backend Backend) *Task {
	t := &Task{spec: spec, clock: clk, emit: emit, backend: backend, byName: map[string]*container{}}
	for i := range t.spec.Containers {
		c := &container{spec: &t.spec.Containers[i]}
		t.ctrs = append(t.ctrs, c)
		t.byName[c.spec.Name] = c
	}
	for _, c := range t.ctrs {
		for _, d := range c.spec.DependsOn {
			if dep := t.byName[d.ContainerName]; dep != nil {
				dep.dependents = append(dep.dependents, c)
			}
		}
	}
	return t
}

// Restore sets a container's state from a previous driver's records before
// Begin, for Recover. A container left waiting starts when its
// dependencies are met, as usual.
func (t *Task) Restore(st driver.ContainerStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byName[st.Name]
	if c == nil {
		return
	}
	c.runtimeID, c.bindings, c.startedAt = st.RuntimeID, st.Bindings, st.StartedAt
	c.health, c.exitCode, c.reason = st.Health, st.ExitCode, st.Reason
	c.everHealthy = st.Health == driver.HealthHealthy
	switch st.Status {
	case driver.StatusRunning:
		c.phase, c.started = running, true
	case driver.StatusStopped:
		c.phase, c.started = terminal, !st.StartedAt.IsZero()
	}
}

// Spec returns the task's spec.
func (t *Task) Spec() driver.TaskSpec { return t.spec }

// Container returns the spec of the named container.
func (t *Task) Container(name string) (*driver.ContainerSpec, bool) {
	c := t.byName[name] // byName is immutable after New
	if c == nil {
		return nil, false
	}
	return c.spec, true
}

// Begin starts the containers whose dependencies are met (for a restored
// task: stops it if an essential container is already terminal).
func (t *Task) Begin() { t.update(func() {}) }

// Stop makes the task stopping.
func (t *Task) Stop() { t.update(func() { t.stopping = true }) }

// Stopping reports whether the task is stopping; a Backend may use it to
// abandon a slow start (for example a pull) early.
func (t *Task) Stopping() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopping
}

// Done reports whether every container is terminal.
func (t *Task) Done() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

// Statuses returns the containers' current states, in spec order.
func (t *Task) Statuses() []driver.ContainerStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]driver.ContainerStatus, 0, len(t.ctrs))
	for _, c := range t.ctrs {
		st := driver.ContainerStatus{
			Name: c.spec.Name, RuntimeID: c.runtimeID, ExitCode: c.exitCode, Reason: c.reason,
			Health: c.health, Bindings: c.bindings, StartedAt: c.startedAt,
		}
		switch c.phase {
		case waiting, starting:
			st.Status = driver.StatusPending
		case running:
			st.Status = driver.StatusRunning
		case terminal:
			st.Status = driver.StatusStopped
		}
		out = append(out, st)
	}
	return out
}

// Pulling reports that the image pull of a starting container began.
func (t *Task) Pulling(name string) { t.simple(name, driver.PullStarted) }

// Pulled reports that the image of a starting container is available.
func (t *Task) Pulled(name string) { t.simple(name, driver.PullStopped) }

func (t *Task) simple(name string, kind driver.EventKind) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.byName[name]; c != nil && c.phase == starting {
		t.emit(t.event(c, kind))
	}
}

// PullFailed reports that a container's image cannot be had. reason should
// start with "CannotPullContainerError: ".
func (t *Task) PullFailed(name, reason string) {
	t.update(func() { t.finish(t.byName[name], driver.PullFailed, nil, reason) })
}

// StartFailed reports that a container could not be created or started.
func (t *Task) StartFailed(name, reason string) {
	t.update(func() { t.finish(t.byName[name], driver.StartFailed, nil, reason) })
}

// Started reports that a container runs.
func (t *Task) Started(name, runtimeID string, bindings []driver.NetworkBinding) {
	t.update(func() {
		c := t.byName[name]
		if c == nil || c.phase >= running {
			return
		}
		c.phase, c.started = running, true
		c.runtimeID, c.bindings, c.startedAt = runtimeID, bindings, t.clock.Now()
		ev := t.event(c, driver.Started)
		ev.RuntimeID, ev.Bindings = runtimeID, bindings
		if c.spec.HealthCheck != nil {
			c.health = driver.HealthUnknown
			ev.Health = c.health
		}
		t.emit(ev)
	})
}

// SetHealth reports a running container's health; only changes are emitted.
func (t *Task) SetHealth(name string, h driver.HealthStatus) {
	t.update(func() {
		c := t.byName[name]
		if c == nil || c.phase != running || c.health == h {
			return
		}
		c.health = h
		if h == driver.HealthHealthy {
			c.everHealthy = true
		}
		ev := t.event(c, driver.HealthChanged)
		ev.Health = h
		t.emit(ev)
	})
}

// Exited reports that a container stopped; code is nil when unknown.
func (t *Task) Exited(name string, code *int32, reason string) {
	t.update(func() { t.finish(t.byName[name], driver.Exited, code, reason) })
}

// Health returns a container's current health ("" without a health check).
func (t *Task) Health(name string) driver.HealthStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.byName[name]; c != nil {
		return c.health
	}
	return ""
}

func (t *Task) event(c *container, kind driver.EventKind) driver.Event {
	ev := driver.Event{TaskARN: t.spec.TaskARN, Kind: kind, Time: t.clock.Now()}
	if c != nil {
		ev.Container = c.spec.Name
	}
	return ev
}

// finish makes c terminal with the given event. Must hold t.mu.
func (t *Task) finish(c *container, kind driver.EventKind, code *int32, reason string) {
	if c == nil || c.phase == terminal {
		return
	}
	c.phase = terminal
	c.exitCode, c.reason = code, reason
	ev := t.event(c, kind)
	ev.ExitCode, ev.Reason = code, reason
	t.emit(ev)
}

type action struct {
	start, stop string
	done        bool
	stopped     driver.Event // with done: the TaskStopped event
}

// update runs change under the lock, recomputes what follows, then carries
// out the resulting actions without the lock.
func (t *Task) update(change func()) {
	t.mu.Lock()
	change()
	actions := t.evaluate()
	t.mu.Unlock()
	for _, a := range actions {
		switch {
		case a.start != "":
			t.backend.StartContainer(a.start)
		case a.stop != "":
			t.backend.StopContainer(a.stop)
		case a.done:
			// Forget the task first, so that a consumer seeing
			// TaskStopped finds the driver done with it.
			t.backend.TaskDone()
			t.emit(a.stopped)
		}
	}
}

// evaluate applies the rules until nothing changes. Must hold t.mu.
func (t *Task) evaluate() []action {
	if t.done {
		return nil
	}
	var actions []action
	for changed := true; changed; {
		changed = false
		if !t.stopping {
			for _, c := range t.ctrs {
				if c.spec.Essential && c.phase == terminal {
					t.stopping = true
				}
			}
		}
		for _, c := range t.ctrs {
			switch {
			case c.phase == waiting && t.stopping:
				t.finish(c, driver.Exited, nil, "Task stopped before the container started")
				changed = true
			case c.phase == waiting:
				ok, impossible := t.dependenciesMet(c)
				if impossible != "" {
					t.finish(c, driver.StartFailed, nil, "CannotStartContainerError: "+impossible)
					changed = true
				} else if ok {
					c.phase = starting
					actions = append(actions, action{start: c.spec.Name})
					changed = true
				}
			case c.phase == running && t.stopping && !c.stopSent && dependentsTerminal(c):
				c.stopSent = true
				actions = append(actions, action{stop: c.spec.Name})
			}
		}
	}
	allTerminal := true
	for _, c := range t.ctrs {
		allTerminal = allTerminal && c.phase == terminal
	}
	if allTerminal {
		t.done = true
		actions = append(actions, action{done: true, stopped: t.event(nil, driver.TaskStopped)})
	}
	return actions
}

func dependentsTerminal(c *container) bool {
	for _, d := range c.dependents {
		if d.phase != terminal {
			return false
		}
	}
	return true
}

// dependenciesMet reports whether c may start, or why it never can.
func (t *Task) dependenciesMet(c *container) (ok bool, impossible string) {
	ok = true
	for _, d := range c.spec.DependsOn {
		dep := t.byName[d.ContainerName]
		if dep == nil {
			return false, fmt.Sprintf("dependency %s does not exist", d.ContainerName)
		}
		switch d.Condition {
		case driver.ConditionStart:
			if dep.started {
				continue
			}
			if dep.phase == terminal {
				return false, fmt.Sprintf("dependency %s stopped without starting (condition START)", dep.spec.Name)
			}
		case driver.ConditionComplete:
			if dep.phase == terminal {
				continue
			}
		case driver.ConditionSuccess:
			if dep.phase == terminal {
				if dep.exitCode != nil && *dep.exitCode == 0 {
					continue
				}
				return false, fmt.Sprintf("dependency %s did not exit successfully (condition SUCCESS, exit code %s)", dep.spec.Name, codeString(dep.exitCode))
			}
		case driver.ConditionHealthy:
			if dep.everHealthy {
				continue
			}
			if dep.phase == terminal {
				return false, fmt.Sprintf("dependency %s stopped without becoming healthy (condition HEALTHY)", dep.spec.Name)
			}
		default:
			return false, fmt.Sprintf("unknown dependency condition %q", d.Condition)
		}
		ok = false
	}
	return ok, ""
}

func codeString(c *int32) string {
	if c == nil {
		return "unknown"
	}
	return fmt.Sprint(*c)
}
