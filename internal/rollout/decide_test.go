package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		desired, minP, maxP, lower, upper int32
	}{
		{12, 75, 150, 9, 18},
		{100, 90, 110, 90, 110},
		{100, 90, 150, 90, 150},
		{3, 50, 200, 2, 6},  // ceil(1.5) = 2
		{3, 100, 133, 3, 3}, // floor(3.99) = 3
		{0, 100, 200, 0, 0},
		{5, 0, 100, 0, 5},
	} {
		lower, upper := Bounds(tc.desired, tc.minP, tc.maxP)
		if lower != tc.lower || upper != tc.upper {
			t.Errorf("Bounds(%d, %d, %d) = %d, %d; want %d, %d", tc.desired, tc.minP, tc.maxP, lower, upper, tc.lower, tc.upper)
		}
	}
	if minP, maxP := Percents(nil); minP != 100 || maxP != 200 {
		t.Errorf("Percents(nil) = %d, %d; want 100, 200", minP, maxP)
	}
}

// TestSeedTable reproduces the seed article's table step by step: desired
// 12, minimumHealthyPercent 75, maximumPercent 150, tasks without health
// checks (healthy 40 s after RUNNING).
func TestSeedTable(t *testing.T) {
	s := newSim(t, 12, 12, config(75, 150))
	s.deploy(2, 2, behaveOK)
	got := s.run(depID(1), depID(2), 50)
	want := []step{
		{"START", 12, 0},
		{"DRAIN", 9, 0},
		{"DEPLOY", 9, 9},
		{"WAIT", 9, 9},
		{"DRAIN", 0, 9},
		{"DEPLOY", 0, 12},
		{"WAIT", 0, 12},
		{"END", 0, 12},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rollout:\n got %v\nwant %v", got, want)
	}
	// The wait for health is the 40 s rule, twice.
	if elapsed := s.now.Sub(t0); elapsed != 80*time.Second {
		t.Errorf("rollout took %v of fake time, want 80s", elapsed)
	}
	if !equal(t, "deployments at the end", len(s.st.Deployments), 1) {
		t.Fatalf("deployments at the end: %+v", s.st.Deployments)
	}
	if d := s.st.Deployments[0]; !all(
		equal(t, "deployment at the end", d.ID, depID(2)),
		equal(t, "its rollout state", d.RolloutState, types.DeploymentRolloutStateCompleted),
		equal(t, "its rollout state reason", d.RolloutStateReason, "ECS deployment "+depID(2)+" completed."),
	) {
		t.Fatalf("deployments at the end: %+v", s.st.Deployments)
	}
	msgs := s.messages()
	tail := msgs[len(msgs)-2:]
	wantTail := []string{
		"(service web) (deployment " + depID(2) + ") deployment completed.",
		"(service web) has reached a steady state.",
	}
	if !slices.Equal(tail, wantTail) {
		t.Errorf("last events %q, want %q", tail, wantTail)
	}
	if s.st.Memory.LastCompleted == nil || s.st.Memory.LastCompleted.ID != depID(2) {
		t.Errorf("LastCompleted = %+v", s.st.Memory.LastCompleted)
	}
	// Every stop of the rollout names the old deployment.
	for _, p := range s.plans {
		for _, st := range p.Stops {
			equal(t, "stop reason", st.Reason, "Scaling activity initiated by (deployment "+depID(1)+")")
			equal(t, "stop code", st.Code, types.TaskStopCodeServiceSchedulerInitiated)
		}
	}
}

func TestSeedTableRequeue(t *testing.T) {
	s := newSim(t, 12, 12, config(75, 150))
	s.deploy(2, 2, behaveOK)
	s.decide() // drain 3
	s.decide() // start 9
	if p := s.decide(); !p.Empty() || p.RequeueAfter != 0 {
		t.Fatalf("pending tasks: want an empty plan waiting for a state change, got %+v", p)
	}
	s.advance(5 * time.Second)
	s.tick() // RUNNING at t0+5s
	s.advance(10 * time.Second)
	if p := s.decide(); !p.Empty() || p.RequeueAfter != 30*time.Second {
		t.Fatalf("running tasks: want requeue in 30s (40s rule), got %v", p.RequeueAfter)
	}
	s.advance(30 * time.Second)
	if p := s.decide(); len(p.Stops) != 9 {
		t.Fatalf("after 40s: want 9 stops, got %d", len(p.Stops))
	}
}

// rolloutBatches runs a rollout of desired tasks and returns the sizes of
// its stop and start batches.
func rolloutBatches(t *testing.T, desired, minP, maxP int32) (stops, starts []int, peak int32) {
	s := newSim(t, desired, desired, config(minP, maxP))
	s.deploy(2, 2, behaveOK)
	s.run(depID(1), depID(2), 200)
	for _, p := range s.plans {
		if n := len(p.Stops); n > 0 {
			stops = append(stops, n)
		}
		if p.Start.Count > 0 {
			starts = append(starts, int(p.Start.Count))
		}
	}
	_, upper := Bounds(desired, minP, maxP)
	if s.live(depID(2)) != desired || s.live(depID(1)) != 0 {
		t.Fatalf("end: old %d new %d", s.live(depID(1)), s.live(depID(2)))
	}
	return stops, starts, upper
}

func TestBatchSizes(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		desired, minP, maxP   int32
		wantStops, wantStarts []int
	}{
		{"100 at 90/110: batches of 20", 100, 90, 110, []int{10, 20, 20, 20, 20, 10}, []int{20, 20, 20, 20, 20}},
		{"100 at 90/150: batches of 60", 100, 90, 150, []int{10, 60, 30}, []int{60, 40}},
		{"defaults 100/200: start all, then stop all", 10, 100, 200, []int{10}, []int{10}},
		{"min 0: stop all old at once", 4, 0, 100, []int{4}, []int{4}},
		{"max 100: stop before start", 4, 50, 100, []int{2, 2}, []int{2, 2}},
		{"min 0 max 200", 4, 0, 200, []int{4}, []int{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stops, starts, _ := rolloutBatches(t, tc.desired, tc.minP, tc.maxP)
			if !slices.Equal(stops, tc.wantStops) || !slices.Equal(starts, tc.wantStarts) {
				t.Errorf("stops %v starts %v; want stops %v starts %v", stops, starts, tc.wantStops, tc.wantStarts)
			}
		})
	}
}

