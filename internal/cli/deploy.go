package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/deploywatch"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

type deployFlags struct {
	dryRun, skipTaskDef, latestTaskDef, force, noWait bool
	revision, tasks                                   int
	waitUntil                                         string
	poll                                              time.Duration
	suspendAutoScaling, resumeAutoScaling             bool
	// eventsSince, when set, is where wait starts printing service events
	// (default: when the deployment began).
	eventsSince time.Time
}

// autoScalingFlags registers --suspend-auto-scaling and --resume-auto-scaling.
func (f *deployFlags) autoScalingFlags(fs *flag.FlagSet) {
	fs.BoolVar(&f.suspendAutoScaling, "suspend-auto-scaling", false, "suspend the service's Application Auto Scaling (scale-in, scale-out, scheduled) before changing it")
	fs.BoolVar(&f.resumeAutoScaling, "resume-auto-scaling", false, "resume the service's Application Auto Scaling before changing it")
}

func init() {
	var f deployFlags
	commands["deploy"] = command{
		summary: "register the task definition and create or update the service, then wait",
		details: `The wait reads the deployment's rolloutState and its service deployment, so
a circuit-breaker trip or a rollback ends it at once with exit code 2 and a
report that leads with the cause (an exit code, a failed health check); a
timeout exits 3.`,
		flags: func(fs *flag.FlagSet) func() {
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would change, change nothing")
			fs.BoolVar(&f.skipTaskDef, "skip-task-definition", false, "deploy the service's current task definition")
			fs.BoolVar(&f.latestTaskDef, "latest-task-definition", false, "deploy the family's latest registered revision")
			fs.IntVar(&f.revision, "revision", 0, "deploy this revision of the family")
			fs.BoolVar(&f.force, "force-new-deployment", false, "start a new deployment even if nothing changed")
			fs.IntVar(&f.tasks, "tasks", -1, "set desiredCount")
			fs.BoolVar(&f.noWait, "no-wait", false, "do not wait for the deployment")
			fs.StringVar(&f.waitUntil, "wait-until", "stable", "stable or deployed")
			fs.DurationVar(&f.poll, "poll-interval", time.Second, "how often to poll while waiting")
			f.autoScalingFlags(fs)
			return nil
		},
		run: func(a *app, args []string) error { return a.deploy(f) },
	}
	var w deployFlags
	commands["wait"] = command{
		summary: "wait for the service's current deployment",
		details: "Exits 0 once it succeeded, 2 when it failed or was rolled back (the report leads with the cause), 3 on timeout.",
		flags: func(fs *flag.FlagSet) func() {
			fs.StringVar(&w.waitUntil, "wait-until", "stable", "stable or deployed")
			fs.DurationVar(&w.poll, "poll-interval", time.Second, "how often to poll")
			return nil
		},
		run: func(a *app, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			svc, err := a.existingService(ctx)
			if err != nil {
				return err
			}
			return a.wait(ctx, primaryID(*svc), time.Now(), w)
		},
	}
	commands["render"] = command{
		summary: "print the task and service definitions as ecsctl reads them",
		args:    "[all|taskdef|servicedef]",
		details: "Templates and Jsonnet evaluated, in the ECS API's JSON; all (the default) prints both.",
		run: func(a *app, args []string) error {
			if err := a.load(); err != nil {
				return err
			}
			what := "all"
			if len(args) > 0 {
				what = args[0]
			}
			if what == "all" || what == "taskdef" || what == "task-definition" {
				td, _, err := a.cfg.TaskDefinition()
				if err != nil {
					return err
				}
				if err := printJSON(a, td); err != nil {
					return err
				}
			}
			if what == "all" || what == "servicedef" || what == "service-definition" {
				sd, _, err := a.cfg.ServiceDefinition()
				if err != nil {
					return err
				}
				return printJSON(a, sd)
			}
			return nil
		},
	}
}

func printJSON(a *app, v any) error {
	raw, err := awsproto.EncodeJSON(v)
	if err != nil {
		return err
	}
	var pretty any
	json.Unmarshal(raw, &pretty)
	b, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintln(a.stdout, string(b))
	return nil
}

