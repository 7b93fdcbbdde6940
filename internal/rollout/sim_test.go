package rollout

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// The simulator: a tiny stand-in for the controller, the task runner and the
// health checkers. decide calls Decide and applies the plan the way the
// controller will; tick moves every task one step along its behaviour;
// advance moves the fake clock. Nothing sleeps.

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// behaviour is what a task definition's tasks do once started.
type behaviour int

const (
	behaveOK        behaviour = iota // reach RUNNING, then pass health checks
	behaveCrash                      // stop before RUNNING (TaskFailedToStart)
	behaveUnhealthy                  // reach RUNNING, then fail health checks
)

type sim struct {
	t      testing.TB
	now    time.Time
	st     State
	seq    int
	behave map[string]behaviour // by task definition
	hc, lb bool                 // new deployments have container health checks / a load balancer
	events []Event
	plans  []Plan
}

func ptr[T any](v T) *T { return &v }

func config(minPercent, maxPercent int32) *types.DeploymentConfiguration {
	return &types.DeploymentConfiguration{MinimumHealthyPercent: ptr(minPercent), MaximumPercent: ptr(maxPercent)}
}

func withBreaker(cfg *types.DeploymentConfiguration, rollback bool) *types.DeploymentConfiguration {
	cfg.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{Enable: true, Rollback: rollback}
	return cfg
}

func depID(n int) string { return fmt.Sprintf("ecs-svc/%019d", n) }

func taskDef(rev int) string {
	return fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d", rev)
}

// newSim returns a service "web" whose deployment 1 (task definition
// revision 1) completed with `running` healthy tasks.
func newSim(t testing.TB, desired, running int32, cfg *types.DeploymentConfiguration) *sim {
	s := &sim{t: t, now: t0, behave: map[string]behaviour{}}
	s.st.Service = Service{Name: "web", Status: ecsmodel.ServiceActive, DesiredCount: desired, DeploymentConfiguration: cfg}
	s.st.Deployments = []Deployment{{
		ID: depID(1), Status: ecsmodel.DeploymentPrimary, TaskDefinition: taskDef(1), CreatedAt: t0.Add(-time.Hour),
		DesiredCount: desired, RolloutState: types.DeploymentRolloutStateCompleted, RolloutStateReason: CompletedReason(depID(1)),
	}}
	for range running {
		s.addTask(depID(1), ecsmodel.TaskRunning, t0.Add(-time.Hour))
	}
	for i := range s.st.Tasks {
		s.st.Tasks[i].SeenHealthy = true
		s.healthy(&s.st.Tasks[i])
	}
	s.st.Memory = Memory{Steady: true, LastCompleted: &DeploymentRef{ID: depID(1), TaskDefinition: taskDef(1), DesiredCount: desired}}
	return s
}

// withChecks gives deployment 1 and later deployments container health
// checks and/or a load balancer; deployment 1's tasks are healthy.
func (s *sim) withChecks(hc, lb bool) *sim {
	s.hc, s.lb = hc, lb
	for i := range s.st.Deployments {
		s.st.Deployments[i].ContainerHealthCheck, s.st.Deployments[i].LoadBalanced = hc, lb
	}
	s.st.Memory.LastCompleted.ContainerHealthCheck, s.st.Memory.LastCompleted.LoadBalanced = hc, lb
	for i := range s.st.Tasks {
		if lb {
			s.st.Tasks[i].TargetGroupARN = tgARN
		}
		s.healthy(&s.st.Tasks[i])
	}
	return s
}

const tgARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"

func (s *sim) addTask(dep, status string, at time.Time) *Task {
	s.seq++
	t := Task{
		ARN:          fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/default/%032x", s.seq),
		DeploymentID: dep, LastStatus: status, DesiredStatus: ecsmodel.TaskRunning, CreatedAt: at,
	}
	if status == ecsmodel.TaskRunning {
		t.StartedAt = at
	}
	if s.lb {
		t.TargetGroupARN = tgARN
	}
	s.st.Tasks = append(s.st.Tasks, t)
	return &s.st.Tasks[len(s.st.Tasks)-1]
}