// TestBoundsHold checks, after every sync of many rollouts, that live tasks
// never exceed the upper bound and healthy tasks never drop below the lower
// bound because of a stop.
func TestBoundsHold(t *testing.T) {
	for _, desired := range []int32{1, 2, 3, 7, 12, 40} {
		for _, pc := range [][2]int32{{0, 100}, {50, 100}, {50, 150}, {75, 150}, {100, 200}, {90, 110}, {0, 200}, {100, 101}} {
			s := newSim(t, desired, desired, config(pc[0], pc[1]))
			s.deploy(2, 2, behaveOK)
			lower, upper := Bounds(desired, pc[0], pc[1])
			for range 200 {
				p := s.decide()
				if tot := s.total(); tot > max(upper, desired) {
					t.Fatalf("desired %d %v: %d live tasks > upper %d", desired, pc, tot, upper)
				}
				healthy := int32(0)
				for _, tk := range s.st.Tasks {
					if tk.LastStatus == ecsmodel.TaskRunning && tk.DesiredStatus == ecsmodel.TaskRunning && !s.now.Before(tk.StartedAt.Add(40*time.Second)) {
						healthy++
					}
				}
				if len(p.Stops) > 0 && healthy < lower {
					t.Fatalf("desired %d %v: stops left %d healthy < lower %d", desired, pc, healthy, lower)
				}
				if p.Empty() && !s.tick() {
					if p.RequeueAfter == 0 {
						break
					}
					s.advance(p.RequeueAfter)
				}
			}
			if got := s.live(depID(2)); got != desired && !s.st.Memory.Deadlocked {
				t.Errorf("desired %d %v: ended with %d new tasks", desired, pc, got)
			}
		}
	}
}

func TestDeadlock100100(t *testing.T) {
	s := newSim(t, 2, 2, config(100, 100))
	s.deploy(2, 2, behaveOK)
	p := s.decide()
	if !p.Empty() || !p.Deadlocked {
		t.Fatalf("100/100: want a deadlocked empty plan, got %+v", p)
	}
	want := "(service web) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
	if !equal(t, "deadlock events", len(p.Events), 1) {
		t.Fatalf("events %+v", p.Events)
	}
	if !all(
		equal(t, "deadlock event message", p.Events[0].Message, want),
		equal(t, "deadlock event key", p.Events[0].Key, "Deadlock"),
	) {
		t.Fatalf("events %+v", p.Events)
	}
	for range 3 {
		if p := s.decide(); len(p.Events) != 0 || !p.Deadlocked {
			t.Fatalf("deadlock event repeated: %+v", p.Events)
		}
	}
	// The user fixes the configuration: the rollout goes on.
	s.st.Service.DeploymentConfiguration = config(50, 100)
	if p := s.decide(); !all(
		equal(t, "stops after fixing the configuration", len(p.Stops), 1),
		equal(t, "Plan.Deadlocked after fixing the configuration", p.Deadlocked, false),
		equal(t, "Memory.Deadlocked after fixing the configuration", s.st.Memory.Deadlocked, false),
	) {
		t.Fatalf("after fixing the configuration: %+v", p)
	}
}

// While the old tasks are still inside the 40 s window the rollout waits
// for them rather than declaring a deadlock.
func TestNoDeadlockWhileWaiting(t *testing.T) {
	s := newSim(t, 2, 0, config(100, 100))
	s.addTask(depID(1), ecsmodel.TaskRunning, t0.Add(-10*time.Second))
	s.addTask(depID(1), ecsmodel.TaskRunning, t0.Add(-10*time.Second))
	s.deploy(2, 2, behaveOK)
	// Not yet healthy old tasks may be stopped freely.
	if p := s.decide(); len(p.Stops) != 2 || p.Deadlocked {
		t.Fatalf("want the two not-yet-healthy old tasks stopped, got %+v", p)
	}
}

func TestDesiredZero(t *testing.T) {
	t.Run("scale to zero", func(t *testing.T) {
		s := newSim(t, 3, 3, nil)
		s.st.Memory.Steady = false
		s.st.Service.DesiredCount = 0
		p := s.decide()
		if len(p.Stops) != 3 || p.Start.Count != 0 {
			t.Fatalf("want 3 stops, got %+v", p)
		}
		want := "(service web) has stopped 3 running tasks: "
		if ev := p.Events[len(p.Events)-1]; !strings.HasPrefix(ev.Message, want) || strings.Count(ev.Message, "(task ") != 3 {
			t.Errorf("stop event %q", ev.Message)
		}
		p = s.decide()
		if !all(
			holds(t, "an empty plan after the stops", p.Empty()),
			equal(t, "deployment desiredCount", p.Deployments[0].DesiredCount, 0),
			equal(t, "runningCount", p.RunningCount, 0),
			equal(t, "Memory.Steady", p.Memory.Steady, true),
		) {
			t.Fatalf("after: %+v", p)
		}
	})
	t.Run("new deployment with desired 0", func(t *testing.T) {
		s := newSim(t, 0, 2, nil)
		s.deploy(2, 2, behaveOK)
		got := s.run(depID(1), depID(2), 10)
		want := []step{{"START", 2, 0}, {"DRAIN", 0, 0}, {"END", 0, 0}}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
		if len(s.st.Deployments) != 1 || s.st.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			t.Fatalf("deployments %+v", s.st.Deployments)
		}
	})
}

func TestScale(t *testing.T) {
	s := newSim(t, 3, 3, nil)
	s.st.Service.DesiredCount = 5
	p := s.decide()
	if !all(
		equal(t, "scale-up start count", p.Start.Count, 2),
		equal(t, "scale-up start deployment", p.Start.DeploymentID, depID(1)),
		equal(t, "Memory.Steady while scaling up", p.Memory.Steady, false),
	) {
		t.Fatalf("scale up: %+v", p)
	}
	equal(t, "service pendingCount", p.PendingCount, 2)
	equal(t, "service runningCount", p.RunningCount, 3)
	equal(t, "deployment pendingCount", p.Deployments[0].PendingCount, 2)
	equal(t, "deployment desiredCount", p.Deployments[0].DesiredCount, 5)
	s.tick()
	s.advance(40 * time.Second)
	p = s.decide()
	if !all(holds(t, "an empty plan after the scale-up", p.Empty()), equal(t, "events after the scale-up", len(p.Events), 1)) {
		t.Fatalf("after scale-up: %+v", p)
	}
	if !equal(t, "event after the scale-up", p.Events[0].Kind, EventSteadyState) {
		t.Fatalf("after scale-up: %+v", p)
	}
	equal(t, "rollout state after scale-up", p.Deployments[0].RolloutState, types.DeploymentRolloutStateCompleted)
	equal(t, "runningCount after scale-up", p.RunningCount, 5)

	s.st.Service.DesiredCount = 2
	p = s.decide()
	if len(p.Stops) != 3 {
		t.Fatalf("scale down: %+v", p)
	}
	// Newest first: the two started by the scale-up go first.
	if p.Stops[0].TaskARN != s.st.Tasks[4].ARN || p.Stops[1].TaskARN != s.st.Tasks[3].ARN {
		t.Errorf("scale-down stopped %v", p.Stops)
	}
	if p.Stops[0].Reason != ScalingReason(depID(1)) {
		t.Errorf("reason %q", p.Stops[0].Reason)
	}
	p = s.decide()
	if !all(
		holds(t, "an empty plan after the scale-down", p.Empty()),
		equal(t, "live tasks after the scale-down", s.live(depID(1)), 2),
		equal(t, "Memory.Steady after the scale-down", p.Memory.Steady, true),
	) {
		t.Fatalf("after scale-down: %+v", p)
	}
	// Scale-in with a minimum of 100 % of the new desired count still
	// stops down to it at once.
	s.st.Service.DeploymentConfiguration = config(100, 100)
	s.st.Service.DesiredCount = 1
	if p := s.decide(); len(p.Stops) != 1 {
		t.Fatalf("scale down at 100/100: %+v", p)
	}
}

