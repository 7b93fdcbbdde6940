package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

type runFlags struct {
	count                                      int
	overrides, overridesFile                   string
	waitUntil, watchContainer                  string
	noWait, dryRun, latestTaskDef, skipTaskDef bool
	revision                                   int
	poll                                       time.Duration
}

func init() {
	var f runFlags
	commands["run"] = command{
		summary: "run one-off tasks of the task definition and wait; exits with the essential container's exit code",
		details: `Registers the local task definition (unless told which revision to run) and
runs it with the service definition's launch type and network configuration.
Exit code: the watched container's (the first non-zero one with --count), 2
if a task stopped before that container ran, 1 or 3 if ecsctl failed or timed
out first (the tasks keep running).`,
		flags: func(fs *flag.FlagSet) func() {
			fs.IntVar(&f.count, "count", 1, "how many tasks to run (1-10)")
			fs.StringVar(&f.overrides, "overrides", "", `task overrides as JSON, e.g. {"containerOverrides":[{"name":"app","command":["migrate"]}]}`)
			fs.StringVar(&f.overridesFile, "overrides-file", "", "read the task overrides JSON from this file")
			fs.StringVar(&f.waitUntil, "wait-until", "stopped", "running or stopped")
			fs.BoolVar(&f.noWait, "no-wait", false, "start the tasks and exit")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would run, run nothing")
			fs.BoolVar(&f.latestTaskDef, "latest-task-definition", false, "run the family's latest registered revision instead of registering the file")
			fs.BoolVar(&f.skipTaskDef, "skip-task-definition", false, "run the service's current task definition instead of registering the file")
			fs.IntVar(&f.revision, "revision", 0, "run this revision of the family instead of registering the file")
			fs.StringVar(&f.watchContainer, "watch-container", "", "the container whose exit code ecsctl exits with (default: the first essential one)")
			fs.DurationVar(&f.poll, "poll-interval", time.Second, "how often to poll while waiting")
			return nil
		},
		run: func(a *app, args []string) error { return a.runTask(f) },
	}
}

// taskExitError ends ecsctl run with the exit code of the watched
// container (or ExitFailed when the task stopped before it ran).
type taskExitError struct {
	code      int    // what ecsctl exits with
	failed    bool   // the container never ran
	task      string // task ID
	container string
	exitCode  *int32 // as ECS reported it
	msg       string
}

func (e *taskExitError) Error() string { return e.msg }

func (a *app) runTask(f runFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	ov, err := readOverrides(f.overrides, f.overridesFile)
	if err != nil {
		return err
	}
	if err := a.load(); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	td, err := a.runTaskDefinition(ctx, f)
	if err != nil {
		return err
	}
	in, err := a.runTaskInput(f, ov)
	if err != nil {
		return err
	}
	if td == nil { // dry run of a registration
		a.out.info("dry run: would register the task definition file as a new revision and run %d task(s) of it in cluster %s", f.count, a.cfg.Cluster)
		return nil
	}
	in.TaskDefinition = td.TaskDefinitionArn
	watch, err := watchedContainer(td, f.watchContainer)
	if err != nil {
		return err
	}
	name := taskDefinitionName(aws.ToString(td.TaskDefinitionArn))
	if f.dryRun {
		a.out.info("dry run: would run %d task(s) of %s in cluster %s, watching container %s", f.count, name, a.cfg.Cluster, watch)
		return nil
	}
	arns, err := a.startTasks(ctx, in, name)
	if err != nil {
		return err
	}
	if f.noWait {
		a.out.info("not waiting (--no-wait); ecsctl tasks shows them")
		return nil
	}
	tasks, err := a.watchTasks(ctx, arns, f.waitUntil == "running", f.poll)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if aws.ToString(t.LastStatus) == ecsmodel.TaskStopped {
			for _, l := range stoppedLines(t) {
				a.out.line("stopped", l.text, l.fields)
			}
		}
	}
	if e := runOutcome(tasks, watch); e != nil {
		return e
	}
	if f.waitUntil == "running" {
		a.out.info("%d task(s) running", len(tasks))
		return nil
	}
	a.out.line("exit", fmt.Sprintf("%d task(s) stopped; container %s exited with code 0", len(tasks), watch), map[string]any{"exitCode": 0, "container": watch})
	return nil
}

