package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// ecsd is one running ecsd server (test 3).
type ecsd struct {
	*benchkit.ECSD
	name string
	api  *ecs.Client

	mu         sync.Mutex
	open       map[string]bool // tasks RunTask started and not yet seen STOPPED
	hasService bool
}

// startECSD runs `ecsd server` on a free port with a fresh data dir and
// waits until it accepts connections. Its Stop (also run at exit) deletes
// the service and stops the extra tasks first.
func startECSD(name, bin, tmp string, args ...string) (*ecsd, error) {
	e := &ecsd{name: name, open: map[string]bool{}}
	var err error
	e.ECSD, err = benchkit.StartECSD(benchkit.ECSDOpts{
		Bin: bin, Name: name, Dir: tmp, Args: append([]string{"--region", "us-east-1"}, args...),
		BeforeStop: e.cleanup,
	})
	if err != nil {
		return nil, err
	}
	e.api = benchkit.NewECSClient(e.Endpoint, "us-east-1")
	return e, nil
}

func (e *ecsd) addTask(arn string) {
	e.mu.Lock()
	e.open[arn] = true
	e.mu.Unlock()
}

func (e *ecsd) taskStopped(arn string) {
	e.mu.Lock()
	delete(e.open, arn)
	e.mu.Unlock()
}

// cleanup, before ecsd stops: DeleteService (force) and wait until the
// service is INACTIVE, StopTask the extra tasks not seen STOPPED.
func (e *ecsd) cleanup(ctx context.Context) {
	if e.api == nil {
		return
	}
	if e.hasService {
		if err := e.deleteService(ctx); err != nil {
			benchkit.AddNote("%s cleanup: %v", e.name, err)
		}
	}
	e.mu.Lock()
	var open []string
	for arn := range e.open {
		open = append(open, arn)
	}
	e.mu.Unlock()
	for _, arn := range open {
		if _, err := e.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(procCluster), Task: aws.String(arn), Reason: aws.String("bench/rollout cleanup")}); err != nil {
			benchkit.AddNote("%s cleanup: StopTask: %v", e.name, err)
		} else if err := e.waitTask(ctx, arn, ecsmodel.TaskStopped); err != nil {
			benchkit.AddNote("%s cleanup: %v", e.name, err)
		}
	}
}

// deleteService deletes the service with force and waits (bounded by ctx)
// until ecsd reports it INACTIVE, which it does once all its tasks stopped.
func (e *ecsd) deleteService(ctx context.Context) error {
	if _, err := e.api.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(procCluster), Service: aws.String(procService), Force: aws.Bool(true)}); err != nil {
		return fmt.Errorf("DeleteService: %w", err)
	}
	for {
		out, err := e.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(procCluster), Services: []string{procService}})
		if err != nil {
			return fmt.Errorf("DescribeServices after DeleteService: %w", err)
		}
		if len(out.Services) == 1 && aws.ToString(out.Services[0].Status) == ecsmodel.ServiceInactive {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("service not INACTIVE 60s after DeleteService")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuPercent is pid's CPU use (utime+stime) over d, in % of one core.
func cpuPercent(pid int, d time.Duration) (float64, error) {
	a, err := benchkit.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	b, err := benchkit.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	return 100 * float64(b.Ticks-a.Ticks) / benchkit.ClkTck / time.Since(t0).Seconds(), nil
}
