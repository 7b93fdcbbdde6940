package store

import (
	"encoding/json"
	"testing"
	"time"
)

// A service record as ecsd wrote it while the scheduler memory was
// rollout.Memory: the store's own SchedulerMemory reads it unchanged and
// writes the same JSON back, so existing data dirs need no migration.
func TestServiceRecordSchedulerJSONUnchanged(t *testing.T) {
	const stored = `{"Service":{"ServiceName":"web"},"Scheduler":{` +
		`"LastCompleted":{"ID":"ecs-svc/1","TaskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:1","DesiredCount":4,"ContainerHealthCheck":true,"LoadBalanced":false},` +
		`"Backoff":{"DeploymentID":"ecs-svc/2","Level":2,"Since":"2026-01-02T03:04:05Z","Until":"2026-01-02T03:04:15Z"},` +
		`"Deadlocked":false,"Steady":true}}`
	var rec ServiceRecord
	if err := json.Unmarshal([]byte(stored), &rec); err != nil {
		t.Fatal(err)
	}
	m := rec.Scheduler
	if m.LastCompleted == nil {
		t.Fatal("LastCompleted was not read")
	}
	check := func(name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s read wrong: %+v", name, m)
		}
	}
	check("LastCompleted.ID", m.LastCompleted.ID == "ecs-svc/1")
	check("LastCompleted.DesiredCount", m.LastCompleted.DesiredCount == 4)
	check("LastCompleted.ContainerHealthCheck", m.LastCompleted.ContainerHealthCheck)
	check("Backoff.Level", m.Backoff.Level == 2)
	check("Backoff.Until", m.Backoff.Until.Equal(time.Date(2026, 1, 2, 3, 4, 15, 0, time.UTC)))
	check("Steady", m.Steady)

	var before, after map[string]any
	json.Unmarshal([]byte(stored), &before)
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(out, &after)
	b, _ := json.Marshal(before["Scheduler"])
	a, _ := json.Marshal(after["Scheduler"])
	if string(a) != string(b) {
		t.Errorf("Scheduler JSON changed on a round trip:\n was %s\n now %s", b, a)
	}
	if _, ok := after["ClientToken"]; ok {
		t.Error("an empty ClientToken is written")
	}
}