// check refuses flags that make no sense, alone or together.
func (f runFlags) check() error {
	switch {
	case f.waitUntil != "running" && f.waitUntil != "stopped":
		return fmt.Errorf("--wait-until %q: use running or stopped", f.waitUntil)
	case f.count < 1 || f.count > 10:
		return fmt.Errorf("--count %d: ECS runs 1 to 10 tasks at a time", f.count)
	case f.overrides != "" && f.overridesFile != "":
		return errors.New("--overrides and --overrides-file exclude each other: pass one")
	case f.skipTaskDef && f.latestTaskDef:
		return errors.New("--skip-task-definition and --latest-task-definition exclude each other: pass one (with --revision N to pick a revision)")
	case f.revision < 0:
		return fmt.Errorf("--revision %d: revisions start at 1", f.revision)
	}
	return nil
}

// runTaskInput is the RunTask request, without its task definition: the
// count and overrides of the flags, and the launch type, network and
// placement of the service definition, if the config names one.
func (a *app) runTaskInput(f runFlags, ov *types.TaskOverride) (*ecs.RunTaskInput, error) {
	in := &ecs.RunTaskInput{
		Cluster:   aws.String(a.cfg.Cluster),
		Count:     aws.Int32(int32(f.count)),
		StartedBy: aws.String("ecsctl"),
		Overrides: ov,
	}
	if a.cfg.ServiceDefinitionPath == "" {
		return in, nil
	}
	sd, warns, err := a.cfg.ServiceDefinition()
	a.warn(warns)
	if err != nil {
		return nil, err
	}
	in.LaunchType = sd.LaunchType
	in.NetworkConfiguration = sd.NetworkConfiguration
	in.CapacityProviderStrategy = sd.CapacityProviderStrategy
	in.PlacementConstraints = sd.PlacementConstraints
	in.PlacementStrategy = sd.PlacementStrategy
	in.PlatformVersion = sd.PlatformVersion
	in.EnableECSManagedTags = sd.EnableECSManagedTags
	in.EnableExecuteCommand = sd.EnableExecuteCommand
	return in, nil
}

// startTasks runs the tasks of task definition name, says which started
// and which did not, and returns the ARNs of those that started.
func (a *app) startTasks(ctx context.Context, in *ecs.RunTaskInput, name string) ([]string, error) {
	out, err := a.ecs.RunTask(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("running %s in cluster %s: %w", name, a.cfg.Cluster, err)
	}
	var failures []string
	for _, fl := range out.Failures {
		failures = append(failures, strings.TrimSpace(fmt.Sprintf("%s %s %s", aws.ToString(fl.Arn), aws.ToString(fl.Reason), aws.ToString(fl.Detail))))
	}
	if len(out.Tasks) == 0 {
		return nil, fmt.Errorf("ECS started no task of %s: %s", name, orNone(strings.Join(failures, "; ")))
	}
	if len(failures) > 0 {
		count := int(aws.ToInt32(in.Count))
		a.out.warn(fmt.Sprintf("%d of %d tasks did not start: %s", count-len(out.Tasks), count, strings.Join(failures, "; ")))
	}
	var arns []string
	for _, t := range out.Tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
		a.out.line("task", fmt.Sprintf("task %s started (%s)", taskID(aws.ToString(t.TaskArn)), name),
			map[string]any{"taskId": taskID(aws.ToString(t.TaskArn)), "taskArn": aws.ToString(t.TaskArn), "taskDefinition": name})
	}
	return arns, nil
}

// readOverrides decodes --overrides or --overrides-file into a task
// override (nil when neither is given).
func readOverrides(inline, file string) (*types.TaskOverride, error) {
	src, what := []byte(inline), "--overrides"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--overrides-file: %w", err)
		}
		src, what = b, "--overrides-file "+file
	}
	if strings.TrimSpace(string(src)) == "" {
		return nil, nil
	}
	var ov types.TaskOverride
	var unknown []string
	err := awsproto.DecodeJSON(src, &ov, awsproto.DecodeOptions{CaseInsensitive: true, UnknownMember: func(p string) { unknown = append(unknown, p) }})
	if err != nil {
		msg := err.Error()
		if e := awsproto.AsError(err); e != nil {
			msg = e.Message
		}
		return nil, fmt.Errorf("%s: %s It must be a RunTask overrides object, such as {\"containerOverrides\":[{\"name\":\"app\",\"command\":[\"migrate\"]}]}.", what, msg)
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%s: %s not part of a RunTask overrides object (containerOverrides, cpu, memory, taskRoleArn, ...); check the spelling and nesting", what, strings.Join(unknown, ", "))
	}
	return &ov, nil
}