// describe returns the service, or nil when it does not exist (or is INACTIVE).
func (a *app) describe(ctx context.Context) (*types.Service, error) {
	out, err := a.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(a.cfg.Cluster), Services: []string{a.cfg.Service}})
	if err != nil {
		return nil, fmt.Errorf("describing service %s: %w", a.cfg.Service, err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.Status) != ecsmodel.ServiceInactive {
			return &s, nil
		}
	}
	return nil, nil
}

// existingService loads the config, connects, and returns the service it
// names, which must exist.
func (a *app) existingService(ctx context.Context) (*types.Service, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	if err := a.client(ctx); err != nil {
		return nil, err
	}
	svc, err := a.describe(ctx)
	if err == nil && svc == nil {
		err = fmt.Errorf("service %s not found in cluster %s", a.cfg.Service, a.cfg.Cluster)
	}
	return svc, err
}

// updateService sends in as UpdateService of the config's service (it sets
// Cluster and Service) and returns the id of the service's PRIMARY
// deployment after it and when it was sent, for wait.
func (a *app) updateService(ctx context.Context, in *ecs.UpdateServiceInput) (id string, sent time.Time, err error) {
	in.Cluster, in.Service = aws.String(a.cfg.Cluster), aws.String(a.cfg.Service)
	sent = time.Now()
	out, err := a.ecs.UpdateService(ctx, in)
	if err != nil {
		return "", sent, err
	}
	return primaryID(*out.Service), sent, nil
}

func primaryID(s types.Service) string {
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == ecsmodel.DeploymentPrimary {
			return aws.ToString(d.Id)
		}
	}
	return ""
}

// updateInput is the UpdateService of a deploy to an existing service: the
// task definition, the --tasks count and what the service definition says
// of deployments. Without a service definition in the config only the first
// two change; a service definition that does not load is an error, as it is
// when the service is created.
func (a *app) updateInput(tdARN string, f deployFlags) (*ecs.UpdateServiceInput, error) {
	in := &ecs.UpdateServiceInput{Cluster: aws.String(a.cfg.Cluster), Service: aws.String(a.cfg.Service), TaskDefinition: aws.String(tdARN), ForceNewDeployment: f.force}
	if f.tasks >= 0 {
		in.DesiredCount = aws.Int32(int32(f.tasks))
	}
	if a.cfg.ServiceDefinitionPath == "" {
		return in, nil
	}
	def, _, err := a.cfg.ServiceDefinition()
	if err != nil {
		return nil, err
	}
	in.DeploymentConfiguration = def.DeploymentConfiguration
	in.HealthCheckGracePeriodSeconds = def.HealthCheckGracePeriodSeconds
	in.NetworkConfiguration = def.NetworkConfiguration
	in.EnableExecuteCommand = aws.Bool(def.EnableExecuteCommand)
	if def.PropagateTags != "" {
		in.PropagateTags = def.PropagateTags
	}
	return in, nil
}