func (s *sim) dep(id string) *Deployment {
	for i := range s.st.Deployments {
		if s.st.Deployments[i].ID == id {
			return &s.st.Deployments[i]
		}
	}
	return nil
}

// deploy creates deployment n (revision rev) the way UpdateService does:
// the new one PRIMARY and IN_PROGRESS, the others ACTIVE.
func (s *sim) deploy(n, rev int, b behaviour) {
	for i := range s.st.Deployments {
		s.st.Deployments[i].Status = ecsmodel.DeploymentActive
	}
	s.behave[taskDef(rev)] = b
	s.st.Deployments = append([]Deployment{{
		ID: depID(n), Status: ecsmodel.DeploymentPrimary, TaskDefinition: taskDef(rev), CreatedAt: s.now,
		DesiredCount: s.st.Service.DesiredCount, RolloutState: types.DeploymentRolloutStateInProgress,
		RolloutStateReason:   InProgressReason(depID(n)),
		ContainerHealthCheck: s.hc, LoadBalanced: s.lb,
	}}, s.st.Deployments...)
}

func (s *sim) taskDefOf(dep string) string {
	for _, d := range s.st.Deployments {
		if d.ID == dep {
			return d.TaskDefinition
		}
	}
	return ""
}

func (s *sim) healthy(t *Task) {
	d := s.dep(t.DeploymentID)
	if d != nil && d.ContainerHealthCheck {
		t.HealthStatus = types.HealthStatusHealthy
	}
	if d != nil && d.LoadBalanced {
		t.Target = TargetHealthy
	}
}

// decide runs one sync: Decide, then apply the plan.
func (s *sim) decide() Plan {
	s.t.Helper()
	p := Decide(s.st, s.now)
	s.plans = append(s.plans, p)
	s.apply(p)
	return p
}

func (s *sim) apply(p Plan) {
	s.st.Deployments = p.Deployments
	s.st.Memory = p.Memory
	s.st.Service.DesiredCount = p.DesiredCount
	s.events = append(s.events, p.Events...)
	accounted := make(map[string]bool, len(p.Accounted))
	for _, arn := range p.Accounted {
		accounted[arn] = true
	}
	seen := make(map[string]bool, len(p.SeenHealthy))
	for _, arn := range p.SeenHealthy {
		seen[arn] = true
	}
	stops := make(map[string]Stop, len(p.Stops))
	for _, st := range p.Stops {
		stops[st.TaskARN] = st
	}
	kept := s.st.Tasks[:0]
	for _, t := range s.st.Tasks {
		if accounted[t.ARN] {
			continue // the controller may forget accounted STOPPED tasks
		}
		if seen[t.ARN] {
			t.SeenHealthy = true
		}
		if st, ok := stops[t.ARN]; ok {
			if t.DesiredStatus == ecsmodel.TaskStopped || t.LastStatus == ecsmodel.TaskStopped {
				s.t.Fatalf("plan stops %s twice", t.ARN)
			}
			t.DesiredStatus = ecsmodel.TaskStopped
			t.StopCode, t.StoppedReason = st.Code, st.Reason
			// Stops are quick in the simulator: STOPPED at once.
			t.LastStatus, t.StoppedAt = ecsmodel.TaskStopped, s.now
		}
		kept = append(kept, t)
	}
	s.st.Tasks = kept
	var ids []string
	for range p.Start.Count {
		ids = append(ids, s.addTask(p.Start.DeploymentID, ecsmodel.TaskProvisioning, s.now).ID())
	}
	for _, r := range p.Replacements {
		for range r.Count {
			ids = append(ids, s.addTask(r.DeploymentID, ecsmodel.TaskProvisioning, s.now).ID())
		}
	}
	if len(ids) > 0 {
		s.events = append(s.events, StartedEvent(s.st.Service.Name, ids))
	}
}