// runTaskDefinition is the task definition to run as the flags choose it,
// registering the file by default; nil for a dry run that would register.
func (a *app) runTaskDefinition(ctx context.Context, f runFlags) (*types.TaskDefinition, error) {
	var ref string
	switch {
	case f.skipTaskDef:
		if a.cfg.Service == "" {
			return nil, errors.New("--skip-task-definition runs the service's task definition, but the config names no service")
		}
		svc, err := a.describe(ctx)
		if err != nil {
			return nil, err
		}
		if svc == nil {
			return nil, fmt.Errorf("--skip-task-definition: service %s not found in cluster %s, so it has no task definition to run", a.cfg.Service, a.cfg.Cluster)
		}
		ref = taskDefinitionName(aws.ToString(svc.TaskDefinition))
		if f.revision > 0 {
			family, _, _ := strings.Cut(ref, ":")
			ref = fmt.Sprintf("%s:%d", family, f.revision)
		}
	case f.latestTaskDef || f.revision > 0:
		td, warns, err := a.cfg.TaskDefinition()
		a.warn(warns)
		if err != nil {
			return nil, err
		}
		ref = aws.ToString(td.Family)
		if f.revision > 0 {
			ref = fmt.Sprintf("%s:%d", ref, f.revision)
		}
	default:
		in, warns, err := a.cfg.TaskDefinition()
		a.warn(warns)
		if err != nil {
			return nil, err
		}
		if f.dryRun {
			return nil, nil
		}
		out, err := a.ecs.RegisterTaskDefinition(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("registering task definition %s: %w", aws.ToString(in.Family), err)
		}
		a.out.info("registered %s", aws.ToString(out.TaskDefinition.TaskDefinitionArn))
		return out.TaskDefinition, nil
	}
	out, err := a.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		return nil, fmt.Errorf("finding task definition %s: %w", ref, err)
	}
	return out.TaskDefinition, nil
}

// watchedContainer is the container whose exit code run exits with: the
// one named, or the first essential one.
func watchedContainer(td *types.TaskDefinition, name string) (string, error) {
	var names []string
	for _, c := range td.ContainerDefinitions {
		n := aws.ToString(c.Name)
		names = append(names, n)
		if name != "" && n == name {
			return n, nil
		}
		if name == "" && (c.Essential == nil || *c.Essential) {
			return n, nil
		}
	}
	if name != "" {
		return "", fmt.Errorf("--watch-container %s: %s has no such container (it has %s)", name, taskDefinitionName(aws.ToString(td.TaskDefinitionArn)), strings.Join(names, ", "))
	}
	return "", fmt.Errorf("%s has no essential container", taskDefinitionName(aws.ToString(td.TaskDefinitionArn)))
}

// watchTasks polls the tasks until all are RUNNING (or STOPPED) with
// untilRunning, or all are STOPPED, reporting each change of their status.
// On SIGINT/SIGTERM it stops them; at the timeout it leaves them running.
func (a *app) watchTasks(ctx context.Context, arns []string, untilRunning bool, poll time.Duration) ([]types.Task, error) {
	timeout := a.g.timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := map[string]string{}
	var tasks []types.Task
	for {
		out, err := a.ecs.DescribeTasks(waitCtx, &ecs.DescribeTasksInput{Cluster: aws.String(a.cfg.Cluster), Tasks: arns})
		if err == nil {
			tasks = out.Tasks
			for _, t := range tasks {
				id, st := taskID(aws.ToString(t.TaskArn)), aws.ToString(t.LastStatus)
				if last[id] != st {
					last[id] = st
					a.out.line("task", fmt.Sprintf("task %s %s", id, st), map[string]any{"taskId": id, "lastStatus": st, "desiredStatus": aws.ToString(t.DesiredStatus)})
				}
			}
			if len(tasks) == len(arns) && tasksDone(tasks, untilRunning) {
				return tasks, nil
			}
		} else if waitCtx.Err() == nil {
			return nil, fmt.Errorf("describing tasks: %w", err)
		}
		select {
		case <-waitCtx.Done():
			ids := make([]string, len(arns))
			for i, arn := range arns {
				ids[i] = taskID(arn)
			}
			if ctx.Err() != nil {
				return nil, a.stopInterrupted(arns)
			}
			want := "stopped"
			if untilRunning {
				want = "running"
			}
			return nil, fmt.Errorf("%w after %s waiting for task %s to be %s; it keeps going (ecsctl tasks --stop stops it)", errTimeout, timeout, strings.Join(ids, ", "), want)
		case <-time.After(poll):
		}
	}
}

