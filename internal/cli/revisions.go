package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

func init() {
	var revision, output string
	commands["revisions"] = command{
		summary: "list the task definition family's revisions and what uses them",
		flags: func(fs *flag.FlagSet) func() {
			fs.StringVar(&revision, "revision", "", "print this revision (a number, current or latest) as JSON instead")
			fs.StringVar(&output, "output", "table", "table, json or tsv")
			return nil
		},
		run: func(a *app, args []string) error { return a.revisions(revision, output) },
	}
}

// revisionUse is one revision of a family and what uses it ("" if nothing).
type revisionUse struct {
	Name  string `json:"name"`
	InUse string `json:"in_use"`
}

func (a *app) revisions(revision, output string) error {
	switch output {
	case "table", "json", "tsv":
	default:
		return fmt.Errorf("--output %q: use table, json or tsv", output)
	}
	ctx, cancel := signalContext()
	defer cancel()
	family, svc, err := a.familyService(ctx)
	if err != nil {
		return err
	}
	if revision != "" {
		ref := family
		switch revision {
		case "latest":
		case "current":
			if svc == nil {
				return fmt.Errorf("--revision current: service %s does not exist in cluster %s, so it uses no revision", a.cfg.Service, a.cfg.Cluster)
			}
			ref = aws.ToString(svc.TaskDefinition)
		default:
			n, err := strconv.Atoi(revision)
			if err != nil || n < 1 {
				return fmt.Errorf("--revision %q: use a revision number, current or latest", revision)
			}
			ref = fmt.Sprintf("%s:%d", family, n)
		}
		td, _, err := a.describeTaskDefinition(ctx, ref)
		if err != nil {
			return err
		}
		b, err := apiJSON(td)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		return err
	}

	names, inUse, err := a.revisionUses(ctx, family, svc)
	if err != nil {
		return err
	}
	revs := make([]revisionUse, len(names))
	for i, n := range names {
		revs[i] = revisionUse{Name: n, InUse: inUse[n]}
	}
	switch output {
	case "json":
		enc := json.NewEncoder(a.stdout)
		for _, r := range revs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	case "tsv":
		for _, r := range revs {
			fmt.Fprintf(a.stdout, "%s\t%s\n", r.Name, r.InUse)
		}
	default:
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tIN USE")
		for _, r := range revs {
			fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.InUse)
		}
		return tw.Flush()
	}
	return nil
}

// familyService loads the config, connects, and returns the task definition
// family its definition file names and the service it names (nil if it
// names none or the service does not exist).
func (a *app) familyService(ctx context.Context) (family string, svc *types.Service, err error) {
	if err := a.load(); err != nil {
		return "", nil, err
	}
	if err := a.client(ctx); err != nil {
		return "", nil, err
	}
	if family, err = a.family(); err != nil {
		return "", nil, err
	}
	if a.cfg.Service != "" {
		if svc, err = a.describe(ctx); err != nil {
			return "", nil, err
		}
	}
	return family, svc, nil
}

// revisionUses lists the family's ACTIVE revisions as family:revision,
// oldest first, and maps those in use to what uses them (revisionsInUse).
func (a *app) revisionUses(ctx context.Context, family string, svc *types.Service) (active []string, inUse map[string]string, err error) {
	if active, err = a.activeRevisions(ctx, family); err != nil {
		return nil, nil, err
	}
	if inUse, err = a.revisionsInUse(ctx, family, svc); err != nil {
		return nil, nil, err
	}
	return active, inUse, nil
}

// family is the task definition family the config's definition file names.
func (a *app) family() (string, error) {
	td, warns, err := a.cfg.TaskDefinition()
	a.warn(warns)
	if err != nil {
		return "", err
	}
	return aws.ToString(td.Family), nil
}

// activeRevisions lists the family's ACTIVE revisions as family:revision,
// oldest first.
func (a *app) activeRevisions(ctx context.Context, family string) ([]string, error) {
	var names []string
	p := ecs.NewListTaskDefinitionsPaginator(a.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the revisions of task definition family %s: %w", family, err)
		}
		for _, arn := range out.TaskDefinitionArns {
			name := taskDefinitionName(arn)
			if f, _, ok := splitRevision(name); ok && f == family {
				names = append(names, name)
			}
		}
	}
	sortRevisions(names)
	return names, nil
}

// revisionsInUse maps the family's revisions (family:revision) to what uses
// them: the service's deployments ("PRIMARY deployment", the revision the
// service runs; "ACTIVE deployment", one it is replacing) and tasks that
// have not stopped ("RUNNING task", e.g. one started by run).
func (a *app) revisionsInUse(ctx context.Context, family string, svc *types.Service) (map[string]string, error) {
	inUse := map[string]string{}
	var arns []string
	p := ecs.NewListTasksPaginator(a.ecs, &ecs.ListTasksInput{Cluster: aws.String(a.cfg.Cluster), Family: aws.String(family)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the tasks of family %s in cluster %s: %w", family, a.cfg.Cluster, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	for chunk := range slices.Chunk(arns, 100) {
		out, err := a.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(a.cfg.Cluster), Tasks: chunk})
		if err != nil {
			return nil, fmt.Errorf("describing the tasks of family %s: %w", family, err)
		}
		for _, t := range out.Tasks {
			st := firstNonEmpty(aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus))
			if st != ecsmodel.TaskStopped {
				inUse[taskDefinitionName(aws.ToString(t.TaskDefinitionArn))] = st + " task"
			}
		}
	}
	if svc != nil {
		for _, d := range svc.Deployments {
			inUse[taskDefinitionName(aws.ToString(d.TaskDefinition))] = aws.ToString(d.Status) + " deployment"
		}
	}
	return inUse, nil
}

// splitRevision splits "family:revision".
func splitRevision(name string) (family string, revision int, ok bool) {
	family, rev, found := strings.Cut(name, ":")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 {
		return "", 0, false
	}
	return family, n, true
}

func revisionOf(name string) int {
	_, n, _ := splitRevision(name)
	return n
}

// sortRevisions sorts family:revision names by revision, oldest first.
func sortRevisions(names []string) {
	slices.SortFunc(names, func(x, y string) int { return revisionOf(x) - revisionOf(y) })
}
