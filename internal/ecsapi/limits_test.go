package ecsapi_test

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/store"
)

// Issue 11: desiredCount 2147483647 with maximumPercent 100 and
// minimumHealthyPercent 0 was accepted (and crash-looped ecsd). ECS refuses
// a desiredCount above its tasks-per-service quota with
// "InvalidParameterException: Desired count exceeds limit."; so does ecsd,
// at its --max-tasks-per-service (default 5,000).
func TestDesiredCountLimit(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	before := e.snapshot()
	_, err := e.client.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(math.MaxInt32),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)},
	})
	wantError(t, err, "InvalidParameterException")
	if !strings.Contains(err.Error(), "Desired count exceeds limit.") || !strings.Contains(err.Error(), "5000") {
		t.Errorf("message %q: want ECS's text and the limit", err)
	}
	_, err = e.client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5001)})
	wantError(t, err, "InvalidParameterException")
	if e.snapshot() != before {
		t.Fatal("a refused create changed the store")
	}

	// The limit itself is fine, with any maximumPercent from 100 up.
	s := must[*ecs.CreateServiceOutput](t)(e.client.CreateService(ctx, &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5000),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(math.MaxInt32)},
	})).Service
	if s.DesiredCount != 5000 {
		t.Errorf("desiredCount = %d, want 5000", s.DesiredCount)
	}
	if got := aws.ToInt32(s.DeploymentConfiguration.MaximumPercent); got != math.MaxInt32 {
		t.Errorf("maximumPercent = %d, want %d", got, math.MaxInt32)
	}
	before = e.snapshot()
	_, err = e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(5001)})
	wantError(t, err, "InvalidParameterException")
	if e.snapshot() != before {
		t.Fatal("a refused update changed the store")
	}
}

// A service stored by an older ecsd with a desiredCount above the limit
// can be fixed through the API: an update that leaves the count too high
// is refused with the reason, one that lowers it is accepted.
func TestStoredDesiredCountAboveLimitCanBeFixed(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	createService(t, e, "web", "web", 2)
	key := store.Key("us-east-1", "default", "web")
	if err := e.store.Update(func(tx *store.Tx) error {
		var rec store.ServiceRecord
		if _, err := tx.Get(store.Services, key, &rec); err != nil {
			return err
		}
		rec.Service.DesiredCount = math.MaxInt32
		return tx.Put(store.Services, key, rec)
	}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), HealthCheckGracePeriodSeconds: aws.Int32(10)})
	wantError(t, err, "InvalidParameterException")
	s := must[*ecs.UpdateServiceOutput](t)(e.client.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(3)})).Service
	if s.DesiredCount != 3 {
		t.Errorf("desiredCount = %d, want 3", s.DesiredCount)
	}
	if s.Deployments[0].DesiredCount != 3 {
		t.Errorf("PRIMARY deployment's desiredCount = %d, want 3", s.Deployments[0].DesiredCount)
	}
}

// ECS honours clientToken: a CreateService retried with the same token
// and the same parameters (an SDK retry after a dropped connection)
// answers the service it created; anything else for an existing service is
// "not idempotent".
func TestCreateServiceClientToken(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	in := func(token string, desired int32) *ecs.CreateServiceInput {
		return &ecs.CreateServiceInput{
			ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(desired),
			ClientToken: aws.String(token),
		}
	}
	first := must[*ecs.CreateServiceOutput](t)(e.client.CreateService(ctx, in("tok-1", 2))).Service
	before := e.snapshot()

	retry := must[*ecs.CreateServiceOutput](t)(e.client.CreateService(ctx, in("tok-1", 2))).Service
	if got, want := aws.ToString(retry.ServiceArn), aws.ToString(first.ServiceArn); got != want {
		t.Errorf("retry answered service %s, want %s", got, want)
	}
	if got, want := aws.ToString(retry.Deployments[0].Id), aws.ToString(first.Deployments[0].Id); got != want {
		t.Errorf("retry answered deployment %s, want the first one %s", got, want)
	}
	if e.snapshot() != before {
		t.Error("a retry changed the store (a second deployment or service deployment?)")
	}

	for _, tc := range []struct {
		name string
		in   *ecs.CreateServiceInput
	}{
		{"same token, other parameters", in("tok-1", 3)},
		{"another token", in("tok-2", 2)},
		{"no token", &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)}},
	} {
		_, err := e.client.CreateService(ctx, tc.in)
		if errorType(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "Creation of service was not idempotent.") {
			t.Errorf("%s: got %v, want InvalidParameterException: Creation of service was not idempotent.", tc.name, err)
		}
	}
	if e.snapshot() != before {
		t.Error("refused creates changed the store")
	}

	_, err := e.client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("api"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
		ClientToken: aws.String(strings.Repeat("x", 37))})
	wantError(t, err, "InvalidParameterException")
}