// tasksDone reports whether every task is STOPPED, or with untilRunning
// RUNNING or STOPPED.
func tasksDone(tasks []types.Task, untilRunning bool) bool {
	for _, t := range tasks {
		st := aws.ToString(t.LastStatus)
		if st != ecsmodel.TaskStopped && (!untilRunning || st != ecsmodel.TaskRunning) {
			return false
		}
	}
	return true
}

// stopInterrupted stops the tasks run started after ^C.
func (a *app) stopInterrupted(arns []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids, failed []string
	for _, arn := range arns {
		_, err := a.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(a.cfg.Cluster), Task: aws.String(arn), Reason: aws.String("ecsctl run was interrupted")})
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", taskID(arn), err))
			continue
		}
		ids = append(ids, taskID(arn))
	}
	if len(failed) > 0 {
		return fmt.Errorf("interrupted; stopping task %s failed: stop them with ecsctl tasks --stop", strings.Join(failed, ", "))
	}
	return fmt.Errorf("interrupted; stopped task %s", strings.Join(ids, ", "))
}

// report is a line with its JSON fields.
type report struct {
	text   string
	fields map[string]any
}

// stoppedLines describe a stopped task: why it stopped, and each
// container's exit code and reason.
func stoppedLines(t types.Task) []report {
	id := taskID(aws.ToString(t.TaskArn))
	text := fmt.Sprintf("task %s stopped: %s", id, orNone(aws.ToString(t.StoppedReason)))
	if t.StopCode != "" {
		text += fmt.Sprintf(" (%s)", t.StopCode)
	}
	fields := map[string]any{"taskId": id, "stoppedReason": aws.ToString(t.StoppedReason), "stopCode": string(t.StopCode)}
	var containers []map[string]any
	lines := []report{{text: text}}
	for _, c := range t.Containers {
		name := aws.ToString(c.Name)
		cf := map[string]any{"name": name, "reason": aws.ToString(c.Reason)}
		s := fmt.Sprintf("  container %s: ", name)
		if c.ExitCode != nil {
			cf["exitCode"] = *c.ExitCode
			s += fmt.Sprintf("exit code %d", *c.ExitCode)
		} else {
			s += "no exit code (it did not run)"
		}
		if r := aws.ToString(c.Reason); r != "" {
			s += ": " + r
		}
		containers = append(containers, cf)
		lines = append(lines, report{text: s, fields: map[string]any{"taskId": id, "container": name, "exitCode": cf["exitCode"], "reason": cf["reason"]}})
	}
	fields["containers"] = containers
	lines[0].fields = fields
	return lines
}

// runOutcome is how ecsctl run ends for the tasks it watched: nil when the
// watched container of every stopped task exited 0, otherwise the first
// non-zero exit code, or ExitFailed for a task that stopped before the
// container ran.
func runOutcome(tasks []types.Task, container string) *taskExitError {
	for _, t := range tasks {
		if aws.ToString(t.LastStatus) != ecsmodel.TaskStopped {
			continue
		}
		id := taskID(aws.ToString(t.TaskArn))
		i := slices.IndexFunc(t.Containers, func(c types.Container) bool { return aws.ToString(c.Name) == container })
		if i < 0 || t.Containers[i].ExitCode == nil {
			reason := aws.ToString(t.StoppedReason)
			if i >= 0 && aws.ToString(t.Containers[i].Reason) != "" {
				reason += ": " + aws.ToString(t.Containers[i].Reason)
			}
			return &taskExitError{code: ExitFailed, failed: true, task: id, container: container,
				msg: fmt.Sprintf("task %s stopped before container %s ran: %s", id, container, orNone(reason))}
		}
		if code := *t.Containers[i].ExitCode; code != 0 {
			return &taskExitError{code: processExitCode(code), task: id, container: container, exitCode: t.Containers[i].ExitCode,
				msg: fmt.Sprintf("task %s: container %s exited with code %d", id, container, code)}
		}
	}
	return nil
}

// processExitCode is a container's exit code as a process exit code: the
// low 8 bits, except that a non-zero code never becomes 0.
func processExitCode(code int32) int {
	c := int(code) & 0xff
	if c == 0 && code != 0 {
		return ExitError
	}
	return c
}

// taskID is the ID at the end of a task ARN.
func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
