package cli

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func init() {
	commands["status"] = command{
		summary: "show the service, its deployments and recent events",
		run: func(a *app, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			svc, err := a.existingService(ctx)
			if err != nil {
				return err
			}
			if a.out.json {
				a.out.line("service", fmt.Sprintf("service %s is %s", aws.ToString(svc.ServiceName), aws.ToString(svc.Status)), map[string]any{
					"service": aws.ToString(svc.ServiceName), "cluster": a.cfg.Cluster, "status": aws.ToString(svc.Status), "taskDefinition": aws.ToString(svc.TaskDefinition),
					"desiredCount": svc.DesiredCount, "runningCount": svc.RunningCount, "pendingCount": svc.PendingCount,
				})
				for _, r := range deploymentRows(*svc, primaryID(*svc)) {
					a.out.line("deployment", r.summary(), r.fields())
				}
				for i := min(len(svc.Events), 10) - 1; i >= 0; i-- {
					a.out.event(aws.ToString(svc.Events[i].Message), aws.ToTime(svc.Events[i].CreatedAt))
				}
				return nil
			}
			fmt.Fprintf(a.stdout, "Service: %s (%s)\nCluster: %s\nTask definition: %s\nDesired %d, running %d, pending %d\nDeployments:\n",
				aws.ToString(svc.ServiceName), aws.ToString(svc.Status), a.cfg.Cluster, aws.ToString(svc.TaskDefinition), svc.DesiredCount, svc.RunningCount, svc.PendingCount)
			for _, d := range svc.Deployments {
				fmt.Fprintf(a.stdout, "  %-8s %s %s %s: %d/%d running, %d pending, %d failed — %s\n", aws.ToString(d.Status), aws.ToString(d.Id),
					aws.ToString(d.TaskDefinition), d.RolloutState, d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks, aws.ToString(d.RolloutStateReason))
			}
			fmt.Fprintln(a.stdout, "Events:")
			for i, e := range svc.Events {
				if i == 10 {
					break
				}
				fmt.Fprintf(a.stdout, "  %s %s\n", aws.ToTime(e.CreatedAt).Local().Format(time.DateTime), aws.ToString(e.Message))
			}
			return nil
		},
	}
}
