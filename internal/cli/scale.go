package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/internal/deploywatch"
)

func init() {
	var f deployFlags
	commands["scale"] = command{
		summary: "set the service's desired count (--tasks N) and wait until it runs that many",
		flags: func(fs *flag.FlagSet) func() {
			fs.IntVar(&f.tasks, "tasks", -1, "the desired count (required)")
			fs.BoolVar(&f.noWait, "no-wait", false, "do not wait for the service to reach the count")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would change, change nothing")
			fs.DurationVar(&f.poll, "poll-interval", time.Second, "how often to poll while waiting")
			f.autoScalingFlags(fs)
			return nil
		},
		run: func(a *app, args []string) error {
			if f.tasks < 0 {
				return errors.New("pass --tasks N, the desired count to scale to")
			}
			autoScaling, err := autoScalingChange(f.suspendAutoScaling, f.resumeAutoScaling)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			svc, err := a.existingService(ctx)
			if err != nil {
				return err
			}
			if err := a.setAutoScaling(ctx, autoScaling, f.dryRun); err != nil {
				return err
			}
			if f.dryRun {
				a.out.info("dry run: would scale service %s from %d to %d tasks", a.cfg.Service, svc.DesiredCount, f.tasks)
				return nil
			}
			return a.scale(ctx, int32(f.tasks), f.noWait, f.poll)
		},
	}
}

// scale changes the service's desiredCount, nothing else, and unless
// noWait waits until the service is stable at it.
func (a *app) scale(ctx context.Context, tasks int32, noWait bool, poll time.Duration) error {
	id, start, err := a.updateService(ctx, &ecs.UpdateServiceInput{DesiredCount: aws.Int32(tasks)})
	if err != nil {
		return fmt.Errorf("scaling service %s to %d tasks: %w", a.cfg.Service, tasks, err)
	}
	a.out.line("info", fmt.Sprintf("service %s desired count set to %d", a.cfg.Service, tasks), map[string]any{"desiredCount": tasks})
	if noWait {
		a.out.info("not waiting (--no-wait)")
		return nil
	}
	return a.wait(ctx, id, start, deployFlags{waitUntil: string(deploywatch.UntilStable), poll: poll, eventsSince: start.Add(-time.Second)})
}