// Issue 11: memory -1 was accepted and run. RegisterTaskDefinition refuses
// the cpu and memory values ECS refuses, with ECS's messages, and changes
// nothing.
func TestTaskDefinitionSizes(t *testing.T) {
	e := newEnv(t)
	container := func(mutate func(*types.ContainerDefinition)) *ecs.RegisterTaskDefinitionInput {
		c := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String("img"), Memory: aws.Int32(128)}
		mutate(&c)
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{c}}
	}
	task := func(cpu, memory string) *ecs.RegisterTaskDefinitionInput {
		in := container(func(*types.ContainerDefinition) {})
		if cpu != "" {
			in.Cpu = aws.String(cpu)
		}
		if memory != "" {
			in.Memory = aws.String(memory)
		}
		return in
	}
	before := e.snapshot()
	for _, tc := range []struct {
		name string
		in   *ecs.RegisterTaskDefinitionInput
		want string
	}{
		{"container memory -1", container(func(c *types.ContainerDefinition) { c.Memory = aws.Int32(-1) }), "Invalid 'memory' setting for container 'app'."},
		{"container memory 0", container(func(c *types.ContainerDefinition) { c.Memory = aws.Int32(0) }), "Invalid 'memory' setting for container 'app'."},
		{"container memoryReservation -5", container(func(c *types.ContainerDefinition) { c.MemoryReservation = aws.Int32(-5) }), "Invalid 'memoryReservation' setting for container 'app'."},
		{"container cpu -1", container(func(c *types.ContainerDefinition) { c.Cpu = -1 }), "Invalid 'cpu' setting for container 'app'."},
		{"task cpu -256", task("-256", ""), "Invalid 'cpu' setting for task."},
		{"task cpu 0", task("0", ""), "Invalid 'cpu' setting for task."},
		{"task cpu words", task("lots", ""), "Invalid 'cpu' setting for task."},
		{"task memory -1", task("", "-1"), "Invalid 'memory' setting for task."},
		{"task memory 0 GB", task("", "0 GB"), "Invalid 'memory' setting for task."},
	} {
		_, err := e.client.RegisterTaskDefinition(ctx, tc.in)
		if got := errorType(err); got != "ClientException" {
			t.Errorf("%s: got %s (%v), want ClientException", tc.name, got, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: message %q, want %q", tc.name, err, tc.want)
		}
	}
	if e.snapshot() != before {
		t.Fatal("refused registrations changed the store")
	}
	// What ECS accepts: cpu 0 (no reservation), task sizes in units or
	// in vCPU / GB.
	for _, in := range []*ecs.RegisterTaskDefinitionInput{
		container(func(c *types.ContainerDefinition) { c.Cpu = 0 }),
		task("256", "512"),
		task("1 vCPU", "2 GB"),
		task("0.5 vcpu", "1GB"),
	} {
		if _, err := e.client.RegisterTaskDefinition(ctx, in); err != nil {
			t.Errorf("cpu %q memory %q: %v", aws.ToString(in.Cpu), aws.ToString(in.Memory), err)
		}
	}
}
