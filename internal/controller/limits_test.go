package controller_test

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// lockedBuffer is a log destination the driver's and runner's goroutines
// may write while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Issue 11: a service record with desiredCount 2147483647 (maximumPercent
// 100, minimumHealthyPercent 0), as an older ecsd stored it, crash-looped
// ecsd out of memory at every start. The scheduler now caps it at the
// tasks-per-service limit, says so in a log line and a service event, and
// UpdateService fixes it.
func TestStoredDesiredCountAboveLimit(t *testing.T) {
	logs := &lockedBuffer{}
	w := newWorldWith(t, rollout.Params{MaxTasksPerService: 3}, logs)
	v1 := w.register("web:1")
	var created ecs.CreateServiceOutput
	w.must("CreateService", &ecs.CreateServiceInput{
		ServiceName: aws.String("web"), TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(1),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)},
	}, &created)
	w.run(45*time.Second, 5*time.Second)

	// What an older ecsd wrote for create-service --desired-count 2147483647.
	key := store.Key("us-east-1", "default", "web")
	if err := w.store.Update(func(tx *store.Tx) error {
		var rec store.ServiceRecord
		if _, err := tx.Get(store.Services, key, &rec); err != nil {
			return err
		}
		rec.Service.DesiredCount = math.MaxInt32
		rec.Service.Deployments[0].DesiredCount = math.MaxInt32
		return tx.Put(store.Services, key, rec)
	}); err != nil {
		t.Fatal(err)
	}

	w.run(45*time.Second, 5*time.Second)
	s := w.service()
	equal(t, "tasks running", w.machine.Tasks(), 3)
	equal(t, "service runningCount", s.RunningCount, 3)
	equal(t, "service desiredCount (as stored, for the API to fix)", s.DesiredCount, math.MaxInt32)
	equal(t, "PRIMARY deployment's desiredCount", s.Deployments[0].DesiredCount, 3)
	event := "(service web) desiredCount 2147483647 is above the limit of 3 tasks per service: the scheduler runs at most 3. Lower desiredCount with UpdateService."
	inOrder(t, messages(s), event)
	holds(t, "one log line naming the flag", strings.Count(logs.String(), "--max-tasks-per-service") == 1)

	var updated ecs.UpdateServiceOutput
	w.must("UpdateService", &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)}, &updated)
	w.run(45*time.Second, 5*time.Second)
	s = w.service()
	equal(t, "tasks running once fixed", w.machine.Tasks(), 2)
	equal(t, "service desiredCount once fixed", s.DesiredCount, 2)
	holds(t, "stable once fixed", stable(s))
}
