package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// maxEvents is how many service events ECS keeps.
const maxEvents = 100

// timeUnit is the precision of the times ECS records.
const timeUnit = time.Millisecond

// Services is the service scheduler: for each service it loads the stored
// state, asks rollout.Decide for the next step, and applies it — tasks
// started and stopped, deployments and events recorded — in one transaction.
type Services struct {
	store     *store.Store
	clock     clock.Clock
	log       *slog.Logger
	accountID string
	params    rollout.Params
	targets   TargetHealthSource
	queue     *queue
	overLimit sync.Map // service keys whose over-limit desiredCount was logged
}

// TargetHealthSource tells the health of a task's target in a load
// balancer's target group (ELBv2's DescribeTargetHealth for one target).
type TargetHealthSource interface {
	TargetHealth(targetGroupARN string, port int) (lb.TargetHealth, bool)
}

// ServicesConfig wires a Services controller.
type ServicesConfig struct {
	Store     *store.Store
	Clock     clock.Clock
	Logger    *slog.Logger
	AccountID string
	Params    rollout.Params // timings (the 40 s healthy rule, start back-off) and the tasks-per-service limit
	// Targets, when set, gates load-balanced tasks' health on their target
	// health. The scheduler learns that a target's health changed from the
	// store: the load balancer records it (store.TargetHealth).
	Targets TargetHealthSource
}

// NewServices returns the scheduler, subscribed to store changes.
func NewServices(cfg ServicesConfig) *Services {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Services{store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, accountID: cfg.AccountID, params: cfg.Params, targets: cfg.Targets, queue: newQueue(cfg.Clock)}
	cfg.Store.Subscribe(s.notice)
	return s
}

// notice queues the services a committed write may concern: a changed
// service itself, every service of the cluster whose task changed, every
// service using the target group whose target's health changed.
func (s *Services) notice(changes []store.Change) {
	clusters := map[string]bool{}
	for _, c := range changes {
		switch c.Bucket {
		case store.Services:
			s.queue.add(c.Key)
		case store.Tasks:
			if i := strings.LastIndexByte(c.Key, '/'); i > 0 {
				clusters[c.Key[:i+1]] = true
			}
		case store.TargetHealth: // region/tgName/host:port
			if parts := strings.SplitN(c.Key, "/", 3); len(parts) == 3 && !c.Deleted {
				s.queueUsers(parts[0], parts[1])
			}
		}
	}
	if len(clusters) == 0 {
		return
	}
	var keys []string
	s.store.View(func(tx *store.Tx) error {
		for prefix := range clusters {
			tx.Scan(store.Services, prefix, "", func(key string, _ []byte) error {
				keys = append(keys, key)
				return nil
			})
		}
		return nil
	})
	for _, k := range keys {
		s.queue.add(k)
	}
}

// Run syncs queued services until ctx ends.
func (s *Services) Run(ctx context.Context) {
	s.queueAll()
	for {
		keys, ok := s.queue.next(ctx)
		if !ok {
			return
		}
		for _, k := range keys {
			if ctx.Err() != nil {
				return
			}
			s.syncAndRequeue(k)
		}
	}
}

func (s *Services) queueAll() {
	s.store.View(func(tx *store.Tx) error {
		return tx.Scan(store.Services, "", "", func(key string, _ []byte) error {
			s.queue.add(key)
			return nil
		})
	})
}

func (s *Services) syncAndRequeue(key string) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("service sync panicked", "service", key, "panic", r)
		}
	}()
	plan, err := s.Sync(key)
	if err != nil {
		s.log.Error("syncing service", "service", key, "error", err)
		s.queue.addAfter(key, time.Second)
		return
	}
	if !plan.Empty() || plan.Rollback != nil {
		s.queue.add(key) // one step per sync: look again at once
	}
	if plan.RequeueAfter > 0 {
		s.queue.addAfter(key, plan.RequeueAfter)
	}
}

// SyncAll syncs every stored service once (tests and start-up).
func (s *Services) SyncAll() error {
	var keys []string
	s.store.View(func(tx *store.Tx) error {
		return tx.Scan(store.Services, "", "", func(key string, _ []byte) error {
			keys = append(keys, key)
			return nil
		})
	})
	for _, k := range keys {
		if _, err := s.Sync(k); err != nil {
			return err
		}
	}
	return nil
}

