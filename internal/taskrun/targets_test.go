package taskrun_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
)

const tgARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"

// targetsLog is a load balancer that records calls; drains end when the
// test closes them. Deregistering a target whose drain is still open gives
// that drain, as lbrun does (also after a restart).
type targetsLog struct {
	mu      sync.Mutex
	calls   []string
	drains  map[string]chan struct{}
	failReg error
}

func (l *targetsLog) RegisterTarget(tg string, port int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("register %s %d", tg, port))
	return l.failReg
}

func (l *targetsLog) DeregisterTarget(tg string, port int) (<-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("deregister %s %d", tg, port))
	if ch, ok := l.drains[fmt.Sprint(port)]; ok {
		select {
		case <-ch:
		default:
			return ch, nil
		}
	}
	ch := make(chan struct{})
	l.drains[fmt.Sprint(port)] = ch
	return ch, nil
}

// drain returns the drain of the target at port.
func (l *targetsLog) drain(port int32) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.drains[fmt.Sprint(port)]
}

func (l *targetsLog) log() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// loadBalanced starts a service-like task with a load balancer on
// container port 8080.
func loadBalanced(t *testing.T, lb *targetsLog, b fake.Behavior) (*harness, string) {
	h := &harness{}
	*h = *newHarness(t)
	h.targets = lb
	h.attach()
	h.register("web", types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("web:1"), StopTimeout: aws.Int32(10),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
	})
	h.machine.SetImage("web:1", b)
	arn := h.run("web")
	key := "us-east-1/default/" + arn[strings.LastIndexByte(arn, '/')+1:]
	err := h.store.Update(func(tx *store.Tx) error {
		var rec store.TaskRecord
		if _, err := tx.Get(store.Tasks, key, &rec); err != nil {
			return err
		}
		rec.Task.Group = aws.String("service:web")
		rec.Task.StartedBy = aws.String("ecs-svc/0000000000000000001")
		rec.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
		return tx.Put(store.Tasks, key, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, arn
}

func hostPort(t *testing.T, task types.Task) int32 {
	t.Helper()
	b := task.Containers[0].NetworkBindings
	if len(b) != 1 || aws.ToInt32(b[0].HostPort) == 0 {
		t.Fatalf("bindings %+v", b)
	}
	return aws.ToInt32(b[0].HostPort)
}

func TestLoadBalancedTaskRegistersThenDrainsBeforeStop(t *testing.T) {
	lb := &targetsLog{drains: map[string]chan struct{}{}}
	h, arn := loadBalanced(t, lb, fake.Behavior{})
	h.settle()
	task := h.task(arn)
	port := hostPort(t, task)
	if got := status(task); got != "RUNNING/RUNNING" {
		t.Fatalf("status %s", got)
	}
	if want := []string{fmt.Sprintf("register %s %d", tgARN, port)}; !slices.Equal(lb.log(), want) {
		t.Fatalf("calls %q want %q", lb.log(), want)
	}

	h.stop(arn)
	h.settle()
	if got := status(h.task(arn)); got != "DEACTIVATING/STOPPED" {
		t.Fatalf("while draining: %s (the stop must wait for the drain)", got)
	}
	if h.machine.Tasks() == 0 {
		t.Fatal("the task was signalled before its drain ended")
	}
	close(lb.drains[fmt.Sprint(port)])
	for i := 0; i < 100 && status(h.task(arn)) != "STOPPED/STOPPED"; i++ {
		time.Sleep(time.Millisecond) // the drain's end arrives on another goroutine
		h.settle()
		h.advance(10 * time.Second)
		h.settle()
	}
	if got := status(h.task(arn)); got != "STOPPED/STOPPED" {
		t.Fatalf("after the drain: %s", got)
	}
	want := []string{
		"(service web) registered 1 targets in (target-group " + tgARN + ")",
		"(service web) deregistered 1 targets in (target-group " + tgARN + ")",
		"(service web, taskSet ecs-svc/0000000000000000001) has begun draining connections on 1 tasks.",
	}
	if !slices.Equal(h.events, want) {
		t.Errorf("events %q\nwant %q", h.events, want)
	}
	if calls := lb.log(); len(calls) != 2 || !strings.HasPrefix(calls[1], "deregister") {
		t.Errorf("calls %q", calls)
	}
}

func TestCrashedTaskIsDeregistered(t *testing.T) {
	lb := &targetsLog{drains: map[string]chan struct{}{}}
	h, arn := loadBalanced(t, lb, fake.Behavior{Exit: true, ExitAfter: 5 * time.Second, ExitCode: 1})
	h.settle()
	port := hostPort(t, h.task(arn))
	h.advance(5 * time.Second)
	for i := 0; i < 100 && status(h.task(arn)) != "STOPPED/STOPPED"; i++ {
		h.settle()
		if ch, ok := lb.drains[fmt.Sprint(port)]; ok {
			select {
			case <-ch:
			default:
				close(ch) // nothing is in flight to a dead task
			}
		}
		time.Sleep(time.Millisecond)
		h.advance(10 * time.Second)
	}
	if got := status(h.task(arn)); got != "STOPPED/STOPPED" {
		t.Fatalf("status %s", got)
	}
	if calls := lb.log(); !slices.Contains(calls, fmt.Sprintf("deregister %s %d", tgARN, port)) {
		t.Errorf("calls %q", calls)
	}
}

func TestRegistrationFailureStopsTheTask(t *testing.T) {
	lb := &targetsLog{drains: map[string]chan struct{}{}, failReg: errors.New("target group not found")}
	h, arn := loadBalanced(t, lb, fake.Behavior{})
	h.settle()
	task := h.task(arn)
	if aws.ToString(task.DesiredStatus) != ecsmodel.TaskStopped || !strings.HasPrefix(aws.ToString(task.StoppedReason), taskrun.ReasonRegistrationFailed) ||
		!strings.Contains(aws.ToString(task.StoppedReason), "target group not found") {
		t.Fatalf("task %s reason %q", status(task), aws.ToString(task.StoppedReason))
	}
}

// A task DEACTIVATING when ecsd restarts waits for its drain after the
// restart too (the load balancer resumes it until its stored deadline);
// its stop proceeds only when the drain ends.
func TestDrainSurvivesRestart(t *testing.T) {
	lb := &targetsLog{drains: map[string]chan struct{}{}}
	h, arn := loadBalanced(t, lb, fake.Behavior{})
	h.settle()
	port := hostPort(t, h.task(arn))
	h.stop(arn)
	h.settle()
	if got := status(h.task(arn)); got != "DEACTIVATING/STOPPED" {
		t.Fatalf("while draining: %s", got)
	}

	// ecsd goes away and comes back; the drain goes on.
	h.driver.Close()
	h.attach()
	if err := h.runner.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.advance(10 * time.Second)
	h.settle()
	if got := status(h.task(arn)); got != "DEACTIVATING/STOPPED" {
		t.Fatalf("after the restart, with the drain still going: %s, want DEACTIVATING (the stop waits for the drain)", got)
	}
	if h.machine.Tasks() == 0 {
		t.Fatal("the task was signalled before its drain ended")
	}
	close(lb.drain(port))
	for i := 0; i < 100 && status(h.task(arn)) != "STOPPED/STOPPED"; i++ {
		time.Sleep(time.Millisecond) // the drain's end arrives on another goroutine
		h.settle()
		h.advance(10 * time.Second)
		h.settle()
	}
	if got := status(h.task(arn)); got != "STOPPED/STOPPED" {
		t.Fatalf("after the drain: %s", got)
	}
}
