package lifecycle

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
)

// harness records emitted events and backend calls.
type harness struct {
	mu      sync.Mutex
	events  []string
	actions []string
	task    *Task
	// autoStart makes StartContainer report Started synchronously.
	autoStart bool
}

func newHarness(t *testing.T, containers ...driver.ContainerSpec) *harness {
	t.Helper()
	spec := driver.TaskSpec{TaskARN: "arn:aws:ecs:us-east-1:1:task/c/t1", Containers: containers}
	if err := driver.Validate(spec); err != nil {
		t.Fatal(err)
	}
	h := &harness{}
	h.task = New(spec, clock.NewFake(time.Time{}), h.emit, h)
	return h
}

func (h *harness) emit(ev driver.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := string(ev.Kind) + " " + ev.Container
	if ev.ExitCode != nil {
		s += " " + string(rune('0'+*ev.ExitCode))
	}
	if ev.Kind == driver.HealthChanged {
		s += " " + string(ev.Health)
	}
	h.events = append(h.events, strings.TrimSpace(s))
}

func (h *harness) StartContainer(name string) {
	h.mu.Lock()
	h.actions = append(h.actions, "start "+name)
	auto := h.autoStart
	h.mu.Unlock()
	if auto {
		h.task.Started(name, "id-"+name, nil)
	}
}

func (h *harness) StopContainer(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.actions = append(h.actions, "stop "+name)
}

func (h *harness) TaskDone() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.actions = append(h.actions, "done")
}

// take returns and clears what was recorded.
func (h *harness) take() (events, actions []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	events, actions = h.events, h.actions
	h.events, h.actions = nil, nil
	return events, actions
}

func (h *harness) expect(t *testing.T, wantEvents, wantActions []string) {
	t.Helper()
	ev, ac := h.take()
	if !slices.Equal(ev, wantEvents) {
		t.Errorf("events = %q, want %q", ev, wantEvents)
	}
	if !slices.Equal(ac, wantActions) {
		t.Errorf("actions = %q, want %q", ac, wantActions)
	}
}

func code(c int32) *int32 { return &c }

func essential(name string, deps ...driver.Dependency) driver.ContainerSpec {
	return driver.ContainerSpec{Name: name, Essential: true, DependsOn: deps}
}

func TestSingleContainerLifecycle(t *testing.T) {
	h := newHarness(t, essential("app"))
	h.task.Begin()
	h.expect(t, nil, []string{"start app"})
	h.task.Pulling("app")
	h.task.Pulled("app")
	h.task.Started("app", "id", nil)
	h.expect(t, []string{"PullStarted app", "PullStopped app", "Started app"}, nil)
	h.task.Exited("app", code(0), "")
	h.expect(t, []string{"Exited app 0", "TaskStopped"}, []string{"done"})
	if !h.task.Done() {
		t.Fatal("not done")
	}
	// Late reports are ignored.
	h.task.Exited("app", code(1), "")
	h.task.SetHealth("app", driver.HealthHealthy)
	h.expect(t, nil, nil)
}

func TestDependsOnSuccess(t *testing.T) {
	initC := driver.ContainerSpec{Name: "init"}
	h := newHarness(t, initC, essential("app", driver.Dependency{ContainerName: "init", Condition: driver.ConditionSuccess}))
	h.autoStart = true
	h.task.Begin()
	h.expect(t, []string{"Started init"}, []string{"start init"})
	h.task.Exited("init", code(0), "")
	h.expect(t, []string{"Exited init 0", "Started app"}, []string{"start app"})
}

func TestDependsOnSuccessFailsWhenDependencyFails(t *testing.T) {
	initC := driver.ContainerSpec{Name: "init"}
	h := newHarness(t, initC, essential("app", driver.Dependency{ContainerName: "init", Condition: driver.ConditionSuccess}))
	h.autoStart = true
	h.task.Begin()
	h.take()
	h.task.Exited("init", code(1), "")
	h.expect(t, []string{"Exited init 1", "StartFailed app", "TaskStopped"}, []string{"done"})
}

func TestDependsOnHealthy(t *testing.T) {
	db := essential("db")
	db.HealthCheck = &driver.HealthCheck{Command: []string{"CMD", "true"}}
	h := newHarness(t, db, essential("app", driver.Dependency{ContainerName: "db", Condition: driver.ConditionHealthy}))
	h.autoStart = true
	h.task.Begin()
	h.expect(t, []string{"Started db"}, []string{"start db"})
	h.task.SetHealth("db", driver.HealthUnhealthy)
	h.expect(t, []string{"HealthChanged db UNHEALTHY"}, nil)
	h.task.SetHealth("db", driver.HealthHealthy)
	h.expect(t, []string{"HealthChanged db HEALTHY", "Started app"}, []string{"start app"})
}