// Sync takes the next rollout step for the service stored at key.
func (s *Services) Sync(key string) (rollout.Plan, error) {
	var plan rollout.Plan
	err := s.store.Update(func(tx *store.Tx) error {
		var rec store.ServiceRecord
		found, err := tx.Get(store.Services, key, &rec)
		if err != nil || !found || aws.ToString(rec.Service.Status) == ecsmodel.ServiceInactive {
			return err
		}
		region, cluster, _ := splitKey(key)
		before, _ := json.Marshal(rec)
		sv := &serviceSync{tx: tx, s: s, region: region, cluster: cluster, rec: &rec, before: before, now: s.clock.Now().UTC().Truncate(timeUnit), tds: map[string]types.TaskDefinition{}}
		state, err := sv.load()
		if err != nil {
			return err
		}
		plan = rollout.Decide(state, sv.now)
		s.noteOverLimit(key, rec.Service.DesiredCount, plan)
		return sv.apply(plan)
	})
	return plan, err
}

// noteOverLimit logs, once per service while it lasts (and again after a
// restart), that a stored desiredCount is above the tasks-per-service
// limit and is being capped; the service event says it to API users.
func (s *Services) noteOverLimit(key string, desired int32, plan rollout.Plan) {
	if !plan.OverLimit {
		s.overLimit.Delete(key)
		return
	}
	if _, logged := s.overLimit.LoadOrStore(key, true); !logged {
		s.log.Warn("service desiredCount is above the tasks-per-service limit (--max-tasks-per-service); running the limit until UpdateService lowers it",
			"service", key, "desired_count", desired, "running_at_most", plan.DesiredCount)
	}
}

// serviceSync is one service's sync inside its transaction.
type serviceSync struct {
	tx              *store.Tx
	s               *Services
	region, cluster string
	rec             *store.ServiceRecord
	before          []byte // rec as loaded, to tell whether the sync changed it
	now             time.Time
	tds             map[string]types.TaskDefinition
	tasks           map[string]*store.TaskRecord // by ARN
	taskKeys        map[string]string
}

func splitKey(key string) (region, cluster, name string) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

func (sv *serviceSync) taskDefinition(arn string) (types.TaskDefinition, error) {
	if td, ok := sv.tds[arn]; ok {
		return td, nil
	}
	ref := arn[strings.LastIndexByte(arn, '/')+1:]
	family, rev, _ := strings.Cut(ref, ":")
	var n int32
	fmt.Sscan(rev, &n)
	var rec store.TaskDefinitionRecord
	found, err := sv.tx.Get(store.TaskDefinitions, store.RevisionKey(sv.region, family, n), &rec)
	if err != nil {
		return types.TaskDefinition{}, err
	}
	if !found {
		return types.TaskDefinition{}, fmt.Errorf("task definition %s is gone", arn)
	}
	sv.tds[arn] = rec.TaskDefinition
	return rec.TaskDefinition, nil
}

// hasHealthCheck: an essential container of td has a container health check.
func hasHealthCheck(td types.TaskDefinition) bool {
	for _, c := range td.ContainerDefinitions {
		if (c.Essential == nil || *c.Essential) && c.HealthCheck != nil && len(c.HealthCheck.Command) > 0 && c.HealthCheck.Command[0] != "NONE" {
			return true
		}
	}
	return false
}

