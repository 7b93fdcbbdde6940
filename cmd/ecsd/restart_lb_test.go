package main

import (
	"context"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

// TestRestartMidRollout restarts ecsd (kill -9, and SIGTERM) in the middle
// of a load-balanced rolling deployment, while old tasks drain and
// requests flow through the listener, and restarts it on the same data
// dir. Targets resume their health (the new tasks serve at once, no
// healthy-threshold wait), drains in progress last until their stored
// deadlines before their tasks stop, the rollout completes and no task is
// left stuck. Requests in flight when ecsd goes down and those sent while
// it is down fail (the listener is ecsd's own socket); none fails once the
// listener is back. The figures are logged.
func TestRestartMidRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			restartMidRollout(t, sig)
		})
	}
}

func restartMidRollout(t *testing.T, sig syscall.Signal) {
	ctx := context.Background()
	p := startECSD(t, ecsdproc.Options{Runtime: "process"})
	dir := p.DataDir
	tgARN, url := balancer(t, p, 6)
	slow := map[string]string{"DEMO_LATENCY": "1s"} // requests in flight keep drains going
	loadBalancedService(t, p, registerDemo(t, p.client(), "v1", slow), tgARN)
	waitCompleted(t, p, 2*time.Minute)

	l := startLoad(url, 8)
	if _, err := p.client().UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(registerDemo(t, p.client(), "v2", slow))}); err != nil {
		t.Fatal(err)
	}
	// The moment: an old task is DEACTIVATING, its target draining.
	for deadline := time.Now().Add(2 * time.Minute); !deactivating(t, p); time.Sleep(20 * time.Millisecond) { // polling a real ecsd
		if time.Now().After(deadline) {
			t.Fatalf("no task ever drained:\n%s", p.Logs())
		}
	}
	down := time.Now()
	if sig == syscall.SIGKILL {
		p.Kill()
	} else if err := p.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	stopped := time.Now()
	drains, healthy := storedLoadBalancing(t, dir)

	listenerAddr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	restarted := time.Now()
	p.restart(t)
	back := listenerBack(t, listenerAddr, restarted)

	// Health resumed: every target stored healthy is healthy (or already
	// draining, if the scheduler moved on), not initial.
	th, err := p.elbClient().DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		t.Fatal(err)
	}
	var healthyAfter int
	for _, d := range th.TargetHealthDescriptions {
		port := aws.ToInt32(d.Target.Port)
		state := d.TargetHealth.State
		if state == elbtypes.TargetHealthStateEnumHealthy {
			healthyAfter++
		}
		if healthy[port] && state != elbtypes.TargetHealthStateEnumHealthy && state != elbtypes.TargetHealthStateEnumDraining {
			t.Errorf("target :%d was healthy when ecsd went down; after the restart it is %s/%s (health must resume, not start over)", port, state, d.TargetHealth.Reason)
		}
	}
	if len(healthy) > 0 && healthyAfter == 0 {
		t.Errorf("no healthy target right after the restart (%d were healthy before)", len(healthy))
	}

	waitCompleted(t, p, 2*time.Minute)
	waitNoTaskInTransit(t, p)
	answers := l.finish()

	// Drains in progress at the restart lasted until their stored
	// deadlines: their tasks began stopping no earlier.
	for taskARN, until := range drains {
		out, err := p.client().DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{taskARN}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("describing drained task %s: %v %+v", taskARN, err, out)
		}
		task := out.Tasks[0]
		if got := aws.ToString(task.LastStatus); got != "STOPPED" {
			t.Errorf("task %s, draining at the restart, is %s after the rollout", taskARN, got)
		}
		if at := aws.ToTime(task.StoppingAt); at.Before(until.Add(-time.Millisecond)) {
			t.Errorf("task %s began stopping at %s, before its drain's stored deadline %s", taskARN, at.Format("15:04:05.000"), until.Format("15:04:05.000"))
		}
	}

	var cut, refused, after []string
	for _, a := range answers {
		switch {
		case a.err == nil:
		case a.at.After(back):
			after = append(after, a.at.Format("15:04:05.000 ")+a.err.Error())
		case a.at.Before(down):
			cut = append(cut, a.at.Format("15:04:05.000 ")+a.err.Error())
		default:
			refused = append(refused, a.at.Format("15:04:05.000 ")+a.err.Error())
		}
	}
	t.Logf("%s mid-rollout: %d requests (8 clients, 1 s each, 10 ms pause after a failure); failed: %d in flight at the signal, %d sent while the listener was down, %d after it was back. "+
		"ecsd exited %s after the signal; the new ecsd's listener accepted %s after it started (%s after the signal). "+
		"%d targets stored healthy, %d healthy right after the restart; %d drains resumed until their stored deadlines.",
		sig, len(answers), len(cut), len(refused), len(after), stopped.Sub(down).Round(time.Millisecond), back.Sub(restarted).Round(time.Millisecond),
		back.Sub(down).Round(time.Millisecond), len(healthy), healthyAfter, len(drains))
	if len(after) > 0 {
		t.Errorf("%d requests failed after the listener was back:\n%s", len(after), strings.Join(after[:min(len(after), 20)], "\n"))
	}
}

