package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The read cache: Decode in a View reuses the record decoded from the
// same bytes.

func cacheEntry(s *Store, b Bucket, key string) *cached {
	e, ok := s.cache.Load(string(b) + "\x00" + key)
	if !ok {
		return nil
	}
	return e.(*cached)
}

func TestRepeatedViewsOfUnchangedBytesReturnEqualRecords(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	first, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	if cacheEntry(s, Tasks, taskKey(1)) == nil {
		t.Fatal("a View read left nothing in the cache")
	}
	second, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	if !reflect.DeepEqual(first, taskRecord(1)) {
		t.Errorf("first read %+v, want %+v", first, taskRecord(1))
	}
	if !reflect.DeepEqual(second, first) {
		t.Errorf("second read %+v differs from the first %+v", second, first)
	}
}

// The rule Tx documents: records read in a View share memory with other
// readers' copies, so a View must not modify them in place.
func TestViewReadersShareMemory(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	a, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	b, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	if &a.Task.Containers[0] != &b.Task.Containers[0] {
		t.Error("two View reads of the same bytes do not share their slices: the cache is not used (or copies), update Tx's doc")
	}
	if a.Task.LastStatus != b.Task.LastStatus {
		t.Error("two View reads of the same bytes do not share their pointers: update Tx's doc")
	}
	// Assigning a member of one's own copy is fine: the other keeps its own.
	a.Task.LastStatus = aws.String("STOPPED")
	if aws.ToString(b.Task.LastStatus) != "RUNNING" {
		t.Errorf("assigning a member of one View's copy changed another's: %s", aws.ToString(b.Task.LastStatus))
	}
}

func TestAPutOfNewBytesIsSeenByTheNextView(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	get[TaskRecord](t, s, Tasks, taskKey(1))

	changed := taskRecord(1)
	changed.Task.LastStatus = aws.String("STOPPED")
	changed.Task.Containers[0].LastStatus = aws.String("STOPPED")
	put(t, s, Tasks, taskKey(1), changed)
	got, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	if !reflect.DeepEqual(got, changed) {
		t.Errorf("View after a Put: %+v\nwant %+v", got, changed)
	}
}

func TestDeleteEvictsTheCachedRecord(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	get[TaskRecord](t, s, Tasks, taskKey(1))
	if err := s.Update(func(tx *Tx) error { return tx.Delete(Tasks, taskKey(1)) }); err != nil {
		t.Fatal(err)
	}
	if cacheEntry(s, Tasks, taskKey(1)) != nil {
		t.Error("the deleted record is still cached")
	}
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(1)); found {
		t.Error("a View finds the deleted record")
	}
}

func TestARecordReadInAnUpdateIsPrivate(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	viewed, _ := get[TaskRecord](t, s, Tasks, taskKey(1)) // cached now

	err := s.Update(func(tx *Tx) error {
		var rec TaskRecord
		if _, err := tx.Get(Tasks, taskKey(1), &rec); err != nil {
			return err
		}
		if &rec.Task.Containers[0] == &viewed.Task.Containers[0] {
			t.Error("a record read in an Update shares its slices with the cache")
		}
		// Modify in place, then roll back: nothing may leak into the cache.
		rec.Task.Containers[0].Name = aws.String("changed")
		*rec.Task.LastStatus = "CHANGED"
		rec.Task.Tags[0].Value = aws.String("changed")
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	got, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
	if !reflect.DeepEqual(got, taskRecord(1)) {
		t.Errorf("View after an Update modified its copy in place:\n%+v\nwant\n%+v", got, taskRecord(1))
	}
}

func TestOneKeyDecodedAsTwoTypes(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, Tasks, taskKey(1), taskRecord(1))
	type statusOnly struct{ Task struct{ LastStatus string } }
	for range 2 {
		full, _ := get[TaskRecord](t, s, Tasks, taskKey(1))
		part, _ := get[statusOnly](t, s, Tasks, taskKey(1))
		if !reflect.DeepEqual(full, taskRecord(1)) {
			t.Errorf("full record %+v", full)
		}
		if part.Task.LastStatus != "RUNNING" {
			t.Errorf("partial record %+v", part)
		}
	}
}

var errRollback = errors.New("rollback")
