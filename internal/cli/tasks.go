package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

type tasksFlags struct {
	id                string
	find, stop, force bool
	output, desired   string
}

func init() {
	var f tasksFlags
	commands["tasks"] = command{
		summary: "list the service's tasks and one-off runs (stopped ones with why); --find picks one, --stop stops them",
		flags: func(fs *flag.FlagSet) func() {
			fs.StringVar(&f.id, "id", "", "only the task with this ID (or ARN, or a unique ID prefix)")
			fs.BoolVar(&f.find, "find", false, "pick a task from the list on the terminal and print it in full")
			fs.BoolVar(&f.stop, "stop", false, "stop the listed running tasks (with --id or --find: that one)")
			fs.BoolVar(&f.force, "force", false, "stop without asking (needed when stdin is not a terminal)")
			fs.StringVar(&f.output, "output", "", "table, json or tsv (default table; json with --log-format json)")
			fs.StringVar(&f.desired, "desired-status", "all", "RUNNING, STOPPED or all")
			return nil
		},
		run: func(a *app, args []string) error { return a.tasks(f) },
	}
}

func (a *app) tasks(f tasksFlags) error {
	var statuses []types.DesiredStatus
	switch strings.ToUpper(f.desired) {
	case string(types.DesiredStatusRunning):
		statuses = []types.DesiredStatus{types.DesiredStatusRunning}
	case string(types.DesiredStatusStopped):
		statuses = []types.DesiredStatus{types.DesiredStatusStopped}
	case "ALL":
		statuses = []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped}
	default:
		return fmt.Errorf("--desired-status %q: use RUNNING, STOPPED or all", f.desired)
	}
	switch f.output {
	case "", "table", "json", "tsv":
	default:
		return fmt.Errorf("--output %q: use table, json or tsv", f.output)
	}
	if f.find && f.id != "" {
		return errors.New("--find and --id exclude each other: pass one")
	}
	in, tty := stdinTerminal()
	if f.find && !tty {
		return errors.New("--find picks a task on the terminal, but stdin is not one; pass --id ID instead")
	}
	if f.stop && !f.force && !tty {
		return errors.New("refusing to stop tasks without confirmation: stdin is not a terminal; pass --force to stop without asking")
	}
	if err := a.load(); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	filters, whose, err := a.tasksFilters()
	if err != nil {
		return err
	}
	tasks, err := a.listTasks(ctx, filters, statuses)
	if err != nil {
		return err
	}
	if f.id != "" {
		t, err := pickTask(tasks, f.id, false)
		if err != nil {
			return err
		}
		tasks = []types.Task{t}
	}
	if f.find {
		if len(tasks) == 0 {
			return fmt.Errorf("%s has no %s tasks to pick from", whose, strings.ToLower(f.desired))
		}
		a.printTasks(tasks, "table", true)
		fmt.Fprint(a.stderr, "Task to pick (number or ID): ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading the task to pick: %w", err)
		}
		t, err := pickTask(tasks, strings.TrimSpace(line), true)
		if err != nil {
			return err
		}
		tasks = []types.Task{t}
		if !f.stop {
			b, err := apiJSON(t)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(b)
			return err
		}
	} else {
		a.printTasks(tasks, f.output, false)
	}
	if !f.stop {
		return nil
	}
	return a.stopTasks(ctx, tasks, f.force)
}

// tasksFilters are the ListTasks filters for the config's tasks: those of
// its service, and those of its task definition family (which ecsctl run
// starts), as ecspresso lists them.
func (a *app) tasksFilters() ([]func(*ecs.ListTasksInput), string, error) {
	var filters []func(*ecs.ListTasksInput)
	var whose []string
	if a.cfg.Service != "" {
		filters = append(filters, func(in *ecs.ListTasksInput) { in.ServiceName = aws.String(a.cfg.Service) })
		whose = append(whose, "service "+a.cfg.Service)
	}
	td, warns, err := a.cfg.TaskDefinition()
	a.warn(warns)
	switch {
	case err == nil:
		filters = append(filters, func(in *ecs.ListTasksInput) { in.Family = td.Family })
		whose = append(whose, "task definition family "+aws.ToString(td.Family))
	case len(filters) == 0:
		return nil, "", err
	}
	return filters, strings.Join(whose, " and "), nil
}

