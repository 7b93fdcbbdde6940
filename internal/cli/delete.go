package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

type deleteFlags struct {
	force, terminate, dryRun, noWait bool
	poll                             time.Duration
}

func init() {
	var f deleteFlags
	commands["delete"] = command{
		summary: "delete the service (asks for its name unless --force; --terminate stops its tasks first)",
		flags: func(fs *flag.FlagSet) func() {
			fs.BoolVar(&f.force, "force", false, "do not ask for the service name (needed when stdin is not a terminal)")
			fs.BoolVar(&f.terminate, "terminate", false, "delete a service that still runs tasks: scale it to 0, wait for its tasks to stop, then delete it")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be deleted, delete nothing")
			fs.BoolVar(&f.noWait, "no-wait", false, "do not wait: with --terminate, ECS stops the tasks as it deletes the service (DeleteService force)")
			fs.DurationVar(&f.poll, "poll-interval", time.Second, "how often to poll while waiting")
			return nil
		},
		run: func(a *app, args []string) error { return a.deleteService(f) },
	}
}

func (a *app) deleteService(f deleteFlags) error {
	if _, tty := stdinTerminal(); !f.dryRun && !f.force && !tty {
		return errors.New("refusing to delete without confirmation: stdin is not a terminal to type the service name on; pass --force to delete without asking, or --dry-run to see what would be deleted")
	}
	ctx, cancel := signalContext()
	defer cancel()
	svc, err := a.existingService(ctx)
	if err != nil {
		return err
	}
	if svc.DesiredCount > 0 && !f.terminate {
		return fmt.Errorf("service %s still wants %d tasks and ECS deletes a service only at 0: pass --terminate to scale it to 0, wait for its tasks to stop and delete it, or scale it first (ecsctl scale --tasks 0)", a.cfg.Service, svc.DesiredCount)
	}
	if f.dryRun {
		how := ""
		if svc.DesiredCount > 0 {
			how = fmt.Sprintf(" after scaling it from %d to 0 tasks", svc.DesiredCount)
		}
		a.out.info("dry run: would delete service %s from cluster %s%s", a.cfg.Service, a.cfg.Cluster, how)
		return nil
	}
	if !f.force {
		in, _ := stdinTerminal()
		fmt.Fprintf(a.stderr, "Type the service name (%s) to delete it from cluster %s: ", a.cfg.Service, a.cfg.Cluster)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading the service name: %w; nothing deleted", err)
		}
		if typed := strings.TrimSpace(line); typed != a.cfg.Service {
			return fmt.Errorf("%q is not %q; nothing deleted", typed, a.cfg.Service)
		}
	}
	if f.terminate && !f.noWait && (svc.DesiredCount > 0 || svc.RunningCount > 0 || svc.PendingCount > 0) {
		if err := a.scale(ctx, 0, false, f.poll); err != nil {
			return fmt.Errorf("stopping the tasks of service %s before deleting it: %w", a.cfg.Service, err)
		}
	}
	if _, err := a.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{
		Cluster: aws.String(a.cfg.Cluster),
		Service: aws.String(a.cfg.Service),
		Force:   aws.Bool(f.terminate), // as ecspresso: --terminate is DeleteService's force
	}); err != nil {
		return fmt.Errorf("deleting service %s: %w", a.cfg.Service, err)
	}
	if f.noWait {
		a.out.line("deleted", fmt.Sprintf("service %s deleted; ECS removes it once its tasks have stopped", a.cfg.Service), map[string]any{"service": a.cfg.Service})
		return nil
	}
	a.out.info("service %s deleted; waiting for it to drain", a.cfg.Service)
	return a.waitGone(ctx, f.poll)
}

// waitGone waits until the service is INACTIVE or gone.
func (a *app) waitGone(ctx context.Context, poll time.Duration) error {
	timeout := a.g.timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		svc, err := a.describe(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil && svc == nil {
			a.out.line("deleted", fmt.Sprintf("service %s is gone", a.cfg.Service), map[string]any{"service": a.cfg.Service})
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w after %s waiting for deleted service %s to drain", errTimeout, timeout, a.cfg.Service)
			}
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