func TestNewDeploymentMidRollout(t *testing.T) {
	s := newSim(t, 12, 12, config(75, 150))
	s.deploy(2, 2, behaveOK)
	s.decide() // stop 3 old
	s.decide() // start 9 of deployment 2
	s.tick()   // they are RUNNING, not yet healthy
	s.advance(10 * time.Second)
	s.deploy(3, 3, behaveOK)
	p := s.decide()
	// Deployment 2's tasks are not healthy yet: all stopped at once; the
	// healthy old ones stay (9 = lower).
	if len(p.Stops) != 9 {
		t.Fatalf("want deployment 2's 9 tasks stopped, got %d", len(p.Stops))
	}
	for _, st := range p.Stops {
		if st.DeploymentID != depID(2) || st.Reason != ScalingReason(depID(2)) {
			t.Errorf("stop %+v", st)
		}
	}
	if !equal(t, "deployments", len(p.Deployments), 3) {
		t.Fatalf("deployments %+v", p.Deployments)
	}
	if !all(
		equal(t, "deployments[0]", p.Deployments[0].ID, depID(3)),
		equal(t, "deployments[0] status", p.Deployments[0].Status, ecsmodel.DeploymentPrimary),
		equal(t, "deployments[1]", p.Deployments[1].ID, depID(2)),
		equal(t, "deployments[1] status", p.Deployments[1].Status, ecsmodel.DeploymentActive),
		equal(t, "deployments[1] desiredCount", p.Deployments[1].DesiredCount, 0),
		equal(t, "deployments[2]", p.Deployments[2].ID, depID(1)),
		equal(t, "deployments[2] desiredCount", p.Deployments[2].DesiredCount, 9),
	) {
		t.Fatalf("deployments %+v", p.Deployments)
	}
	p = s.decide()
	if !all(
		equal(t, "start count", p.Start.Count, 9),
		equal(t, "start deployment", p.Start.DeploymentID, depID(3)),
		holds(t, "deployment 2 removed", slices.Equal(p.Removed, []string{depID(2)})),
	) {
		t.Fatalf("then: start 9 of deployment 3 and drop deployment 2; got %+v", p)
	}
	s.run(depID(1), depID(3), 50)
	if !equal(t, "deployments at the end", len(s.st.Deployments), 1) {
		t.Fatalf("end: %+v", s.st.Deployments)
	}
	if !all(
		equal(t, "deployment at the end", s.st.Deployments[0].ID, depID(3)),
		equal(t, "its live tasks", s.live(depID(3)), 12),
		equal(t, "its rollout state", s.st.Deployments[0].RolloutState, types.DeploymentRolloutStateCompleted),
	) {
		t.Fatalf("end: %+v", s.st.Deployments)
	}
}

// Two deployments arrive while the old tasks are healthy; the oldest
// deployment's healthy tasks are stopped first.
func TestOldestDeploymentDrainsFirst(t *testing.T) {
	s := newSim(t, 4, 4, config(50, 200))
	s.deploy(2, 2, behaveOK)
	s.decide() // stops 2 old (lower 2)
	s.decide() // starts 4
	s.tick()
	s.advance(40 * time.Second)
	s.deploy(3, 3, behaveOK)
	p := s.decide()
	// 2 old + 4 healthy of deployment 2; lower 2: stop 4, old first.
	if !equal(t, "stops", len(p.Stops), 4) {
		t.Fatalf("stops %+v", p.Stops)
	}
	if !all(
		equal(t, "stops[0] deployment", p.Stops[0].DeploymentID, depID(1)),
		equal(t, "stops[1] deployment", p.Stops[1].DeploymentID, depID(1)),
		equal(t, "stops[2] deployment", p.Stops[2].DeploymentID, depID(2)),
	) {
		t.Fatalf("stops %+v", p.Stops)
	}
}

