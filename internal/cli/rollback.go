package cli

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type rollbackFlags struct {
	deployFlags
	deregister     bool
	rollbackEvents string
}

func init() {
	var f rollbackFlags
	commands["rollback"] = command{
		summary: "roll the service back to its previous ACTIVE revision, wait, deregister the newer one",
		flags: func(fs *flag.FlagSet) func() {
			fs.BoolVar(&f.deregister, "deregister-task-definition", true, "deregister the revision rolled back from once the rollback succeeded; needs the wait, so pass =false with --no-wait")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would change, change nothing")
			fs.BoolVar(&f.noWait, "no-wait", false, "do not wait for the rollback deployment")
			fs.StringVar(&f.waitUntil, "wait-until", "stable", "stable or deployed")
			fs.DurationVar(&f.poll, "poll-interval", time.Second, "how often to poll while waiting")
			fs.StringVar(&f.rollbackEvents, "rollback-events", "", "CodeDeploy only (DEPLOYMENT_FAILURE,...); ignored for ECS rolling deployments")
			return nil
		},
		run: func(a *app, args []string) error { return a.rollback(f) },
	}
}

func (a *app) rollback(f rollbackFlags) error {
	if f.waitUntil != "stable" && f.waitUntil != "deployed" {
		return fmt.Errorf("--wait-until %q: use stable or deployed", f.waitUntil)
	}
	if f.deregister && f.noWait {
		return errors.New("--deregister-task-definition needs the wait: pass --deregister-task-definition=false with --no-wait")
	}
	ctx, cancel := signalContext()
	defer cancel()
	svc, err := a.existingService(ctx)
	if err != nil {
		return err
	}
	if dc := svc.DeploymentController; dc != nil && dc.Type != types.DeploymentControllerTypeEcs {
		return fmt.Errorf("service %s uses the %s deployment controller; ecsctl rolls back ECS rolling deployments only (roll back a CodeDeploy deployment in CodeDeploy)", a.cfg.Service, dc.Type)
	}
	if f.rollbackEvents != "" {
		fmt.Fprintln(a.stderr, "warning: --rollback-events applies to CodeDeploy deployments only; ignored for this ECS rolling deployment")
	}
	current := taskDefinitionName(aws.ToString(svc.TaskDefinition))
	family, _, ok := splitRevision(current)
	if !ok {
		return fmt.Errorf("service %s runs task definition %q, which is not family:revision", a.cfg.Service, aws.ToString(svc.TaskDefinition))
	}
	active, err := a.activeRevisions(ctx, family)
	if err != nil {
		return err
	}
	target, err := rollbackTarget(current, active)
	if err != nil {
		return err
	}

	if f.dryRun {
		a.out.info("dry run: would roll back service %s: task definition %s → %s", a.cfg.Service, current, target)
		if f.deregister {
			a.out.info("dry run: would then deregister %s", current)
		}
		return nil
	}
	id, start, err := a.updateService(ctx, &ecs.UpdateServiceInput{TaskDefinition: aws.String(target)})
	if err != nil {
		return fmt.Errorf("rolling back service %s to %s: %w", a.cfg.Service, target, err)
	}
	a.out.info("service %s rolling back: task definition %s → %s", a.cfg.Service, current, target)
	if f.noWait {
		a.out.info("deployment %s started; not waiting (--no-wait)", id)
		return nil
	}
	if err := a.wait(ctx, id, start, f.deployFlags); err != nil {
		if f.deregister {
			a.out.info("%s stays registered because the rollback did not succeed", current)
		}
		return err
	}
	if !f.deregister {
		return nil
	}
	if _, err := a.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(current)}); err != nil {
		return fmt.Errorf("deregistering %s, rolled back from: %w", current, err)
	}
	a.out.info("deregistered %s, rolled back from", current)
	return nil
}

// rollbackTarget is the revision to roll back to from current: the newest
// ACTIVE revision of its family older than it. active lists family:revision
// names.
func rollbackTarget(current string, active []string) (string, error) {
	family, rev, ok := splitRevision(current)
	if !ok {
		return "", fmt.Errorf("%q is not a task definition family:revision", current)
	}
	target, best := "", 0
	for _, n := range active {
		f, r, ok := splitRevision(n)
		if ok && f == family && r < rev && r > best {
			target, best = n, r
		}
	}
	if target == "" {
		return "", fmt.Errorf("no ACTIVE revision of %s older than %s to roll back to (ecsctl revisions lists them)", family, current)
	}
	return target, nil
}