func (a *app) deploy(f deployFlags) error {
	if f.waitUntil != "stable" && f.waitUntil != "deployed" {
		return fmt.Errorf("--wait-until %q: use stable or deployed", f.waitUntil)
	}
	autoScaling, err := autoScalingChange(f.suspendAutoScaling, f.resumeAutoScaling)
	if err != nil {
		return err
	}
	if err := a.load(); err != nil {
		return err
	}
	if a.cfg.Service == "" {
		return errors.New("the config names no service")
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	current, err := a.describe(ctx)
	if err != nil {
		return err
	}
	tdARN, err := a.taskDefinitionToDeploy(ctx, f, current)
	if err != nil {
		return err
	}
	if current != nil {
		if err := a.setAutoScaling(ctx, autoScaling, f.dryRun); err != nil {
			return err
		}
	} else if autoScaling != nil {
		a.out.warn(fmt.Sprintf("service %s does not exist yet, so it has no auto scaling to suspend or resume", a.cfg.Service))
	}
	start := time.Now()
	var svc *types.Service
	if current == nil {
		in, _, err := a.cfg.ServiceDefinition()
		if err != nil {
			return err
		}
		in.Cluster, in.ServiceName, in.TaskDefinition = aws.String(a.cfg.Cluster), aws.String(a.cfg.Service), aws.String(tdARN)
		if f.tasks >= 0 {
			in.DesiredCount = aws.Int32(int32(f.tasks))
		}
		if in.DesiredCount == nil {
			in.DesiredCount = aws.Int32(1)
		}
		if f.dryRun {
			a.out.info("dry run: would create service %s in cluster %s with %s, desiredCount %d", a.cfg.Service, a.cfg.Cluster, tdARN, aws.ToInt32(in.DesiredCount))
			return nil
		}
		out, err := a.ecs.CreateService(ctx, in)
		if err != nil {
			return fmt.Errorf("creating service %s: %w", a.cfg.Service, err)
		}
		svc = out.Service
		a.out.info("service %s created with %s", a.cfg.Service, tdARN)
	} else {
		in, err := a.updateInput(tdARN, f)
		if err != nil {
			return err
		}
		if f.dryRun {
			a.out.info("dry run: would update service %s: task definition %s → %s%s", a.cfg.Service, aws.ToString(current.TaskDefinition), tdARN, desiredChange(current, f.tasks))
			return nil
		}
		out, err := a.ecs.UpdateService(ctx, in)
		if err != nil {
			return fmt.Errorf("updating service %s: %w", a.cfg.Service, err)
		}
		svc = out.Service
		a.out.info("service %s updated to %s", a.cfg.Service, tdARN)
	}
	id := primaryID(*svc)
	if f.noWait {
		a.out.info("deployment %s started; not waiting (--no-wait)", id)
		return nil
	}
	return a.wait(ctx, id, start, f)
}

func desiredChange(s *types.Service, tasks int) string {
	if tasks < 0 || int32(tasks) == s.DesiredCount {
		return ""
	}
	return fmt.Sprintf(", desiredCount %d → %d", s.DesiredCount, tasks)
}

// taskDefinitionToDeploy registers the definition file, or picks the
// revision the flags ask for.
func (a *app) taskDefinitionToDeploy(ctx context.Context, f deployFlags, current *types.Service) (string, error) {
	switch {
	case f.skipTaskDef:
		if current == nil {
			return "", errors.New("--skip-task-definition: the service does not exist yet, so it has no task definition")
		}
		return aws.ToString(current.TaskDefinition), nil
	case f.revision > 0 || f.latestTaskDef:
		td, _, err := a.cfg.TaskDefinition()
		if err != nil {
			return "", err
		}
		ref := aws.ToString(td.Family)
		if f.revision > 0 {
			ref = fmt.Sprintf("%s:%d", ref, f.revision)
		}
		out, err := a.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		if err != nil {
			return "", fmt.Errorf("finding task definition %s: %w", ref, err)
		}
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
	}
	td, _, err := a.cfg.TaskDefinition()
	if err != nil {
		return "", err
	}
	if f.dryRun {
		return aws.ToString(td.Family) + ":(next revision)", nil
	}
	out, err := a.ecs.RegisterTaskDefinition(ctx, td)
	if err != nil {
		return "", fmt.Errorf("registering task definition %s: %w", aws.ToString(td.Family), err)
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	a.out.info("registered %s", arn)
	return arn, nil
}

// wait polls until the deployment succeeds, fails or the timeout passes,
// printing the deployment's progress and the service events it causes.
func (a *app) wait(ctx context.Context, id string, start time.Time, f deployFlags) error {
	until := deploywatch.Until(f.waitUntil)
	timeout := a.g.timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer a.out.settle()
	seen := map[string]bool{}
	var since time.Time
	lastProgress := ""
	sdSupported := true
	var healthNote runningTimeNote
	for {
		svc, err := a.describe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w after %s waiting for deployment %s", errTimeout, timeout, id)
			}
			return err
		}
		if svc == nil {
			return fmt.Errorf("%w: service %s is gone", errDeploymentFailed, a.cfg.Service)
		}
		if since.IsZero() {
			since = f.eventsSince
		}
		if since.IsZero() {
			since = deploymentCreated(*svc, id, start)
		}
		a.printEvents(*svc, since, seen)
		var sd *types.ServiceDeployment
		if sdSupported && aws.ToString(svc.CurrentServiceDeployment) != "" {
			out, err := a.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(svc.CurrentServiceDeployment)}})
			var apiErr smithy.APIError
			switch {
			case err == nil && len(out.ServiceDeployments) == 1:
				sd = &out.ServiceDeployments[0]
			case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "UnsupportedFeatureException" || apiErr.ErrorCode() == "UnknownOperationException"):
				sdSupported = false // an endpoint without service deployments: rolloutState alone
			}
		}
		lastProgress = progressLine(deploymentRows(*svc, id))
		a.out.deployments(*svc, id, time.Since(start))
		st := deploywatch.Assess(*svc, id, sd, until)
		if st.Verdict != deploywatch.Waiting {
			a.out.settle() // the verdict goes below the final view
		} else {
			a.noteRunningTimeWait(ctx, *svc, id, &healthNote)
		}
		switch st.Verdict {
		case deploywatch.Succeeded:
			a.out.info("deployment %s succeeded in %s", id, time.Since(start).Round(100*time.Millisecond))
			return nil
		case deploywatch.Failed:
			status := fmt.Sprintf("%v after %s: %s", errDeploymentFailed, time.Since(start).Round(100*time.Millisecond), st.Reason)
			return deploymentFailure(deploywatch.Report(status, a.failureCauses(ctx, *svc, id)))
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w after %s waiting for deployment %s (%s)", errTimeout, timeout, id, lastProgress)
			}
			return ctx.Err()
		case <-time.After(f.poll):
		}
	}
}