func TestForceNewDeploymentSameTaskDefinition(t *testing.T) {
	s := newSim(t, 3, 3, nil)
	s.deploy(2, 1, behaveOK) // same revision, new deployment id
	got := s.run(depID(1), depID(2), 30)
	want := []step{{"START", 3, 0}, {"DEPLOY", 3, 3}, {"WAIT", 3, 3}, {"DRAIN", 0, 3}, {"END", 0, 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestDraining(t *testing.T) {
	s := newSim(t, 4, 4, config(100, 100))
	s.deploy(2, 2, behaveOK)
	s.st.Service.DeploymentConfiguration = config(50, 100)
	s.decide() // stop 2 old
	s.decide() // start 2 new
	s.st.Service.Status = ecsmodel.ServiceDraining
	p := s.decide()
	if !all(
		equal(t, "stops while draining", len(p.Stops), 4),
		equal(t, "desiredCount while draining", p.DesiredCount, 0),
		equal(t, "start count while draining", p.Start.Count, 0),
	) {
		t.Fatalf("draining: want everything stopped, got %+v", p)
	}
	for _, e := range p.Events {
		if e.Kind != EventStopped {
			t.Errorf("unexpected event %q", e.Message)
		}
	}
	p = s.decide()
	if !all(
		holds(t, "an empty plan once drained", p.Empty()),
		equal(t, "events once drained", len(p.Events), 0),
		equal(t, "deployments once drained", len(p.Deployments), 1),
	) {
		t.Fatalf("drained: %+v", p)
	}
	if !equal(t, "desiredCount once drained", p.Deployments[0].DesiredCount, 0) {
		t.Fatalf("drained: %+v", p)
	}
}

func TestUnhealthyReplacement(t *testing.T) {
	t.Run("start first when max allows", func(t *testing.T) {
		s := newSim(t, 2, 2, nil).withChecks(true, false)
		s.st.Tasks[0].HealthStatus = types.HealthStatusUnhealthy
		p := s.decide()
		if p.Start.Count != 1 || len(p.Stops) != 0 {
			t.Fatalf("want a replacement started first, got %+v", p)
		}
		if p := s.decide(); !p.Empty() {
			t.Fatalf("replacement pending: want no action, got %+v", p)
		}
		s.tick() // RUNNING, UNKNOWN
		if p := s.decide(); !p.Empty() {
			t.Fatalf("replacement not healthy: want no action, got %+v", p)
		}
		s.tick() // HEALTHY
		p = s.decide()
		if !equal(t, "stops", len(p.Stops), 1) {
			t.Fatalf("want the unhealthy task stopped, got %+v", p.Stops)
		}
		if !all(
			equal(t, "stopped task", p.Stops[0].TaskARN, s.st.Tasks[0].ARN),
			equal(t, "stop reason", p.Stops[0].Reason, "Task failed container health checks"),
			equal(t, "stop cause", p.Stops[0].Cause, StopContainerHealth),
		) {
			t.Fatalf("want the unhealthy task stopped, got %+v", p.Stops)
		}
		id := s.st.Tasks[0].ID()
		want := []string{
			"(service web) (task " + id + ") failed container health checks.",
			"(service web) has stopped 1 running tasks: (task " + id + ").",
		}
		if got := []string{p.Events[0].Message, p.Events[1].Message}; !slices.Equal(got, want) {
			t.Errorf("events %q want %q", got, want)
		}
	})
	t.Run("stop first at max 100", func(t *testing.T) {
		s := newSim(t, 2, 2, config(50, 100)).withChecks(false, true)
		s.st.Tasks[1].Target = TargetUnhealthy
		s.st.Tasks[1].TargetPort = 8080
		s.st.Tasks[1].TargetReason = "Target.ResponseCodeMismatch"
		p := s.decide()
		if !all(equal(t, "stops", len(p.Stops), 1), equal(t, "start count", p.Start.Count, 0)) {
			t.Fatalf("want the unhealthy task stopped first, got %+v", p)
		}
		if !equal(t, "stop reason", p.Stops[0].Reason, "Task failed ELB health checks in (target-group "+tgARN+")") {
			t.Fatalf("want the unhealthy task stopped first, got %+v", p)
		}
		want := "(service web) (task " + s.st.Tasks[1].ID() + ") (port 8080) is unhealthy in (target-group " + tgARN + ") due to (reason Target.ResponseCodeMismatch)."
		if p.Events[0].Message != want {
			t.Errorf("event %q want %q", p.Events[0].Message, want)
		}
		if p := s.decide(); p.Start.Count != 1 || p.Start.DeploymentID != depID(1) {
			t.Fatalf("then a replacement of the same deployment: %+v", p)
		}
	})
	t.Run("grace period", func(t *testing.T) {
		s := newSim(t, 1, 0, nil).withChecks(true, false)
		s.st.Service.HealthCheckGracePeriod = time.Minute
		tk := s.addTask(depID(1), ecsmodel.TaskRunning, t0.Add(-20*time.Second))
		tk.HealthStatus = types.HealthStatusUnhealthy
		p := s.decide()
		if !p.Empty() || p.RequeueAfter != 40*time.Second {
			t.Fatalf("within grace: want nothing until the grace ends in 40s, got %+v", p)
		}
		s.advance(40 * time.Second)
		if p := s.decide(); p.Start.Count != 1 {
			t.Fatalf("after grace: want a replacement, got %+v", p)
		}
	})
	t.Run("old deployment's unhealthy task is not replaced", func(t *testing.T) {
		s := newSim(t, 2, 2, config(100, 100)).withChecks(true, false)
		s.deploy(2, 2, behaveOK)
		if p := s.decide(); !p.Deadlocked {
			t.Fatalf("want deadlock first, got %+v", p)
		}
		s.st.Tasks[0].HealthStatus = types.HealthStatusUnhealthy
		p := s.decide()
		if len(p.Stops) != 1 || p.Stops[0].Cause != StopContainerHealth {
			t.Fatalf("want the unhealthy old task stopped, got %+v", p)
		}
		if p := s.decide(); p.Start.Count != 1 || p.Start.DeploymentID != depID(2) {
			t.Fatalf("want its slot used by the new deployment, got %+v", p)
		}
	})
}

// runBreaker drives a rollout to deployment 2 with behaviour b until the
// breaker decides; desired 4, deployment 1 healthy.
func runBreaker(t *testing.T, b behaviour, cfg *types.DeploymentConfiguration, hc bool) *sim {
	s := newSim(t, 4, 4, cfg).withChecks(hc, false)
	s.st.Params.BackoffBase = -1 // no throttling here
	s.deploy(2, 2, b)
	s.run(depID(1), depID(2), 100)
	return s
}

func TestCircuitBreaker(t *testing.T) {
	t.Run("stage 1 crash on start, rollback", func(t *testing.T) {
		s := runBreaker(t, behaveCrash, withBreaker(config(100, 200), true), false)
		if !equal(t, "deployments", len(s.st.Deployments), 1) {
			t.Fatalf("want deployment 1 back and completed: %+v", s.st.Deployments)
		}
		if d := s.st.Deployments[0]; !all(
			equal(t, "deployment", d.ID, depID(1)),
			equal(t, "its status", d.Status, ecsmodel.DeploymentPrimary),
			equal(t, "its rollout state", d.RolloutState, types.DeploymentRolloutStateCompleted),
		) {
			t.Fatalf("want deployment 1 back and completed: %+v", s.st.Deployments)
		}
		var rb *Plan
		for i := range s.plans {
			if s.plans[i].Rollback != nil {
				rb = &s.plans[i]
			}
		}
		if rb == nil {
			t.Fatal("no plan rolled back")
		}
		if !all(
			equal(t, "rollback to", rb.Rollback.ToDeploymentID, depID(1)),
			equal(t, "rollback from", rb.Rollback.FailedDeploymentID, depID(2)),
			equal(t, "rollback task definition", rb.Rollback.TaskDefinition, taskDef(1)),
		) {
			t.Fatalf("rollback %+v", rb)
		}
		// All of deployment 2's tasks had crashed: it is drained already and
		// leaves deployments[] in the rollback step itself.
		if !slices.Equal(rb.Removed, []string{depID(2)}) || rb.Deployments[0].ID != depID(1) {
			t.Errorf("rollback step: removed %v deployments %+v", rb.Removed, rb.Deployments)
		}
		msgs := s.messages()
		for _, want := range []string{
			"(service web) (deployment " + depID(2) + ") deployment failed: tasks failed to start.",
			"(service web) rolling back to deployment " + depID(1) + ".",
			"(service web) (deployment " + depID(1) + ") deployment completed.",
		} {
			if !slices.Contains(msgs, want) {
				t.Errorf("missing event %q in %q", want, msgs)
			}
		}
	})
	t.Run("rollback reason while in progress", func(t *testing.T) {
		// Deployment 1 left deployments[]; min 0 lets the rollout remove it.
		s := newSim(t, 2, 2, withBreaker(config(0, 100), true))
		s.st.Params.BackoffBase = -1
		s.deploy(2, 2, behaveCrash)
		s.decide() // stop 2 old
		if p := s.decide(); p.Start.Count != 2 || !slices.Equal(p.Removed, []string{depID(1)}) {
			t.Fatalf("want 2 starts and deployment 1 gone, got %+v", p)
		}
		s.tick() // crash
		p := s.decide()
		if !all(
			holds(t, "no rollback after 2 failures of 3", p.Rollback == nil),
			equal(t, "failedTasks", p.Deployments[0].FailedTasks, 2),
			equal(t, "retries started", p.Start.Count, 2),
		) {
			t.Fatalf("2 failures of 3: want retries, got %+v", p)
		}
		s.tick() // crash again: 4 ≥ 3
		p = s.decide()
		if d := p.Deployments[0]; !all(
			holds(t, "a rollback", p.Rollback != nil),
			equal(t, "deployments[0]", d.ID, depID(1)),
			equal(t, "its status", d.Status, ecsmodel.DeploymentPrimary),
			equal(t, "its rollout state", d.RolloutState, types.DeploymentRolloutStateInProgress),
			equal(t, "its rollout state reason", d.RolloutStateReason, "ECS deployment circuit breaker: rolling back to deploymentId "+depID(1)+"."),
			equal(t, "its task definition", d.TaskDefinition, taskDef(1)),
			equal(t, "its createdAt", d.CreatedAt, s.now),
		) {
			t.Fatalf("rollback deployment %+v", p.Deployments)
		}
		if !all(
			equal(t, "start count", p.Start.Count, 2),
			equal(t, "start deployment", p.Start.DeploymentID, depID(1)),
			equal(t, "start task definition", p.Start.TaskDefinition, taskDef(1)),
		) {
			t.Fatalf("want deployment 1's tasks started: %+v", p.Start)
		}
		s.run(depID(2), depID(1), 30)
		if len(s.st.Deployments) != 1 || s.st.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			t.Fatalf("end %+v", s.st.Deployments)
		}
	})
	t.Run("stage 2 unhealthy after running, rollback", func(t *testing.T) {
		s := runBreaker(t, behaveUnhealthy, withBreaker(config(100, 200), true), true)
		if !equal(t, "deployments", len(s.st.Deployments), 1) {
			t.Fatalf("want deployment 1 back: %+v", s.st.Deployments)
		}
		if !all(
			equal(t, "deployment", s.st.Deployments[0].ID, depID(1)),
			equal(t, "its rollout state", s.st.Deployments[0].RolloutState, types.DeploymentRolloutStateCompleted),
		) {
			t.Fatalf("want deployment 1 back: %+v", s.st.Deployments)
		}
		if !all(
			holds(t, "at least 3 container-unhealthy events", s.hasEvent(EventContainerUnhealthy) >= 3),
			equal(t, "deployment-failed events", s.hasEvent(EventDeploymentFailed), 1),
			equal(t, "rolling-back events", s.hasEvent(EventRollingBack), 1),
		) {
			t.Errorf("events %q", s.messages())
		}
		if s.st.Memory.Backoff.Level != 0 {
			t.Errorf("tasks failing after RUNNING must not be throttled: %+v", s.st.Memory.Backoff)
		}
	})
	t.Run("no rollback: FAILED, no more launches", func(t *testing.T) {
		s := runBreaker(t, behaveCrash, withBreaker(config(100, 200), false), false)
		d := s.st.Deployments
		if !equal(t, "deployments", len(d), 2) {
			t.Fatalf("deployments %+v", d)
		}
		if !all(
			equal(t, "deployments[0]", d[0].ID, depID(2)),
			equal(t, "deployments[0] status", d[0].Status, ecsmodel.DeploymentPrimary),
			equal(t, "deployments[0] rollout state", d[0].RolloutState, types.DeploymentRolloutStateFailed),
			equal(t, "deployments[1]", d[1].ID, depID(1)),
			equal(t, "deployment 1's live tasks", s.live(depID(1)), 4),
		) {
			t.Fatalf("deployments %+v", d)
		}
		if p := s.decide(); !p.Empty() || len(p.Events) != 0 {
			t.Fatalf("a FAILED deployment launches nothing: %+v", p)
		}
	})
	t.Run("no rollback: old deployment replaces its unhealthy tasks with its own revision", func(t *testing.T) {
		s := runBreaker(t, behaveCrash, withBreaker(config(100, 200), false), true)
		for i := range s.st.Tasks {
			if tk := &s.st.Tasks[i]; tk.DeploymentID == depID(1) && tk.LastStatus == ecsmodel.TaskRunning {
				tk.HealthStatus = types.HealthStatusUnhealthy
				break
			}
		}
		p := s.decide()
		if !all(
			equal(t, "stops", len(p.Stops), 0),
			equal(t, "start count", p.Start.Count, 0),
			equal(t, "replacements", len(p.Replacements), 1),
		) {
			t.Fatalf("want one replacement of deployment 1 started first, got %+v", p)
		}
		if !equal(t, "replacement", p.Replacements[0], Start{DeploymentID: depID(1), TaskDefinition: taskDef(1), Count: 1}) {
			t.Fatalf("want one replacement of deployment 1 started first, got %+v", p)
		}
		if d := p.Deployments[1]; !all(
			equal(t, "deployments[1]", d.ID, depID(1)),
			equal(t, "its desiredCount", d.DesiredCount, 4),
			equal(t, "its pendingCount", d.PendingCount, 1),
		) {
			t.Fatalf("deployment 1 keeps desired 4 with 1 pending: %+v", p.Deployments[1])
		}
		s.tick() // RUNNING
		s.tick() // HEALTHY
		p = s.decide()
		if !equal(t, "stops", len(p.Stops), 1) {
			t.Fatalf("then the unhealthy task is stopped, got %+v", p)
		}
		if !all(
			equal(t, "stop cause", p.Stops[0].Cause, StopContainerHealth),
			equal(t, "stopped task's deployment", p.Stops[0].DeploymentID, depID(1)),
		) {
			t.Fatalf("then the unhealthy task is stopped, got %+v", p)
		}
		if p := s.decide(); !all(
			holds(t, "an empty plan once settled", p.Empty()),
			equal(t, "deployment 1's live tasks", s.live(depID(1)), 4),
			equal(t, "deployment 2's live tasks", s.live(depID(2)), 0),
		) {
			t.Fatalf("settled at 4 tasks of deployment 1: %+v live %d/%d", p, s.live(depID(1)), s.live(depID(2)))
		}
	})
	t.Run("no rollback: a crashed old task is replaced by its own revision", func(t *testing.T) {
		s := runBreaker(t, behaveCrash, withBreaker(config(100, 200), false), false)
		if s.live(depID(1)) != 4 {
			t.Fatalf("setup: live %d", s.live(depID(1)))
		}
		for i := range s.st.Tasks {
			if tk := &s.st.Tasks[i]; tk.DeploymentID == depID(1) && tk.LastStatus == ecsmodel.TaskRunning {
				tk.LastStatus, tk.DesiredStatus, tk.StoppedAt = ecsmodel.TaskStopped, ecsmodel.TaskStopped, s.now
				tk.StopCode, tk.StoppedReason = types.TaskStopCodeEssentialContainerExited, "Essential container in task exited"
				break
			}
		}
		p := s.decide()
		if !all(equal(t, "replacements", len(p.Replacements), 1), equal(t, "start count", p.Start.Count, 0)) {
			t.Fatalf("want deployment 1's missing task replaced, got %+v", p)
		}
		if !all(
			equal(t, "replacement count", p.Replacements[0].Count, 1),
			equal(t, "replacement deployment", p.Replacements[0].DeploymentID, depID(1)),
		) {
			t.Fatalf("want deployment 1's missing task replaced, got %+v", p)
		}
	})
	t.Run("no completed deployment to return to", func(t *testing.T) {
		s := &sim{t: t, now: t0, behave: map[string]behaviour{}}
		s.st.Service = Service{Name: "web", DesiredCount: 2, DeploymentConfiguration: withBreaker(config(100, 200), true)}
		s.st.Params.BackoffBase = -1
		s.deploy(1, 1, behaveCrash)
		s.run("", depID(1), 50)
		d := s.st.Deployments
		if !all(equal(t, "deployments", len(d), 1), equal(t, "rolling-back events", s.hasEvent(EventRollingBack), 0)) {
			t.Fatalf("deployments %+v events %q", d, s.messages())
		}
		if !equal(t, "rollout state", d[0].RolloutState, types.DeploymentRolloutStateFailed) {
			t.Fatalf("deployments %+v events %q", d, s.messages())
		}
	})
}

// breakerState is deployment 2 IN_PROGRESS with failed tasks already
// counted, no tasks of deployment 1 (still listed, ACTIVE), and newFailures
// fresh start failures of deployment 2.
func breakerState(cb *types.DeploymentCircuitBreaker, desired, failed int32, newFailures int) State {
	s := newSim(nil, desired, 0, nil)
	s.st.Service.DeploymentConfiguration = &types.DeploymentConfiguration{DeploymentCircuitBreaker: cb}
	s.deploy(2, 2, behaveCrash)
	s.st.Deployments[0].FailedTasks = failed
	for range newFailures {
		tk := s.addTask(depID(2), ecsmodel.TaskStopped, t0.Add(-time.Second))
		tk.DesiredStatus, tk.StopCode, tk.StoppedReason = ecsmodel.TaskStopped, types.TaskStopCodeTaskFailedToStart, "CannotPullContainerError"
	}
	return s.st
}

func TestBreakerThresholdTypes(t *testing.T) {
	cfg := func(typ types.ThresholdType, v int32) *types.DeploymentCircuitBreaker {
		return &types.DeploymentCircuitBreaker{Enable: true, ThresholdConfiguration: &types.ThresholdConfiguration{Type: typ, Value: v}}
	}
	for _, tc := range []struct {
		name    string
		cb      *types.DeploymentCircuitBreaker
		desired int32
		trips   int32 // failures needed
	}{
		{"default desired 1", &types.DeploymentCircuitBreaker{Enable: true}, 1, 3},
		{"default desired 6", &types.DeploymentCircuitBreaker{Enable: true}, 6, 3},
		{"default desired 25", &types.DeploymentCircuitBreaker{Enable: true}, 25, 13},
		{"default desired 400", &types.DeploymentCircuitBreaker{Enable: true}, 400, 200},
		{"COUNT 2", cfg(types.ThresholdTypeCount, 2), 400, 2},
		{"BOUNDED_PERCENT 10", cfg(types.ThresholdTypeBoundedPercent, 10), 100, 10},
		{"UNBOUNDED_PERCENT 100", cfg(types.ThresholdTypeUnboundedPercent, 100), 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := Decide(breakerState(tc.cb, tc.desired, tc.trips-2, 1), t0); p.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress ||
				p.Deployments[0].FailedTasks != tc.trips-1 {
				t.Errorf("%d failures: %+v", tc.trips-1, p.Deployments[0])
			}
			p := Decide(breakerState(tc.cb, tc.desired, tc.trips-1, 1), t0)
			if p.Deployments[0].RolloutState != types.DeploymentRolloutStateFailed || p.Deployments[0].FailedTasks != tc.trips {
				t.Errorf("%d failures: %+v", tc.trips, p.Deployments[0])
			}
		})
	}
	// Disabled: failures are counted (failedTasks) but nothing trips.
	p := Decide(breakerState(nil, 4, 100, 1), t0)
	if p.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress || p.Deployments[0].FailedTasks != 101 {
		t.Errorf("disabled breaker: %+v", p.Deployments[0])
	}
}

func TestBreakerAccounting(t *testing.T) {
	cb := &types.DeploymentCircuitBreaker{Enable: true}
	st := breakerState(cb, 4, 0, 2)
	// Stops the scheduler asked for are not failures.
	scaled := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/scaled", DeploymentID: depID(2), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped,
		StopCode: types.TaskStopCodeServiceSchedulerInitiated, StoppedReason: ScalingReason(depID(2))}
	user := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/user", DeploymentID: depID(2), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped,
		StopCode: types.TaskStopCodeUserInitiated, StoppedReason: "Task stopped by user"}
	// A task that exited after it had been healthy is not a breaker failure
	// either...
	exited := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/exited", DeploymentID: depID(2), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped,
		StartedAt: t0.Add(-time.Minute), StopCode: types.TaskStopCodeEssentialContainerExited, StoppedReason: "Essential container in task exited", SeenHealthy: true}
	// ...but one that crashed just after RUNNING, never healthy, is.
	crashed := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/crashed", DeploymentID: depID(2), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped,
		StartedAt: t0.Add(-time.Second), StopCode: types.TaskStopCodeEssentialContainerExited, StoppedReason: "Essential container in task exited"}
	// Stage 2: a health-check stop.
	health := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/health", DeploymentID: depID(2), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped,
		StartedAt: t0.Add(-time.Minute), StopCode: types.TaskStopCodeServiceSchedulerInitiated, StoppedReason: ELBHealthReason(tgARN)}
	// Already accounted: ignored.
	old := health
	old.ARN, old.Accounted = "arn:aws:ecs:us-east-1:1:task/default/old", true
	st.Tasks = append(st.Tasks, scaled, user, exited, crashed, health, old)
	p := Decide(st, t0)
	if got := p.Deployments[0].FailedTasks; got != 4 {
		t.Errorf("FailedTasks = %d, want 4 (2 start failures + 1 crash before healthy + 1 health stop)", got)
	}
	if len(p.Accounted) != 7 || slices.Contains(p.Accounted, old.ARN) {
		t.Errorf("Accounted = %v", p.Accounted)
	}
	// The old deployment's failures and a COMPLETED deployment's do not count.
	st = breakerState(cb, 4, 0, 0)
	tk := Task{ARN: "x/1", DeploymentID: depID(1), LastStatus: ecsmodel.TaskStopped, DesiredStatus: ecsmodel.TaskStopped, StopCode: types.TaskStopCodeTaskFailedToStart}
	st.Tasks = append(st.Tasks, tk)
	if p := Decide(st, t0); p.Deployments[0].FailedTasks != 0 {
		t.Errorf("old deployment's failure counted: %+v", p.Deployments)
	}
}