// tick moves every live task one step: PROVISIONING → RUNNING (or STOPPED
// for crashing task definitions); RUNNING without a health verdict →
// healthy or unhealthy. It reports whether anything changed.
func (s *sim) tick() bool {
	changed := false
	for i := range s.st.Tasks {
		t := &s.st.Tasks[i]
		if t.LastStatus == ecsmodel.TaskStopped || t.DesiredStatus == ecsmodel.TaskStopped {
			continue
		}
		b := s.behave[s.taskDefOf(t.DeploymentID)]
		d := s.dep(t.DeploymentID)
		hc, lb := d != nil && d.ContainerHealthCheck, d != nil && d.LoadBalanced
		switch {
		case t.LastStatus != ecsmodel.TaskRunning && b == behaveCrash:
			t.LastStatus, t.DesiredStatus, t.StoppedAt = ecsmodel.TaskStopped, ecsmodel.TaskStopped, s.now
			t.StopCode, t.StoppedReason = types.TaskStopCodeTaskFailedToStart, "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
		case t.LastStatus != ecsmodel.TaskRunning:
			t.LastStatus, t.StartedAt = ecsmodel.TaskRunning, s.now
			if hc {
				t.HealthStatus = types.HealthStatusUnknown
			}
			if lb {
				t.Target = TargetInitial
			}
		case (hc && t.HealthStatus == types.HealthStatusUnknown) || (lb && t.Target == TargetInitial):
			if b == behaveUnhealthy {
				if hc {
					t.HealthStatus = types.HealthStatusUnhealthy
				} else {
					t.Target = TargetUnhealthy
				}
			} else {
				s.healthy(t)
			}
		default:
			continue
		}
		changed = true
	}
	return changed
}

func (s *sim) advance(d time.Duration) { s.now = s.now.Add(d) }

// live counts tasks by deployment that are not told to stop.
func (s *sim) live(dep string) int32 {
	var n int32
	for _, t := range s.st.Tasks {
		if t.DeploymentID == dep && t.DesiredStatus != ecsmodel.TaskStopped && t.LastStatus != ecsmodel.TaskStopped {
			n++
		}
	}
	return n
}

func (s *sim) total() int32 {
	var n int32
	for _, t := range s.st.Tasks {
		if t.DesiredStatus != ecsmodel.TaskStopped && t.LastStatus != ecsmodel.TaskStopped {
			n++
		}
	}
	return n
}

// step is one row of a rollout trace.
type step struct {
	Label    string
	Old, New int32
}

// run drives the service until nothing more happens by itself or limit
// syncs have run. After every non-empty plan it records a row (DRAIN for
// stops, DEPLOY for starts); the first empty plan after that records WAIT.
// Between syncs, tasks tick; when nothing ticks, the clock advances by
// RequeueAfter. old and new name the deployments counted in rows.
func (s *sim) run(old, new string, limit int) []step {
	s.t.Helper()
	rows := []step{{"START", s.live(old), s.live(new)}}
	for range limit {
		p := s.decide()
		switch {
		case len(p.Stops) > 0:
			rows = append(rows, step{"DRAIN", s.live(old), s.live(new)})
			continue
		case p.Start.Count > 0:
			rows = append(rows, step{"DEPLOY", s.live(old), s.live(new)})
			continue
		}
		if rows[len(rows)-1].Label != "WAIT" && !s.idle(p) {
			rows = append(rows, step{"WAIT", s.live(old), s.live(new)})
		}
		if s.tick() {
			continue
		}
		if p.RequeueAfter > 0 {
			s.advance(p.RequeueAfter)
			continue
		}
		rows = append(rows, step{"END", s.live(old), s.live(new)})
		return rows
	}
	s.t.Fatalf("no end after %d syncs: %+v", limit, rows)
	return nil
}

// idle: nothing is pending and nothing will change by itself.
func (s *sim) idle(p Plan) bool {
	if p.RequeueAfter > 0 {
		return false
	}
	for _, t := range s.st.Tasks {
		if t.LastStatus != ecsmodel.TaskStopped && t.LastStatus != ecsmodel.TaskRunning {
			return false
		}
	}
	return true
}

func (s *sim) messages() []string {
	var out []string
	for _, e := range s.events {
		out = append(out, e.Message)
	}
	return out
}

func (s *sim) hasEvent(kind EventKind) int {
	n := 0
	for _, e := range s.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