func TestStopInReverseDependencyOrder(t *testing.T) {
	h := newHarness(t, essential("db"), essential("app", driver.Dependency{ContainerName: "db", Condition: driver.ConditionStart}))
	h.autoStart = true
	h.task.Begin()
	h.expect(t, []string{"Started db", "Started app"}, []string{"start db", "start app"})
	h.task.Stop()
	h.expect(t, nil, []string{"stop app"})
	h.task.Stop() // idempotent
	h.expect(t, nil, nil)
	h.task.Exited("app", code(0), "")
	h.expect(t, []string{"Exited app 0"}, []string{"stop db"})
	h.task.Exited("db", code(0), "")
	h.expect(t, []string{"Exited db 0", "TaskStopped"}, []string{"done"})
}

func TestStopWhileStartingAndWaiting(t *testing.T) {
	h := newHarness(t, essential("db"), essential("app", driver.Dependency{ContainerName: "db", Condition: driver.ConditionStart}))
	h.task.Begin()
	h.expect(t, nil, []string{"start db"})
	h.task.Stop()
	// app never starts; db is stopped as soon as it reports Started.
	h.expect(t, []string{"Exited app"}, nil)
	h.task.Started("db", "id", nil)
	h.expect(t, []string{"Started db"}, []string{"stop db"})
	h.task.Exited("db", code(0), "")
	h.expect(t, []string{"Exited db 0", "TaskStopped"}, []string{"done"})
}

func TestEssentialExitStopsTask(t *testing.T) {
	side := driver.ContainerSpec{Name: "side"}
	h := newHarness(t, essential("app"), side, driver.ContainerSpec{Name: "side2"})
	h.autoStart = true
	h.task.Begin()
	h.take()
	// A non-essential exit changes nothing.
	h.task.Exited("side2", code(3), "")
	h.expect(t, []string{"Exited side2 3"}, nil)
	h.task.Exited("app", code(1), "")
	h.expect(t, []string{"Exited app 1"}, []string{"stop side"})
	h.task.Exited("side", code(0), "")
	h.expect(t, []string{"Exited side 0", "TaskStopped"}, []string{"done"})
}

func TestEssentialPullFailureStopsTask(t *testing.T) {
	h := newHarness(t, essential("app"), driver.ContainerSpec{Name: "side"})
	h.task.Begin()
	h.expect(t, nil, []string{"start app", "start side"})
	h.task.Started("side", "s", nil)
	h.task.Pulling("app")
	h.task.PullFailed("app", "CannotPullContainerError: nope")
	h.expect(t, []string{"Started side", "PullStarted app", "PullFailed app"}, []string{"stop side"})
}

func TestRestoreStopsTaskWhoseEssentialExited(t *testing.T) {
	h := newHarness(t, essential("app"), driver.ContainerSpec{Name: "side"})
	h.task.Restore(driver.ContainerStatus{Name: "app", Status: driver.StatusStopped, ExitCode: code(1)})
	h.task.Restore(driver.ContainerStatus{Name: "side", Status: driver.StatusRunning, RuntimeID: "x"})
	h.task.Begin()
	h.expect(t, nil, []string{"stop side"})
	st := h.task.Statuses()
	if st[0].Status != driver.StatusStopped || st[1].Status != driver.StatusRunning || st[1].RuntimeID != "x" {
		t.Fatalf("statuses = %+v", st)
	}
}

func TestHealthTracker(t *testing.T) {
	start := time.Unix(0, 0)
	cfg := driver.HealthCheck{Command: []string{"CMD", "x"}, Retries: 2, StartPeriod: 10 * time.Second}
	h := NewHealthTracker(cfg, start)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		pass bool
		at   int
		want driver.HealthStatus
	}{
		{false, 3, driver.HealthUnknown}, // in start period: ignored
		{false, 6, driver.HealthUnknown},
		{false, 9, driver.HealthUnknown},
		{false, 12, driver.HealthUnknown}, // counted: 1
		{false, 15, driver.HealthUnhealthy},
		{true, 18, driver.HealthHealthy},
		{false, 21, driver.HealthHealthy},
		{false, 24, driver.HealthUnhealthy},
	}
	for i, s := range steps {
		if got := h.Record(s.pass, at(s.at)); got != s.want {
			t.Fatalf("step %d: %v at %ds → %s, want %s", i, s.pass, s.at, got, s.want)
		}
	}
	// A success ends the start period: later failures count even inside it.
	h = NewHealthTracker(cfg, start)
	h.Record(true, at(1))
	h.Record(false, at(2))
	if got := h.Record(false, at(3)); got != driver.HealthUnhealthy {
		t.Fatalf("after healthy, failures in start period: %s", got)
	}
}