func TestBreakerResetOnHealthyTask(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset *bool
		want  int32
	}{
		{"default resets", nil, 0},
		{"true resets", ptr(true), 0},
		{"false keeps counting", ptr(false), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := breakerState(&types.DeploymentCircuitBreaker{Enable: true, ResetOnHealthyTask: tc.reset}, 4, 2, 0)
			tk := Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/ok", DeploymentID: depID(2), LastStatus: ecsmodel.TaskRunning, DesiredStatus: ecsmodel.TaskRunning,
				CreatedAt: t0.Add(-time.Minute), StartedAt: t0.Add(-time.Minute)}
			st.Tasks = append(st.Tasks, tk)
			p := Decide(st, t0)
			if got := p.Deployments[0].FailedTasks; got != tc.want {
				t.Errorf("FailedTasks = %d, want %d", got, tc.want)
			}
			if !slices.Equal(p.SeenHealthy, []string{tk.ARN}) {
				t.Errorf("SeenHealthy = %v", p.SeenHealthy)
			}
			// Once seen, the same healthy task does not reset again.
			st.Tasks[len(st.Tasks)-1].SeenHealthy = true
			st.Deployments = p.Deployments
			st.Deployments[0].FailedTasks = 2
			if p := Decide(st, t0); p.Deployments[0].FailedTasks != 2 || len(p.SeenHealthy) != 0 {
				t.Errorf("reset twice by the same task: %+v", p.Deployments[0])
			}
		})
	}
}