// listTasks lists and describes the tasks the filters find with the
// desired statuses, each once: those that should run first, oldest first,
// then the stopped ones, most recently stopped first.
func (a *app) listTasks(ctx context.Context, filters []func(*ecs.ListTasksInput), statuses []types.DesiredStatus) ([]types.Task, error) {
	var arns []string
	seen := map[string]bool{}
	for _, st := range statuses {
		for _, filter := range filters {
			in := &ecs.ListTasksInput{Cluster: aws.String(a.cfg.Cluster), DesiredStatus: st}
			filter(in)
			for p := ecs.NewListTasksPaginator(a.ecs, in); p.HasMorePages(); {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("listing %s tasks in cluster %s: %w", strings.ToLower(string(st)), a.cfg.Cluster, err)
				}
				for _, arn := range out.TaskArns {
					if !seen[arn] {
						seen[arn] = true
						arns = append(arns, arn)
					}
				}
			}
		}
	}
	var tasks []types.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := a.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(a.cfg.Cluster), Tasks: chunk})
		if err != nil {
			return nil, fmt.Errorf("describing tasks in cluster %s: %w", a.cfg.Cluster, err)
		}
		tasks = append(tasks, out.Tasks...)
	}
	sortTasks(tasks)
	return tasks, nil
}

func sortTasks(tasks []types.Task) {
	slices.SortStableFunc(tasks, func(x, y types.Task) int {
		xs, ys := aws.ToString(x.DesiredStatus) == ecsmodel.TaskStopped, aws.ToString(y.DesiredStatus) == ecsmodel.TaskStopped
		switch {
		case xs != ys:
			if xs {
				return 1
			}
			return -1
		case xs:
			return aws.ToTime(y.StoppedAt).Compare(aws.ToTime(x.StoppedAt))
		}
		return aws.ToTime(x.CreatedAt).Compare(aws.ToTime(y.CreatedAt))
	})
}

// pickTask finds the task a user named: an ID, an ARN, a unique ID prefix
// or, with byNumber, its number in the list (from 1).
func pickTask(tasks []types.Task, ref string, byNumber bool) (types.Task, error) {
	if ref == "" {
		return types.Task{}, errors.New("no task named")
	}
	if n, err := strconv.Atoi(ref); err == nil && byNumber && n >= 1 && n <= len(tasks) {
		return tasks[n-1], nil
	}
	var found []types.Task
	for _, t := range tasks {
		arn := aws.ToString(t.TaskArn)
		id := taskID(arn)
		if arn == ref || id == ref {
			return t, nil
		}
		if strings.HasPrefix(id, ref) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return types.Task{}, fmt.Errorf("no listed task has the ID %s (ecsctl tasks lists them)", ref)
	}
	return types.Task{}, fmt.Errorf("%d tasks have IDs starting with %s; give more of the ID", len(found), ref)
}

// stopTasks stops those of the tasks that should be running, after asking
// unless force.
func (a *app) stopTasks(ctx context.Context, tasks []types.Task, force bool) error {
	var ids []string
	for _, t := range tasks {
		if aws.ToString(t.DesiredStatus) != ecsmodel.TaskStopped {
			ids = append(ids, taskID(aws.ToString(t.TaskArn)))
		}
	}
	if len(ids) == 0 {
		a.out.info("no running task to stop")
		return nil
	}
	if !force {
		ok, err := a.confirm(fmt.Sprintf("Stop %d task(s) in cluster %s (%s)?", len(ids), a.cfg.Cluster, strings.Join(ids, ", ")))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not confirmed; no task stopped")
		}
	}
	for _, id := range ids {
		_, err := a.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(a.cfg.Cluster), Task: aws.String(id), Reason: aws.String("stopped with ecsctl tasks --stop")})
		if err != nil {
			return fmt.Errorf("stopping task %s: %w", id, err)
		}
		a.out.line("task", fmt.Sprintf("task %s stopping", id), map[string]any{"taskId": id, "desiredStatus": ecsmodel.TaskStopped})
	}
	return nil
}

