package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	bolt "go.etcd.io/bbolt"
)

// open opens a store in dir without fsync, closed when the test ends.
func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := OpenWith(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// taskRecord is a running service task as the task runner stores it.
func taskRecord(i int) TaskRecord {
	arn := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/default/%032x", i)
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return TaskRecord{
		Task: types.Task{
			TaskArn: aws.String(arn), ClusterArn: aws.String("arn:aws:ecs:us-east-1:123456789012:cluster/default"),
			TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"),
			LastStatus:        aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"), Group: aws.String("service:web"),
			StartedBy: aws.String("ecs-svc/1234567890123456789"), CreatedAt: &at, StartedAt: &at,
			Cpu: aws.String("256"), Memory: aws.String("512"), LaunchType: types.LaunchTypeEc2,
			Containers: []types.Container{{
				Name: aws.String("app"), ContainerArn: aws.String(arn + "/app"), Image: aws.String("web:1"), LastStatus: aws.String("RUNNING"),
				NetworkBindings: []types.NetworkBinding{{BindIP: aws.String("127.0.0.1"), ContainerPort: aws.Int32(8080), HostPort: aws.Int32(32768)}},
			}},
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
		},
		LoadBalancers: []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
	}
}

func taskKey(i int) string { return Key("us-east-1", "default", fmt.Sprintf("%08d", i)) }

// putTasks stores tasks 0..n-1, 1,000 per transaction.
func putTasks(t testing.TB, s *Store, n int) {
	t.Helper()
	for lo := 0; lo < n; lo += 1000 {
		err := s.Update(func(tx *Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				if err := tx.Put(Tasks, taskKey(i), taskRecord(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func get[T any](t *testing.T, s *Store, b Bucket, key string) (T, bool) {
	t.Helper()
	var v T
	var found bool
	err := s.View(func(tx *Tx) (err error) {
		found, err = tx.Get(b, key, &v)
		return err
	})
	if err != nil {
		t.Fatalf("get %s %s: %v", b, key, err)
	}
	return v, found
}

func put(t *testing.T, s *Store, b Bucket, key string, v any) {
	t.Helper()
	if err := s.Update(func(tx *Tx) error { return tx.Put(b, key, v) }); err != nil {
		t.Fatalf("put %s %s: %v", b, key, err)
	}
}

func TestOpenCreatesTheDataDirAndReopensIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	s, err := OpenWith(dir, Options{NoSync: true})
	if err != nil {
		t.Fatalf("opening a new dir: %v", err)
	}
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	got, found := get[TaskRecord](t, s, Tasks, taskKey(1))
	if !found {
		t.Fatal("the record written before the reopen is gone")
	}
	if !reflect.DeepEqual(got, taskRecord(1)) {
		t.Errorf("record after the reopen:\n%+v\nwant\n%+v", got, taskRecord(1))
	}
}

func TestOpenRecordsTheSchemaVersion(t *testing.T) {
	s := open(t, t.TempDir())
	var raw string
	s.db.View(func(tx *bolt.Tx) error {
		raw = string(tx.Bucket([]byte(meta)).Get([]byte("schema")))
		return nil
	})
	if want := fmt.Sprint(SchemaVersion); raw != want {
		t.Errorf("schema version %q, want %q", raw, want)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(meta)).Put([]byte("schema"), []byte(fmt.Sprint(SchemaVersion+1)))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = OpenWith(dir, Options{NoSync: true})
	want := fmt.Sprintf("the data dir was written by a newer ecsd (schema %d, this ecsd knows %d); use that ecsd or a new --data-dir", SchemaVersion+1, SchemaVersion)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("opening a newer schema: %v\nwant an error saying %q", err, want)
	}
}

func TestSecondOpenOfADataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	// lockWait of 1ns: bbolt tries the lock once and gives up.
	_, err := OpenWith(dir, Options{NoSync: true, lockWait: time.Nanosecond})
	want := fmt.Sprintf("data dir %s is in use by another ecsd; stop it or choose another --data-dir", dir)
	if err == nil || err.Error() != want {
		t.Fatalf("second open: %v\nwant %q", err, want)
	}
	s.Close()
	s2, err := OpenWith(dir, Options{NoSync: true, lockWait: time.Nanosecond})
	if err != nil {
		t.Fatalf("open after the first store closed: %v", err)
	}
	s2.Close()
}

func TestNoSyncOption(t *testing.T) {
	if s := open(t, t.TempDir()); !s.db.NoSync {
		t.Error("OpenWith(NoSync: true): bbolt still fsyncs")
	}
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.db.NoSync {
		t.Error("Open: bbolt does not fsync")
	}
}

func TestGetPutDelete(t *testing.T) {
	s := open(t, t.TempDir())
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(1)); found {
		t.Fatal("found a record in a new store")
	}
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	if got, found := get[TaskRecord](t, s, Tasks, taskKey(1)); !found || !reflect.DeepEqual(got, taskRecord(1)) {
		t.Fatalf("after Put: found %v, record %+v", found, got)
	}
	if _, found := get[TaskRecord](t, s, Services, taskKey(1)); found {
		t.Error("a task key is found in the services bucket")
	}

	err := s.Update(func(tx *Tx) error { return tx.Delete(Tasks, taskKey(1)) })
	if err != nil {
		t.Fatal(err)
	}
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(1)); found {
		t.Error("found after Delete")
	}
	err = s.Update(func(tx *Tx) error { return tx.Delete(Tasks, taskKey(1)) })
	if err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
}

func TestGetOfAnUndecodableRecordNamesIt(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Families, "us-east-1/web", "not a family record")
	err := s.View(func(tx *Tx) error {
		var f FamilyRecord
		_, err := tx.Get(Families, "us-east-1/web", &f)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "decoding families us-east-1/web") {
		t.Errorf("decoding a bad record: %v, want an error naming bucket and key", err)
	}
}

func TestScan(t *testing.T) {
	s := open(t, t.TempDir())
	keys := []string{"a/1", "a/2", "a/3", "a1/x", "b/1"}
	for _, k := range keys {
		put(t, s, Clusters, k, k)
	}
	scan := func(prefix, after string, stopAt string) []string {
		t.Helper()
		var got []string
		err := s.View(func(tx *Tx) error {
			return tx.Scan(Clusters, prefix, after, func(key string, raw []byte) error {
				var v string
				if err := tx.Decode(Clusters, key, raw, &v); err != nil {
					return err
				}
				if v != key {
					return fmt.Errorf("key %s holds %q", key, v)
				}
				got = append(got, key)
				if key == stopAt {
					return ErrStop
				}
				return nil
			})
		})
		if err != nil {
			t.Fatalf("scan %q after %q: %v", prefix, after, err)
		}
		return got
	}
	for _, c := range []struct {
		name, prefix, after, stopAt string
		want                        []string
	}{
		{name: "everything", want: keys},
		{name: "a prefix", prefix: "a/", want: []string{"a/1", "a/2", "a/3"}},
		{name: "a prefix that is no key's", prefix: "c/", want: nil},
		{name: "after a key", prefix: "a/", after: "a/1", want: []string{"a/2", "a/3"}},
		{name: "after a missing key", prefix: "a/", after: "a/15", want: []string{"a/2", "a/3"}},
		{name: "after the last key", prefix: "a/", after: "a/3", want: nil},
		{name: "after a key before the prefix", prefix: "b/", after: "a/2", want: []string{"b/1"}},
		{name: "ErrStop ends it without error", stopAt: "a/2", want: []string{"a/1", "a/2"}},
	} {
		if got := scan(c.prefix, c.after, c.stopAt); !slices.Equal(got, c.want) {
			t.Errorf("%s: scan(%q, after %q) = %q, want %q", c.name, c.prefix, c.after, got, c.want)
		}
	}

	boom := errors.New("boom")
	err := s.View(func(tx *Tx) error {
		return tx.Scan(Clusters, "", "", func(string, []byte) error { return boom })
	})
	if !errors.Is(err, boom) {
		t.Errorf("an error from fn: Scan returned %v, want it passed on", err)
	}
}

// subscriber records what the store tells it.
type subscriber struct{ calls [][]Change }

func (s *subscriber) fn(c []Change) { s.calls = append(s.calls, slices.Clone(c)) }

func TestUpdateRolledBackWritesNothingAndNotifiesNoOne(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(2), taskRecord(2))
	var sub subscriber
	s.Subscribe(sub.fn)

	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.Put(Tasks, taskKey(1), taskRecord(1)); err != nil {
			return err
		}
		if err := tx.Delete(Tasks, taskKey(2)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(1)); found {
		t.Error("a Put of a rolled-back Update is stored")
	}
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(2)); !found {
		t.Error("a Delete of a rolled-back Update took effect")
	}
	if len(sub.calls) != 0 {
		t.Errorf("subscriber called for a rolled-back Update: %+v", sub.calls)
	}
}