// The breaker trips while the failed deployment still has tasks: it stays
// listed, ACTIVE and FAILED, and is drained; the COMPLETED deployment,
// which had left deployments[], comes back as PRIMARY with its own id.
func TestRollbackDrainsFailedDeployment(t *testing.T) {
	st := breakerState(&types.DeploymentCircuitBreaker{Enable: true, Rollback: true}, 4, 2, 1)
	st.Service.HealthCheckGracePeriod = time.Minute
	st.Deployments = st.Deployments[:1] // deployment 1 is gone; Memory.LastCompleted remembers it
	st.Deployments[0].ContainerHealthCheck = true
	for i := range 2 {
		st.Tasks = append(st.Tasks, Task{ARN: "arn:aws:ecs:us-east-1:1:task/default/b" + string(rune('0'+i)), DeploymentID: depID(2),
			LastStatus: ecsmodel.TaskRunning, DesiredStatus: ecsmodel.TaskRunning, CreatedAt: t0.Add(-10 * time.Second), StartedAt: t0.Add(-10 * time.Second),
			HealthStatus: types.HealthStatusUnhealthy})
	}
	p := Decide(st, t0)
	if p.Rollback == nil || len(p.Deployments) != 2 {
		t.Fatalf("want a rollback, got %+v", p)
	}
	to, failed := p.Deployments[0], p.Deployments[1]
	if !all(
		equal(t, "rollback target", to.ID, depID(1)),
		equal(t, "rollback target status", to.Status, ecsmodel.DeploymentPrimary),
		equal(t, "rollback target rollout state", to.RolloutState, types.DeploymentRolloutStateInProgress),
		equal(t, "rollback target rollout state reason", to.RolloutStateReason, BreakerRollbackReason(depID(1))),
		equal(t, "rollback target task definition", to.TaskDefinition, taskDef(1)),
		equal(t, "rollback target desiredCount", to.DesiredCount, 4),
	) {
		t.Errorf("rollback target %+v", to)
	}
	if !all(
		equal(t, "failed deployment", failed.ID, depID(2)),
		equal(t, "failed deployment status", failed.Status, ecsmodel.DeploymentActive),
		equal(t, "failed deployment rollout state", failed.RolloutState, types.DeploymentRolloutStateFailed),
		equal(t, "failed deployment rollout state reason", failed.RolloutStateReason, BreakerFailedReason),
		equal(t, "failed deployment failedTasks", failed.FailedTasks, 3),
		equal(t, "failed deployment runningCount", failed.RunningCount, 2),
		equal(t, "failed deployment desiredCount", failed.DesiredCount, 0),
	) {
		t.Errorf("failed deployment %+v", failed)
	}
	// Its tasks (unhealthy, still within the grace period) are not healthy:
	// stopped at once, as a scale-in of deployment 2.
	if !all(equal(t, "stops", len(p.Stops), 2), equal(t, "start count", p.Start.Count, 0)) {
		t.Fatalf("stops %+v start %+v", p.Stops, p.Start)
	}
	if !equal(t, "stop reason", p.Stops[0].Reason, ScalingReason(depID(2))) {
		t.Errorf("stops %+v start %+v", p.Stops, p.Start)
	}
	kinds := []EventKind{}
	for _, e := range p.Events {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []EventKind{EventDeploymentFailed, EventRollingBack, EventStopped}) {
		t.Errorf("events %v", kinds)
	}
	if p.Memory.Backoff.DeploymentID != depID(1) || p.Memory.Backoff.Level != 0 {
		t.Errorf("backoff %+v", p.Memory.Backoff)
	}
}