func deploymentCreated(s types.Service, id string, fallback time.Time) time.Time {
	for _, d := range s.Deployments {
		if aws.ToString(d.Id) == id && d.CreatedAt != nil {
			return *d.CreatedAt
		}
	}
	return fallback.Add(-time.Second)
}

// printEvents prints, oldest first, the service events since the deployment
// began that were not printed yet.
func (a *app) printEvents(s types.Service, since time.Time, seen map[string]bool) {
	for i := len(s.Events) - 1; i >= 0; i-- {
		e := s.Events[i]
		id := aws.ToString(e.Id)
		if seen[id] || e.CreatedAt == nil || e.CreatedAt.Before(since) {
			continue
		}
		seen[id] = true
		a.out.event(aws.ToString(e.Message), *e.CreatedAt)
	}
}

// failureCauses are why the deployment's stopped tasks stopped, the
// most frequent first (see deploywatch.Causes); nil when they cannot be
// read.
func (a *app) failureCauses(ctx context.Context, svc types.Service, id string) []deploywatch.Cause {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	list, err := a.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(a.cfg.Cluster), StartedBy: aws.String(id), DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(100)})
	if err != nil || len(list.TaskArns) == 0 {
		return nil
	}
	out, err := a.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(a.cfg.Cluster), Tasks: list.TaskArns})
	if err != nil {
		return nil
	}
	return deploywatch.Causes(out.Tasks, svc.Events)
}

// deploymentFailure is a failed deployment's report; it is
// errDeploymentFailed (exit code 2).
type deploymentFailure string

func (f deploymentFailure) Error() string        { return string(f) }
func (f deploymentFailure) Is(target error) bool { return target == errDeploymentFailed }

// runningTimeNote is what noteRunningTimeWait knows: the task definition
// of the PRIMARY deployment it looked at, and whether it is done (it told,
// or could not find out).
type runningTimeNote struct {
	td   *types.TaskDefinition
	done bool
}

// noteRunningTimeWait says, once per wait, when the rollout is waiting for
// tasks to have run long enough to count as healthy (no load balancer, no
// container health check; see deploywatch.WaitsOnRunningTime), and how to
// make that shorter. It reads only what ECS answers, so it holds on ECS
// too; the task definition is described once.
func (a *app) noteRunningTimeWait(ctx context.Context, svc types.Service, deploymentID string, n *runningTimeNote) {
	arn := deploywatch.PrimaryTaskDefinition(svc)
	if n.done || arn == "" || len(svc.LoadBalancers) > 0 {
		return
	}
	if n.td == nil || aws.ToString(n.td.TaskDefinitionArn) != arn {
		out, err := a.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
		if err != nil {
			n.done = true // only a hint: the wait goes on without it
			return
		}
		n.td = out.TaskDefinition
	}
	if !deploywatch.WaitsOnRunningTime(svc, deploymentID, n.td) {
		return
	}
	n.done = true
	a.out.line("notice", "waiting for the new tasks to count as healthy: without a load balancer or a container health check, "+
		"a task counts as healthy once it has been RUNNING for a while (40s on ECS, and by default on ecsd). "+
		"To go faster, add a healthCheck to the container definition; on ecsd, start it with --healthy-after 5s (or ECSD_HEALTHY_AFTER=5s).",
		map[string]any{"taskDefinitionArn": arn})
}
