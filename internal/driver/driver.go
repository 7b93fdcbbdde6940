package driver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults applied when a spec leaves a value zero (ECS's own defaults).
const (
	DefaultStopTimeout             = 30 * time.Second
	DefaultHealthInterval          = 30 * time.Second
	DefaultHealthTimeout           = 5 * time.Second
	DefaultHealthRetries           = 3
	DefaultHealthStartPeriod       = time.Duration(0)
	DefaultProtocol                = "tcp"
	ExitCodeSIGKILL          int32 = 137 // 128 + SIGKILL, what Docker reports for a killed container
)

// Docker labels (and process-driver state) that tie a runtime object to ecsd.
const (
	LabelTaskARN       = "com.ecsd.task-arn"
	LabelContainerName = "com.ecsd.container-name"
	LabelCluster       = "com.ecsd.cluster"
)

// Errors returned by Driver methods; test with errors.Is.
var (
	ErrTaskExists  = errors.New("task already known to the driver")
	ErrUnknownTask = errors.New("task not known to the driver")
	ErrClosed      = errors.New("driver closed")
)

// TaskSpec is what a driver needs to run one task: the task's identity and
// its containers, already resolved from the task definition.
type TaskSpec struct {
	TaskARN    string
	Cluster    string
	Family     string
	Revision   int32
	Containers []ContainerSpec
}

// ContainerSpec is one container of a task.
type ContainerSpec struct {
	Name             string
	Image            string
	EntryPoint       []string
	Command          []string
	Environment      map[string]string
	WorkingDirectory string
	PortMappings     []PortMapping
	// Essential containers stop the whole task when they stop (exit, or
	// fail to pull or start).
	Essential bool
	// StopTimeout is how long a stop signal may take before SIGKILL;
	// 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	HealthCheck *HealthCheck
	DependsOn   []Dependency
}

// PortMapping publishes a container port. HostPort 0 asks for a dynamic
// port, chosen by the driver and reported in the Started event's bindings.
type PortMapping struct {
	ContainerPort int32
	HostPort      int32
	Protocol      string // "tcp" (default) or "udp"
}

// HealthCheck is a container health check with ECS/Docker semantics:
// the first probe runs Interval after the container started; a probe that
// exits 0 within Timeout passes and makes the container HEALTHY at once;
// Retries consecutive failures make it UNHEALTHY; failures during
// StartPeriod, before the first success, do not count.
type HealthCheck struct {
	// Command is {"CMD", argv...} (exec directly) or {"CMD-SHELL", "cmd"}
	// (run with /bin/sh -c).
	Command     []string
	Interval    time.Duration // 0 → 30s
	Timeout     time.Duration // 0 → 5s
	Retries     int           // 0 → 3
	StartPeriod time.Duration // 0 → none
}

// WithDefaults returns h with zero values replaced by ECS defaults.
func (h HealthCheck) WithDefaults() HealthCheck {
	if h.Interval <= 0 {
		h.Interval = DefaultHealthInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultHealthTimeout
	}
	if h.Retries <= 0 {
		h.Retries = DefaultHealthRetries
	}
	if h.StartPeriod < 0 {
		h.StartPeriod = 0
	}
	return h
}

// DependencyCondition is an ECS container dependency condition.
type DependencyCondition string

const (
	ConditionStart    DependencyCondition = "START"    // the dependency has started
	ConditionComplete DependencyCondition = "COMPLETE" // it has exited, with any code
	ConditionSuccess  DependencyCondition = "SUCCESS"  // it has exited with code 0
	ConditionHealthy  DependencyCondition = "HEALTHY"  // its health check passed
)

// Dependency makes a container wait for another container of the task.
type Dependency struct {
	ContainerName string
	Condition     DependencyCondition
}

// NetworkBinding is a published port as ECS reports it.
type NetworkBinding struct {
	BindIP        string
	ContainerPort int32
	HostPort      int32
	Protocol      string
}

// HealthStatus is a container's health as ECS reports it.
type HealthStatus string

const (
	HealthUnknown   HealthStatus = "UNKNOWN"
	HealthHealthy   HealthStatus = "HEALTHY"
	HealthUnhealthy HealthStatus = "UNHEALTHY"
)

// EventKind says what happened to a container (or, for TaskStopped, to the
// task).
type EventKind string

const (
	PullStarted   EventKind = "PullStarted"   // image pull began (also for images already present)
	PullStopped   EventKind = "PullStopped"   // image is available
	PullFailed    EventKind = "PullFailed"    // terminal; Reason "CannotPullContainerError: ..."
	StartFailed   EventKind = "StartFailed"   // terminal; Reason "CannotStartContainerError: ..." or similar
	Started       EventKind = "Started"       // running; Bindings and RuntimeID set
	HealthChanged EventKind = "HealthChanged" // Health set
	Exited        EventKind = "Exited"        // terminal; ExitCode set unless unknown
	TaskStopped   EventKind = "TaskStopped"   // every container is terminal; Container is ""
)

// Terminal reports whether k ends a container's event stream.
func (k EventKind) Terminal() bool {
	return k == PullFailed || k == StartFailed || k == Exited
}

// Event is one observation reported by a driver.
type Event struct {
	TaskARN   string
	Container string // "" for TaskStopped
	Kind      EventKind
	Time      time.Time
	ExitCode  *int32 // Exited: nil when unknown or when the container never ran
	Reason    string
	Health    HealthStatus     // HealthChanged; Started: UNKNOWN if the container has a health check
	Bindings  []NetworkBinding // Started
	RuntimeID string           // Started: docker container ID, process "pid:<n>", fake ID
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s", e.Kind, e.TaskARN, e.Container)
	if e.ExitCode != nil {
		fmt.Fprintf(&b, " exit=%d", *e.ExitCode)
	}
	if e.Health != "" {
		fmt.Fprintf(&b, " health=%s", e.Health)
	}
	if len(e.Bindings) > 0 {
		fmt.Fprintf(&b, " bindings=%v", e.Bindings)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", e.Reason)
	}
	return b.String()
}

// Sink receives a driver's events. See the package documentation for the
// delivery guarantees.
type Sink func(Event)

// Driver runs tasks on some runtime. All methods are safe for concurrent use.
type Driver interface {
	// Name identifies the driver: "docker", "process" or "fake".
	Name() string
	// Start validates spec and begins running the task. It returns
	// promptly; pulls, starts, health and exits arrive as Events. An error
	// means nothing was started and no events will follow.
	Start(ctx context.Context, spec TaskSpec) error
	// Stop stops the task: each running container gets its stop signal
	// (SIGTERM, or the image's STOPSIGNAL for docker) and SIGKILL after its
	// StopTimeout, dependents before their dependencies; containers not yet
	// started never start. The exits arrive as Events, then TaskStopped.
	// Stopping a task that is already stopping is a no-op.
	Stop(ctx context.Context, taskARN string) error
	// Recover finds the tasks that a previous driver on the same runtime
	// (before an ecsd restart) left behind. Tasks with a container still
	// running are re-attached: their later health changes and exits
	// produce Events as if this driver had started them. Tasks with
	// nothing running any more are returned with Lost set and forgotten.
	Recover(ctx context.Context) ([]Recovered, error)
	// Close releases the driver's resources. Tasks keep running so that a
	// later driver can Recover them; no event is delivered after Close
	// returns. Close must not be called from the Sink.
	Close() error
}

// Drainer is implemented by every driver in ecsd: Drain waits until every
// event emitted so far has been delivered and the sink has returned. Tests
// on a fake clock call it after clock.Fake.Advance.
type Drainer interface {
	Drain(ctx context.Context) error
}

// Container lifecycle states reported by Recover (ECS lastStatus values).
const (
	StatusPending = "PENDING"
	StatusRunning = "RUNNING"
	StatusStopped = "STOPPED"
)

// Recovered is one task found by Recover.
type Recovered struct {
	Spec       TaskSpec
	Containers []ContainerStatus // in Spec order
	// Lost: the task was recorded but nothing of it runs any more. The
	// driver has forgotten it; no events will follow.
	Lost bool
}

// ContainerStatus is the state of one container at recovery.
type ContainerStatus struct {
	Name      string
	Status    string // StatusPending, StatusRunning or StatusStopped
	RuntimeID string
	ExitCode  *int32
	Reason    string
	Health    HealthStatus
	Bindings  []NetworkBinding
	StartedAt time.Time
}

// EffectiveStopTimeout returns c's stop timeout with the default applied.
func (c ContainerSpec) EffectiveStopTimeout() time.Duration {
	if c.StopTimeout <= 0 {
		return DefaultStopTimeout
	}
	return c.StopTimeout
}

// TaskID returns the last segment of a task ARN
// ("arn:aws:ecs:r:a:task/cluster/ID" → "ID"), made safe for file and
// container names.
func TaskID(taskARN string) string {
	id := taskARN
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	return SafeName(id)
}

// SafeName maps s to [A-Za-z0-9_.-], replacing anything else with '-'.
func SafeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// Validate checks what a driver relies on: an ARN, unique container names,
// dependencies on existing containers without cycles, known conditions,
// health-check commands of a known form, and port protocols.
func Validate(spec TaskSpec) error {
	if spec.TaskARN == "" {
		return errors.New("task spec: empty TaskARN")
	}
	if len(spec.Containers) == 0 {
		return fmt.Errorf("task %s: no containers", spec.TaskARN)
	}
	byName := make(map[string]*ContainerSpec, len(spec.Containers))
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.Name == "" {
			return fmt.Errorf("task %s: container %d has no name", spec.TaskARN, i)
		}
		if byName[c.Name] != nil {
			return fmt.Errorf("task %s: duplicate container name %q", spec.TaskARN, c.Name)
		}
		byName[c.Name] = c
	}
	for _, c := range spec.Containers {
		for _, pm := range c.PortMappings {
			switch pm.Protocol {
			case "", "tcp", "udp":
			default:
				return fmt.Errorf("container %s: port %d: unknown protocol %q", c.Name, pm.ContainerPort, pm.Protocol)
			}
			if pm.ContainerPort <= 0 || pm.ContainerPort > 65535 || pm.HostPort < 0 || pm.HostPort > 65535 {
				return fmt.Errorf("container %s: invalid port mapping %d:%d", c.Name, pm.HostPort, pm.ContainerPort)
			}
		}
		if hc := c.HealthCheck; hc != nil {
			if len(hc.Command) < 2 || (hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL") ||
				(hc.Command[0] == "CMD-SHELL" && len(hc.Command) != 2) {
				return fmt.Errorf("container %s: health check command must be [\"CMD\", args...] or [\"CMD-SHELL\", command], got %q", c.Name, hc.Command)
			}
		}
		for _, d := range c.DependsOn {
			dep := byName[d.ContainerName]
			if dep == nil || d.ContainerName == c.Name {
				return fmt.Errorf("container %s: depends on unknown container %q", c.Name, d.ContainerName)
			}
			switch d.Condition {
			case ConditionStart, ConditionComplete, ConditionSuccess:
			case ConditionHealthy:
				if dep.HealthCheck == nil {
					return fmt.Errorf("container %s: HEALTHY dependency on %s, which has no health check", c.Name, dep.Name)
				}
			default:
				return fmt.Errorf("container %s: unknown dependency condition %q", c.Name, d.Condition)
			}
		}
	}
	// Cycle check: depth-first search with colours.
	const (
		white = iota
		grey
		black
	)
	colour := make(map[string]int, len(byName))
	var visit func(name string) error
	visit = func(name string) error {
		switch colour[name] {
		case grey:
			return fmt.Errorf("task %s: dependency cycle through container %s", spec.TaskARN, name)
		case black:
			return nil
		}
		colour[name] = grey
		for _, d := range byName[name].DependsOn {
			if err := visit(d.ContainerName); err != nil {
				return err
			}
		}
		colour[name] = black
		return nil
	}
	for _, c := range spec.Containers {
		if err := visit(c.Name); err != nil {
			return err
		}
	}
	return nil
}

// DemoImageRepository is the image repository that means "ecsd's demo app".
const DemoImageRepository = "ecsd/demoapp"

// IsDemoImage reports whether image names the demo app (ecsd/demoapp with
// any tag, optionally prefixed by docker.io/), and returns its tag.
func IsDemoImage(image string) (tag string, ok bool) {
	name := strings.TrimPrefix(image, "docker.io/")
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	tag = "latest"
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name, tag = name[:i], name[i+1:]
	}
	return tag, name == DemoImageRepository
}
