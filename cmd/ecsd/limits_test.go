package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsdproc"
	"github.com/ecsd/ecsd/internal/store"
)

// Issue 11: a service stored with desiredCount 2147483647 (maximumPercent
// 100, minimumHealthyPercent 0) by an older ecsd made every start run out
// of memory. ecsd now starts, caps the service at --max-tasks-per-service
// (here from ECSD_MAX_TASKS_PER_SERVICE), logs it, and the API fixes it.
func TestStartsWithStoredDesiredCountAboveLimit(t *testing.T) {
	t.Setenv("ECSD_MAX_TASKS_PER_SERVICE", "4")
	p := startECSD(t, ecsdproc.Options{})
	dir := p.DataDir
	c := p.client()
	ctx := context.Background()
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img"), Memory: aws.Int32(64)}},
	}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)}})
	if err == nil || !strings.Contains(err.Error(), "Desired count exceeds limit.") {
		t.Fatalf("desiredCount 5 with a limit of 4: got %v, want Desired count exceeds limit.", err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)}}); err != nil {
		t.Fatal(err)
	}
	p.Kill()

	// What an older ecsd stored for create-service --desired-count 2147483647.
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := store.Key("us-east-1", "default", "web")
	err = st.Update(func(tx *store.Tx) error {
		var rec store.ServiceRecord
		if _, err := tx.Get(store.Services, key, &rec); err != nil {
			return err
		}
		rec.Service.DesiredCount = math.MaxInt32
		rec.Service.Deployments[0].DesiredCount = math.MaxInt32
		return tx.Put(store.Services, key, rec)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	p.restart(t)
	c = p.client()
	s := waitService(t, p, "4 tasks running (the limit)", func(s types.Service) bool { return s.RunningCount == 4 })
	if !strings.Contains(p.Logs(), "--max-tasks-per-service") {
		t.Errorf("no log line about the limit:\n%s", p.Logs())
	}
	found := false
	for _, e := range s.Events {
		found = found || strings.Contains(aws.ToString(e.Message), "is above the limit of 4 tasks per service")
	}
	if !found {
		t.Errorf("no service event about the limit: %+v", s.Events)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitService(t, p, "2 tasks once lowered", func(s types.Service) bool { return s.RunningCount == 2 && s.PendingCount == 0 })
}

// waitService polls the service "web" until cond holds (a child process
// is being watched; the deadline only bounds a broken run).
func waitService(t *testing.T, p ecsdProcess, what string, cond func(types.Service) bool) types.Service {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := describeService(t, p)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: service %+v\n%s", what, s, p.Logs())
		}
		time.Sleep(50 * time.Millisecond) // polling a child process
	}
}

func TestMaxTasksFlagRange(t *testing.T) {
	for _, v := range []string{"0", "-1", "2147483648"} {
		var out, errOut strings.Builder
		if code := run([]string{"server", "--data-dir", t.TempDir(), "--max-tasks-per-service", v}, &out, &errOut); code != 2 {
			t.Errorf("--max-tasks-per-service %s: exit %d, want 2 (%s)", v, code, errOut.String())
		}
	}
}