// load builds the rollout state of the service.
func (sv *serviceSync) load() (rollout.State, error) {
	svc := sv.rec.Service
	st := rollout.State{
		Service: rollout.Service{
			Name:                    aws.ToString(svc.ServiceName),
			Status:                  aws.ToString(svc.Status),
			DesiredCount:            svc.DesiredCount,
			DeploymentConfiguration: svc.DeploymentConfiguration,
			HealthCheckGracePeriod:  time.Duration(aws.ToInt32(svc.HealthCheckGracePeriodSeconds)) * time.Second,
		},
		Memory: memoryOf(sv.rec.Scheduler),
		Params: sv.s.params,
	}
	for _, d := range svc.Deployments {
		td, err := sv.taskDefinition(aws.ToString(d.TaskDefinition))
		if err != nil {
			return st, err
		}
		st.Deployments = append(st.Deployments, rollout.Deployment{
			ID:                   aws.ToString(d.Id),
			Status:               aws.ToString(d.Status),
			TaskDefinition:       aws.ToString(d.TaskDefinition),
			CreatedAt:            aws.ToTime(d.CreatedAt),
			DesiredCount:         d.DesiredCount,
			RunningCount:         d.RunningCount,
			PendingCount:         d.PendingCount,
			FailedTasks:          d.FailedTasks,
			RolloutState:         d.RolloutState,
			RolloutStateReason:   aws.ToString(d.RolloutStateReason),
			ContainerHealthCheck: hasHealthCheck(td),
			LoadBalanced:         len(svc.LoadBalancers) > 0,
		})
	}
	group := ecsmodel.ServiceGroup(aws.ToString(svc.ServiceName))
	created := aws.ToTime(svc.CreatedAt)
	sv.tasks, sv.taskKeys = map[string]*store.TaskRecord{}, map[string]string{}
	err := store.Each(sv.tx, store.Tasks, store.Prefix(sv.region, sv.cluster), func(key string, rec *store.TaskRecord) error {
		t := rec.Task
		if aws.ToString(t.Group) != group || aws.ToTime(t.CreatedAt).Before(created) {
			return nil
		}
		if aws.ToString(t.LastStatus) == ecsmodel.TaskStopped && rec.Accounted {
			return nil
		}
		arn := aws.ToString(t.TaskArn)
		sv.tasks[arn], sv.taskKeys[arn] = rec, key
		target := sv.targetOf(rec)
		st.Tasks = append(st.Tasks, rollout.Task{
			Target:         target.Target,
			TargetGroupARN: target.TargetGroupARN,
			TargetPort:     target.TargetPort,
			TargetReason:   target.TargetReason,
			ARN:            arn,
			DeploymentID:   aws.ToString(t.StartedBy),
			LastStatus:     aws.ToString(t.LastStatus),
			DesiredStatus:  aws.ToString(t.DesiredStatus),
			CreatedAt:      aws.ToTime(t.CreatedAt),
			StartedAt:      aws.ToTime(t.StartedAt),
			HealthStatus:   t.HealthStatus,
			StopCode:       t.StopCode,
			StoppedReason:  aws.ToString(t.StoppedReason),
			StoppedAt:      aws.ToTime(t.StoppedAt),
			Accounted:      rec.Accounted,
			SeenHealthy:    rec.SeenHealthy,
		})
		return nil
	})
	return st, err
}

// apply records the plan: tasks, deployments, counts, events, bookkeeping.
func (sv *serviceSync) apply(plan rollout.Plan) error {
	svc := &sv.rec.Service
	name := aws.ToString(svc.ServiceName)
	dirty := map[string]bool{}
	mark := func(arns []string, flag func(*store.TaskRecord) *bool) {
		for _, arn := range arns {
			if rec, ok := sv.tasks[arn]; ok && !*flag(rec) {
				*flag(rec) = true
				dirty[arn] = true
			}
		}
	}
	mark(plan.Accounted, func(r *store.TaskRecord) *bool { return &r.Accounted })
	mark(plan.SeenHealthy, func(r *store.TaskRecord) *bool { return &r.SeenHealthy })

	var events []string
	for _, stop := range plan.Stops {
		rec, ok := sv.tasks[stop.TaskARN]
		if !ok || aws.ToString(rec.Task.DesiredStatus) == ecsmodel.TaskStopped {
			continue
		}
		rec.Task.DesiredStatus = aws.String(ecsmodel.TaskStopped)
		rec.Task.StopCode = stop.Code
		rec.Task.StoppedReason = aws.String(stop.Reason)
		rec.Task.Version++
		dirty[stop.TaskARN] = true
	}
	for arn := range dirty {
		if err := sv.tx.Put(store.Tasks, sv.taskKeys[arn], sv.tasks[arn]); err != nil {
			return err
		}
	}

	var started []string
	for _, start := range append([]rollout.Start{plan.Start}, plan.Replacements...) {
		if start.Count == 0 {
			continue
		}
		ids, err := sv.startTasks(start)
		if err != nil {
			return err
		}
		started = append(started, ids...)
	}
	if len(started) > 0 {
		events = append(events, rollout.StartedEvent(name, started).Message)
	}
	for _, ev := range plan.Events {
		events = append(events, ev.Message)
	}

	// Deployments, keeping what the scheduler does not track.
	old := map[string]types.Deployment{}
	for _, d := range svc.Deployments {
		old[aws.ToString(d.Id)] = d
	}
	deps := make([]types.Deployment, 0, len(plan.Deployments))
	for _, pd := range plan.Deployments {
		d, ok := old[pd.ID]
		if !ok { // a rollback brought back a deployment that had left the list
			d = types.Deployment{Id: aws.String(pd.ID), LaunchType: svc.LaunchType, PlatformVersion: svc.PlatformVersion, NetworkConfiguration: svc.NetworkConfiguration, CreatedAt: aws.Time(pd.CreatedAt)}
		}
		changed := aws.ToString(d.Status) != pd.Status || d.DesiredCount != pd.DesiredCount || d.RunningCount != pd.RunningCount ||
			d.PendingCount != pd.PendingCount || d.FailedTasks != pd.FailedTasks || d.RolloutState != pd.RolloutState ||
			aws.ToString(d.RolloutStateReason) != pd.RolloutStateReason || aws.ToString(d.TaskDefinition) != pd.TaskDefinition
		d.Status = aws.String(pd.Status)
		d.TaskDefinition = aws.String(pd.TaskDefinition)
		d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks = pd.DesiredCount, pd.RunningCount, pd.PendingCount, pd.FailedTasks
		d.RolloutState = pd.RolloutState
		d.RolloutStateReason = aws.String(pd.RolloutStateReason)
		if changed || !ok {
			d.UpdatedAt = aws.Time(sv.now)
		}
		deps = append(deps, d)
	}
	svc.Deployments = deps
	svc.RunningCount, svc.PendingCount = plan.RunningCount, plan.PendingCount
	if plan.Rollback != nil {
		svc.TaskDefinition = aws.String(plan.Rollback.TaskDefinition)
	}
	addEvents(&sv.rec.Service, sv.now, events)
	sv.rec.Scheduler = storedMemory(plan.Memory)
	if err := sv.updateServiceDeployment(plan); err != nil {
		return err
	}
	// Write only a real change: every write wakes the scheduler again.
	if after, _ := json.Marshal(sv.rec); bytes.Equal(after, sv.before) {
		return nil
	}
	return sv.tx.Put(store.Services, store.Key(sv.region, sv.cluster, name), sv.rec)
}