func TestSubscribersLearnTheChangedKeysAfterCommit(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Services, "us-east-1/default/old", "old")
	var sub subscriber
	var seen []bool // whether each change was visible to a View when the subscriber ran
	s.Subscribe(sub.fn)
	s.Subscribe(func(changes []Change) {
		for _, c := range changes {
			_, found := get[string](t, s, c.Bucket, c.Key)
			seen = append(seen, found != c.Deleted)
		}
	})

	err := s.Update(func(tx *Tx) error {
		if err := tx.Put(Services, "us-east-1/default/new", "new"); err != nil {
			return err
		}
		return tx.Delete(Services, "us-east-1/default/old")
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Change{{
		{Bucket: Services, Key: "us-east-1/default/new"},
		{Bucket: Services, Key: "us-east-1/default/old", Deleted: true},
	}}
	if !reflect.DeepEqual(sub.calls, want) {
		t.Errorf("subscriber got %+v, want %+v", sub.calls, want)
	}
	if !slices.Equal(seen, []bool{true, true}) {
		t.Errorf("changes visible to a View from the subscriber: %v, want every one (subscribers run after the commit)", seen)
	}

	sub.calls = nil
	if err := s.Update(func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sub.calls) != 0 {
		t.Errorf("subscriber called for an Update that wrote nothing or a View: %+v", sub.calls)
	}
}

func TestEach(t *testing.T) {
	s := open(t, t.TempDir())
	putTasks(t, s, 5)
	put(t, s, Tasks, "us-west-2/default/x", taskRecord(99))
	var keys []string
	var recs []*TaskRecord
	err := s.View(func(tx *Tx) error {
		return Each(tx, Tasks, Prefix("us-east-1", "default"), func(key string, rec *TaskRecord) error {
			keys = append(keys, key)
			recs = append(recs, rec)
			if len(keys) == 4 {
				return ErrStop
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{taskKey(0), taskKey(1), taskKey(2), taskKey(3)}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q (the prefix's, in order, up to ErrStop)", keys, want)
	}
	for i, rec := range recs {
		if !reflect.DeepEqual(*rec, taskRecord(i)) {
			t.Errorf("record %d (kept after its call) is %+v, want %+v", i, *rec, taskRecord(i))
		}
	}

	put(t, s, Tasks, taskKey(5), "not a task")
	err = s.View(func(tx *Tx) error {
		return Each(tx, Tasks, "", func(string, *TaskRecord) error { return nil })
	})
	if err == nil || !strings.Contains(err.Error(), "decoding tasks "+taskKey(5)) {
		t.Errorf("an undecodable record: %v, want an error naming it", err)
	}
}