// printTasks writes the tasks as a table, tab-separated values or JSON
// lines; with --log-format json and no --output, as JSON reports.
func (a *app) printTasks(tasks []types.Task, output string, numbered bool) {
	if output == "" && a.out.json {
		for _, t := range tasks {
			rec := taskRecord(t)
			a.out.line("task", fmt.Sprintf("task %s %s", rec["taskId"], rec["lastStatus"]), rec)
		}
		return
	}
	writeTasks(a.stdout, tasks, output, numbered, time.Local)
}

// writeTasks renders tasks: table (times in loc), tsv or json (one object
// per line, times in UTC).
func writeTasks(w io.Writer, tasks []types.Task, output string, numbered bool, loc *time.Location) {
	switch output {
	case "json":
		for _, t := range tasks {
			b, _ := json.Marshal(taskRecord(t))
			fmt.Fprintln(w, string(b))
		}
		return
	case "tsv":
		for _, t := range tasks {
			fmt.Fprintln(w, strings.Join(taskColumns(t, time.UTC, time.RFC3339), "\t"))
		}
		return
	}
	if len(tasks) == 0 {
		fmt.Fprintln(w, "no tasks")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "ID\tTASK DEFINITION\tGROUP\tLAST STATUS\tDESIRED\tHEALTH\tSTARTED\tSTOP CODE\tEXIT CODES\tSTOPPED REASON"
	if numbered {
		header = "#\t" + header
	}
	fmt.Fprintln(tw, header)
	for i, t := range tasks {
		cols := taskColumns(t, loc, time.DateTime)
		for j, c := range cols {
			if c == "" {
				cols[j] = "-"
			}
		}
		if numbered {
			cols = append([]string{strconv.Itoa(i + 1)}, cols...)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
}

// taskColumns are a task's table columns: ID, task definition, group
// (service:NAME or family:NAME), last and desired status, health, started,
// stop code, exit codes, stopped reason.
func taskColumns(t types.Task, loc *time.Location, layout string) []string {
	started := ""
	if t.StartedAt != nil {
		started = t.StartedAt.In(loc).Format(layout)
	}
	return []string{
		taskID(aws.ToString(t.TaskArn)),
		taskDefinitionName(aws.ToString(t.TaskDefinitionArn)),
		aws.ToString(t.Group),
		aws.ToString(t.LastStatus),
		aws.ToString(t.DesiredStatus),
		string(t.HealthStatus),
		started,
		string(t.StopCode),
		exitCodes(t),
		strings.ReplaceAll(aws.ToString(t.StoppedReason), "\t", " "),
	}
}

// exitCodes are the containers' exit codes, as name=code.
func exitCodes(t types.Task) string {
	var codes []string
	for _, c := range t.Containers {
		if c.ExitCode != nil {
			codes = append(codes, fmt.Sprintf("%s=%d", aws.ToString(c.Name), *c.ExitCode))
		}
	}
	return strings.Join(codes, ",")
}

// taskRecord is a task as one JSON object.
func taskRecord(t types.Task) map[string]any {
	when := func(p *time.Time) any {
		if p == nil {
			return nil
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	containers := []map[string]any{}
	for _, c := range t.Containers {
		m := map[string]any{"name": aws.ToString(c.Name), "lastStatus": aws.ToString(c.LastStatus), "healthStatus": string(c.HealthStatus)}
		if c.ExitCode != nil {
			m["exitCode"] = *c.ExitCode
		}
		if r := aws.ToString(c.Reason); r != "" {
			m["reason"] = r
		}
		containers = append(containers, m)
	}
	return map[string]any{
		"taskId":         taskID(aws.ToString(t.TaskArn)),
		"taskArn":        aws.ToString(t.TaskArn),
		"taskDefinition": taskDefinitionName(aws.ToString(t.TaskDefinitionArn)),
		"lastStatus":     aws.ToString(t.LastStatus),
		"desiredStatus":  aws.ToString(t.DesiredStatus),
		"healthStatus":   string(t.HealthStatus),
		"group":          aws.ToString(t.Group),
		"startedBy":      aws.ToString(t.StartedBy),
		"createdAt":      when(t.CreatedAt),
		"startedAt":      when(t.StartedAt),
		"stoppedAt":      when(t.StoppedAt),
		"stopCode":       string(t.StopCode),
		"stoppedReason":  aws.ToString(t.StoppedReason),
		"containers":     containers,
	}
}