// startTasks creates the tasks of a Start; the task runner runs them.
func (sv *serviceSync) startTasks(start rollout.Start) ([]string, error) {
	svc := sv.rec.Service
	td, err := sv.taskDefinition(start.TaskDefinition)
	if err != nil {
		return nil, err
	}
	var cl types.Cluster
	if _, err := sv.tx.Get(store.Clusters, store.Key(sv.region, sv.cluster), &cl); err != nil {
		return nil, err
	}
	var tags []types.Tag
	switch svc.PropagateTags {
	case types.PropagateTagsService:
		tags = svc.Tags
	case types.PropagateTagsTaskDefinition:
		var rec store.TaskDefinitionRecord
		if _, err := sv.tx.Get(store.TaskDefinitions, store.RevisionKey(sv.region, aws.ToString(td.Family), td.Revision), &rec); err != nil {
			return nil, err
		}
		tags = rec.Tags
	}
	ids := make([]string, 0, start.Count)
	for range start.Count {
		t := sv.account().NewTask(ecsmodel.Launch{Cluster: cl, TaskDefinition: td, LaunchType: svc.LaunchType, Group: ecsmodel.ServiceGroup(aws.ToString(svc.ServiceName)), StartedBy: start.DeploymentID, Tags: tags, Now: sv.now})
		t.EnableExecuteCommand = svc.EnableExecuteCommand
		id := ecsmodel.TaskIDFromARN(aws.ToString(t.TaskArn))
		if err := sv.tx.Put(store.Tasks, store.Key(sv.region, sv.cluster, id), store.TaskRecord{Task: t, LoadBalancers: svc.LoadBalancers}); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// addEvents puts new events first, skipping one identical to the newest,
// and keeps at most maxEvents.
func addEvents(svc *types.Service, now time.Time, messages []string) {
	for _, m := range messages {
		if len(svc.Events) > 0 && aws.ToString(svc.Events[0].Message) == m {
			continue
		}
		ev := types.ServiceEvent{Id: aws.String(ecsmodel.NewUUID()), CreatedAt: aws.Time(now), Message: aws.String(m)}
		svc.Events = append([]types.ServiceEvent{ev}, svc.Events...)
	}
	if len(svc.Events) > maxEvents {
		svc.Events = svc.Events[:maxEvents]
	}
}

// updateServiceDeployment keeps the service-deployment view of the current
// deployment in step (rollout.RecordServiceDeployment decides how).
func (sv *serviceSync) updateServiceDeployment(plan rollout.Plan) error {
	arn := aws.ToString(sv.rec.Service.CurrentServiceDeployment)
	if arn == "" {
		return nil
	}
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	key := store.Key(sv.region, sv.cluster, aws.ToString(sv.rec.Service.ServiceName), id)
	var rec store.ServiceDeploymentRecord
	found, err := sv.tx.Get(store.ServiceDeployments, key, &rec)
	if err != nil || !found {
		return err
	}
	sd, changed := rollout.RecordServiceDeployment(rec.ServiceDeployment, rec.DeploymentID, plan, sv.now)
	if !changed {
		return nil
	}
	rec.ServiceDeployment = sd
	return sv.tx.Put(store.ServiceDeployments, key, rec)
}

// account names the region and account of the service's resources.
func (sv *serviceSync) account() ecsmodel.Account {
	return ecsmodel.Account{Region: sv.region, ID: sv.s.accountID}
}