// deactivating says whether a task of service web is DEACTIVATING.
func deactivating(t *testing.T, p ecsdProcess) bool {
	ctx := context.Background()
	list, err := p.client().ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(list.TaskArns) == 0 {
		return false
	}
	out, err := p.client().DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: list.TaskArns})
	if err != nil {
		return false
	}
	return slices.ContainsFunc(out.Tasks, func(task types.Task) bool { return aws.ToString(task.LastStatus) == "DEACTIVATING" })
}

// storedLoadBalancing reads, from the data dir of a stopped ecsd, the
// drains in progress (by task ARN: the drain's deadline) and the ports of
// the targets whose stored health is healthy.
func storedLoadBalancing(t *testing.T, dir string) (drains map[string]time.Time, healthy map[int32]bool) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	drains, healthy = map[string]time.Time{}, map[int32]bool{}
	until := map[int32]time.Time{}
	err = st.View(func(tx *store.Tx) error {
		if err := tx.Scan(store.TargetGroups, "", "", func(key string, raw []byte) error {
			var rec store.TargetGroupRecord
			if err := tx.Decode(store.TargetGroups, key, raw, &rec); err != nil {
				return err
			}
			for _, d := range rec.Draining {
				until[aws.ToInt32(d.Target.Port)] = d.Until
			}
			for _, target := range rec.Targets {
				var h store.TargetHealthRecord
				found, err := tx.Get(store.TargetHealth, healthKey(key, target), &h)
				if err != nil {
					return err
				}
				if found && h.State == "healthy" {
					healthy[aws.ToInt32(target.Port)] = true
				}
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan(store.Tasks, "", "", func(key string, raw []byte) error {
			var rec store.TaskRecord
			if err := tx.Decode(store.Tasks, key, raw, &rec); err != nil {
				return err
			}
			for _, d := range rec.Draining {
				if u, ok := until[d.Port]; ok {
					drains[aws.ToString(rec.Task.TaskArn)] = u
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return drains, healthy
}

func healthKey(groupKey string, t elbtypes.TargetDescription) string {
	return groupKey + "/" + lbrun.TargetAddr(elbtypes.TargetTypeEnumIp, t)
}

// listenerBack waits until the listener at addr accepts connections again
// and returns when it did.
func listenerBack(t *testing.T, addr string, since time.Time) time.Time {
	t.Helper()
	for deadline := since.Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) { // polling a child process's socket
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener %s did not come back", addr)
		}
	}
}

// waitNoTaskInTransit waits until every task of service web is RUNNING
// or STOPPED: none is stuck on its way.
func waitNoTaskInTransit(t *testing.T, p ecsdProcess) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) { // polling a real ecsd
		var transit []string
		for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
			list, err := p.client().ListTasks(ctx, &ecs.ListTasksInput{ServiceName: aws.String("web"), DesiredStatus: desired})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.TaskArns) == 0 {
				continue
			}
			out, err := p.client().DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: list.TaskArns})
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range out.Tasks {
				if s := aws.ToString(task.LastStatus); s != "RUNNING" && s != "STOPPED" || aws.ToString(task.DesiredStatus) == "STOPPED" && s != "STOPPED" {
					transit = append(transit, aws.ToString(task.TaskArn)+" "+s+"/"+aws.ToString(task.DesiredStatus))
				}
			}
		}
		if len(transit) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks stuck after the rollout:\n%s\n%s", strings.Join(transit, "\n"), p.Logs())
		}
	}
}