func TestBackoff(t *testing.T) {
	s := newSim(t, 1, 0, nil)
	s.st.Params = Params{BackoffBase: 10 * time.Second, BackoffMax: time.Minute}
	s.deploy(2, 2, behaveCrash)
	var delays []time.Duration
	for range 40 {
		p := s.decide()
		if p.Start.Count > 0 {
			s.tick() // the new task crashes
			continue
		}
		if !p.Throttled {
			t.Fatalf("crash loop: want throttled, got %+v", p)
		}
		delays = append(delays, p.RequeueAfter)
		s.advance(p.RequeueAfter)
		if len(delays) == 6 {
			break
		}
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}
	if !slices.Equal(delays, want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	if n := s.hasEvent(EventThrottled); n != 1 {
		t.Errorf("throttle event emitted %d times", n)
	}
	if !slices.Contains(s.messages(), "(service web) is unable to consistently start tasks successfully.") {
		t.Errorf("events %q", s.messages())
	}
	if s.dep(depID(2)).FailedTasks < 6 || s.dep(depID(2)).RolloutState != types.DeploymentRolloutStateInProgress {
		t.Errorf("without a breaker the deployment keeps going: %+v", s.dep(depID(2)))
	}

	// A new deployment resets the back-off: it launches at once.
	s.decide() // the throttle has just ended: start
	s.tick()   // crash
	p := s.decide()
	if !p.Throttled {
		t.Fatalf("want throttled, got %+v", p)
	}
	s.deploy(3, 3, behaveOK)
	p = s.decide()
	if !all(
		equal(t, "start count", p.Start.Count, 1),
		equal(t, "throttled", p.Throttled, false),
		equal(t, "back-off level", p.Memory.Backoff.Level, 0),
		equal(t, "back-off deployment", p.Memory.Backoff.DeploymentID, depID(3)),
	) {
		t.Fatalf("new deployment: want an immediate start, got %+v", p)
	}
	s.run("", depID(3), 20)
	if s.st.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("deployment 3: %+v", s.st.Deployments)
	}
}

