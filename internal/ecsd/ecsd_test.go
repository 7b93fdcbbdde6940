package ecsd_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/ecsd"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

var quiet = slog.New(slog.DiscardHandler)

func fakeDriver(clk clock.Clock) func(driver.Sink) (driver.Driver, error) {
	return func(sink driver.Sink) (driver.Driver, error) {
		return fake.New(clk, sink, fake.Options{Logger: quiet}), nil
	}
}

// New, Run and Close on a listener: the APIs answer real SDK clients
// behind the Guard, and Run returns nil once its context ends.
func TestRunServesTheAPIs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ecsd.New(ecsd.Config{DataDir: t.TempDir(), NoSync: true, Listener: ln, Driver: fakeDriver(clock.Real()), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	cfg := aws.Config{
		Region:       ecsd.DefaultRegion,
		BaseEndpoint: aws.String("http://" + s.Addr().String()),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	clusters, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatalf("ECS ListClusters: %v", err)
	}
	if len(clusters.ClusterArns) != 1 || !strings.HasSuffix(clusters.ClusterArns[0], ":"+ecsd.DefaultAccountID+":cluster/default") {
		t.Errorf("ListClusters: want the default cluster of the default account, got %v", clusters.ClusterArns)
	}
	if _, err := elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("ELBv2 DescribeLoadBalancers: %v", err)
	}

	unsigned, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(unsigned, "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
	reply, _ := io.ReadAll(unsigned)
	unsigned.Close()
	if !strings.Contains(string(reply), "MissingAuthenticationTokenException") {
		t.Errorf("an unsigned request: want the Guard's MissingAuthenticationTokenException, got %q", reply)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after its context ended: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A failed New says what it could not do and leaves nothing open: the
// data dir of a failed start opens again.
func TestNewFailsCleanly(t *testing.T) {
	if _, err := ecsd.New(ecsd.Config{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "Config.Driver is required") {
		t.Errorf("New without a driver: %v, want Config.Driver is required", err)
	}

	dir := t.TempDir()
	broken := errors.New("no engine")
	_, err := ecsd.New(ecsd.Config{DataDir: dir, NoSync: true, Logger: quiet, Driver: func(driver.Sink) (driver.Driver, error) { return nil, broken }})
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "cannot start the task runtime") {
		t.Errorf("New with a failing driver: %v, want cannot start the task runtime: no engine", err)
	}
	s, err := ecsd.New(ecsd.Config{DataDir: dir, NoSync: true, Logger: quiet, Driver: fakeDriver(clock.Real())})
	if err != nil {
		t.Fatalf("New on the data dir of a failed New: %v (the store was left open?)", err)
	}
	s.Close()
}

// Without a listener, Run runs the loops: a task started through the API
// gets RUNNING on the driver, with nobody calling Pass.
func TestRunWithoutListener(t *testing.T) {
	s, err := ecsd.New(ecsd.Config{DataDir: t.TempDir(), NoSync: true, Logger: quiet, Driver: fakeDriver(clock.Real())})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Addr() != nil {
		t.Errorf("Addr without a listener: %v, want nil", s.Addr())
	}
	changed := make(chan struct{}, 1)
	s.Store.Subscribe(func([]store.Change) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	call := func(op string, in, out any) {
		t.Helper()
		body, err := awsproto.EncodeJSON(in)
		if err == nil {
			body, err = s.ECS.Handle(ctx, ecsd.DefaultRegion, op, body)
		}
		if err == nil {
			err = awsproto.DecodeJSON(body, out, awsproto.DecodeOptions{})
		}
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	c := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("web:1"), Memory: aws.Int32(64)}
	call("RegisterTaskDefinition", &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{c}}, &ecs.RegisterTaskDefinitionOutput{})
	var run ecs.RunTaskOutput
	call("RunTask", &ecs.RunTaskInput{TaskDefinition: aws.String("web")}, &run)
	for {
		var tasks ecs.DescribeTasksOutput
		call("DescribeTasks", &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(run.Tasks[0].TaskArn)}}, &tasks)
		if aws.ToString(tasks.Tasks[0].LastStatus) == ecsmodel.TaskRunning {
			break
		}
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("the task is %s, not RUNNING, and nothing changes: are the loops running?", aws.ToString(tasks.Tasks[0].LastStatus))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