func TestBackoffResetOnRunning(t *testing.T) {
	s := newSim(t, 2, 0, nil)
	s.st.Params = Params{BackoffBase: 10 * time.Second}
	s.deploy(2, 2, behaveCrash)
	s.decide() // start 2
	s.tick()   // crash: level 1
	s.decide() // start 2 again
	s.tick()   // crash: level 2
	p := s.decide()
	if !p.Throttled || p.Memory.Backoff.Level != 2 {
		t.Fatalf("want level 2, got %+v", p.Memory.Backoff)
	}
	s.behave[taskDef(2)] = behaveOK // the image got fixed (say, a registry outage ended)
	s.advance(p.RequeueAfter)
	s.decide() // start 2
	s.tick()   // RUNNING
	if p = s.decide(); p.Memory.Backoff.Level != 2 {
		t.Fatalf("RUNNING is not enough (a crash just after start is a failure too): %+v", p.Memory.Backoff)
	}
	s.advance(DefaultHealthyAfterRunning)
	p = s.decide()
	if p.Memory.Backoff.Level != 0 {
		t.Fatalf("a task that became healthy resets the back-off: %+v", p.Memory.Backoff)
	}
}

func TestEventsNotRepeated(t *testing.T) {
	s := newSim(t, 3, 3, nil)
	s.st.Memory.Steady = false
	if p := s.decide(); len(p.Events) != 1 || p.Events[0].Message != "(service web) has reached a steady state." {
		t.Fatalf("events %+v", p.Events)
	}
	for range 3 {
		if p := s.decide(); len(p.Events) != 0 || !p.Empty() {
			t.Fatalf("steady service: want nothing, got %+v", p)
		}
	}
}

func TestStartedEvent(t *testing.T) {
	e := StartedEvent("web", []string{"a1", "b2"})
	if e.Message != "(service web) has started 2 tasks: (task a1) (task b2)." || e.Kind != EventStarted {
		t.Errorf("%+v", e)
	}
	if TaskID("arn:aws:ecs:us-east-1:1:task/default/abc") != "abc" {
		t.Error("TaskID")
	}
}

// Orphan tasks (their deployment is not in deployments[]) are drained like
// the oldest deployment's.
func TestOrphanTasks(t *testing.T) {
	s := newSim(t, 1, 1, nil)
	s.addTask("ecs-svc/lost", ecsmodel.TaskRunning, t0.Add(-time.Hour))
	p := s.decide()
	if !all(equal(t, "stops", len(p.Stops), 1), equal(t, "deployments", len(p.Deployments), 1)) {
		t.Fatalf("%+v", p)
	}
	if !equal(t, "stopped task's deployment", p.Stops[0].DeploymentID, "ecs-svc/lost") {
		t.Fatalf("%+v", p)
	}
}

func TestDecideIsPure(t *testing.T) {
	s := newSim(t, 12, 12, config(75, 150))
	s.deploy(2, 2, behaveOK)
	before := slices.Clone(s.st.Tasks)
	deps := slices.Clone(s.st.Deployments)
	a := Decide(s.st, s.now)
	b := Decide(s.st, s.now)
	if !slices.Equal(s.st.Tasks, before) || !slices.Equal(s.st.Deployments, deps) {
		t.Fatal("Decide modified its input")
	}
	if !equal(t, "stops of the second call", len(b.Stops), len(a.Stops)) {
		t.Fatal("Decide is not deterministic")
	}
	if !all(
		equal(t, "first stop of the second call", b.Stops[0], a.Stops[0]),
		equal(t, "requeueAfter of the second call", b.RequeueAfter, a.RequeueAfter),
	) {
		t.Fatal("Decide is not deterministic")
	}
}

// Without Memory.LastCompleted (a state written before Decide ran), the
// newest COMPLETED deployment still listed is the rollback target, and the
// PRIMARY is the newest deployment when none is marked.
func TestLastCompletedFallbackAndPrimaryChoice(t *testing.T) {
	st := breakerState(&types.DeploymentCircuitBreaker{Enable: true, Rollback: true}, 4, 2, 1)
	st.Memory = Memory{}
	for i := range st.Deployments {
		st.Deployments[i].Status = ""
	}
	p := Decide(st, t0)
	if p.Rollback == nil {
		t.Fatal("no rollback")
	}
	if !all(
		equal(t, "rollback to", p.Rollback.ToDeploymentID, depID(1)),
		equal(t, "rollback from", p.Rollback.FailedDeploymentID, depID(2)),
	) {
		t.Fatalf("rollback %+v", p.Rollback)
	}
	if d, ok := p.Primary(); !ok || d.ID != depID(1) {
		t.Fatalf("primary %+v", d)
	}
	// Two deployments marked PRIMARY: the newest wins, the other is ACTIVE
	// (and, having no tasks, drained).
	st = breakerState(nil, 4, 0, 0)
	for i := range st.Deployments {
		st.Deployments[i].Status = ecsmodel.DeploymentPrimary
	}
	st.Tasks = append(st.Tasks, Task{ARN: "a/1", DeploymentID: depID(1), LastStatus: ecsmodel.TaskRunning, DesiredStatus: ecsmodel.TaskRunning})
	p = Decide(st, t0)
	if !equal(t, "deployments", len(p.Deployments), 2) {
		t.Fatalf("deployments %+v", p.Deployments)
	}
	if !all(
		equal(t, "deployments[0]", p.Deployments[0].ID, depID(2)),
		equal(t, "deployments[0] status", p.Deployments[0].Status, ecsmodel.DeploymentPrimary),
		equal(t, "deployments[1] status", p.Deployments[1].Status, ecsmodel.DeploymentActive),
	) {
		t.Fatalf("deployments %+v", p.Deployments)
	}
}
