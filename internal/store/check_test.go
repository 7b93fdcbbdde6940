package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// damageable is a closed store of tasks and what a test needs to damage
// its file.
type damageable struct {
	dir, path string
	size      int64 // the file's size
	pages     int64 // the size its pages reach (bbolt's high-water mark)
	pageSize  int64
	tasksRoot int64 // the page of the tasks bucket's root
}

func newDamageable(t *testing.T, tasks int) damageable {
	t.Helper()
	d := damageable{dir: t.TempDir()}
	d.path = filepath.Join(d.dir, "ecsd.db")
	s, err := OpenWith(d.dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	putTasks(t, s, tasks)
	s.Close()
	db, err := bolt.Open(d.path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		d.pages = tx.Size()
		d.pageSize = int64(db.Info().PageSize)
		d.tasksRoot = int64(tx.Bucket([]byte(Tasks)).Root())
		return nil
	})
	db.Close()
	fi, err := os.Stat(d.path)
	if err != nil {
		t.Fatal(err)
	}
	d.size = fi.Size()
	if d.tasksRoot == 0 {
		t.Fatal("the tasks bucket is inline: store more tasks")
	}
	return d
}

// spoil overwrites the page header's flags of page id (bbolt's page
// header: id uint64, flags uint16, count uint16, overflow uint32) with a
// type bbolt does not know.
func spoil(t *testing.T, path string, pageSize, id int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint16(nil, 0xff00), id*pageSize+8); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesADamagedFile(t *testing.T) {
	d := newDamageable(t, 300)
	orig, err := os.ReadFile(d.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("file %d bytes, pages reach %d, page size %d", d.size, d.pages, d.pageSize)
	for _, c := range []struct {
		name   string
		size   int64 // truncate to this size
		spoil  bool  // or spoil the tasks bucket's root page
		reason string
	}{
		{name: "truncated to half its pages", size: d.pages / 2, reason: "it was truncated"},
		{name: "truncated in the middle of its last page", size: d.pages - d.pageSize/2, reason: "it was truncated"},
		{name: "truncated to its meta pages and a bit", size: 2*d.pageSize + 100, reason: "it was truncated"},
		{name: "truncated inside its first page", size: 100},
		{name: "truncated to nothing", size: 0, reason: "it is empty"},
		{name: "a page of an unknown type", size: d.size, spoil: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(d.path, orig[:c.size], 0o600); err != nil {
				t.Fatal(err)
			}
			if c.spoil {
				spoil(t, d.path, d.pageSize, d.tasksRoot)
			}
			s, err := OpenWith(d.dir, Options{NoSync: true})
			if err == nil {
				s.Close()
				t.Fatal("the damaged file opened")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("error %q is not ErrDamaged", err)
			}
			msg := err.Error()
			for _, want := range []string{d.path, "is damaged", c.reason, "move it aside (or restore it from a backup) and start again, or start with another --data-dir"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}

// A file longer than its pages (bbolt grows it ahead) loses nothing when
// the unused end is cut: it opens, every record intact.
func TestOpenAcceptsAFileCutAfterItsPages(t *testing.T) {
	d := newDamageable(t, 300)
	if d.size <= d.pages {
		t.Skipf("the file (%d bytes) has no unused end past its pages (%d)", d.size, d.pages)
	}
	if err := os.Truncate(d.path, d.pages); err != nil {
		t.Fatal(err)
	}
	s := open(t, d.dir)
	n := 0
	err := s.View(func(tx *Tx) error {
		return tx.Scan(Tasks, "", "", func(key string, raw []byte) error {
			var rec TaskRecord
			n++
			return tx.Decode(Tasks, key, raw, &rec)
		})
	})
	if err != nil || n != 300 {
		t.Errorf("read %d tasks (error %v), want 300", n, err)
	}
}

func scanTasks(s *Store) error {
	return s.View(func(tx *Tx) error {
		return tx.Scan(Tasks, "", "", func(key string, raw []byte) error {
			var rec TaskRecord
			return tx.Decode(Tasks, key, raw, &rec)
		})
	})
}

// A page damaged while ecsd runs makes bbolt panic in the request that
// reads it: the request gets an error, the process lives on.
func TestABboltPanicInATransactionIsAnError(t *testing.T) {
	d := newDamageable(t, 300)
	s := open(t, d.dir)
	spoil(t, d.path, d.pageSize, d.tasksRoot)

	err := scanTasks(s)
	var p *PanicError
	if !errors.As(err, &p) {
		t.Fatalf("View over a damaged page returned %v, want a *PanicError", err)
	}
	if !p.Damaged() || !strings.HasPrefix(p.Site, "go.etcd.io/bbolt") {
		t.Errorf("panic site %q (damaged %v), want a bbolt function", p.Site, p.Damaged())
	}
	if msg := err.Error(); !strings.Contains(msg, "unexpected type") || !strings.Contains(msg, "restart ecsd, which checks it") {
		t.Errorf("error %q does not give bbolt's reason and what to do", msg)
	}
	err = s.Update(func(tx *Tx) error {
		var rec TaskRecord
		_, err := tx.Get(Tasks, taskKey(1), &rec)
		return err
	})
	if !errors.As(err, &p) {
		t.Errorf("Update over a damaged page returned %v, want a *PanicError", err)
	}
	// Both transactions ended: the store still serves what is intact.
	put(t, s, Clusters, "us-east-1/default", "intact")
	if got, _ := get[string](t, s, Clusters, "us-east-1/default"); got != "intact" {
		t.Errorf("after the panics: read %q", got)
	}
}

// A file truncated under a running ecsd makes the next read past its end
// fault: the request gets an error instead of the process dying of SIGBUS.
func TestAFaultInATransactionIsAnError(t *testing.T) {
	d := newDamageable(t, 300)
	s := open(t, d.dir)
	if err := os.Truncate(d.path, 2*d.pageSize); err != nil {
		t.Fatal(err)
	}
	err := scanTasks(s)
	var p *PanicError
	if !errors.As(err, &p) {
		t.Fatalf("View over a truncated file returned %v, want a *PanicError", err)
	}
	if _, fault := p.Value.(interface{ Addr() uintptr }); !fault || !p.Damaged() {
		t.Errorf("error %q (damaged %v), want a memory fault in a damaged file", err, p.Damaged())
	}
}

func TestAPanicOfTheCallerIsAnErrorAndRollsBack(t *testing.T) {
	s := open(t, t.TempDir())
	var sub subscriber
	s.Subscribe(sub.fn)
	err := s.Update(func(tx *Tx) error {
		if err := tx.Put(Tasks, taskKey(1), taskRecord(1)); err != nil {
			return err
		}
		var m map[string]int
		m["x"] = 1 // a bug: assignment to a nil map
		return nil
	})
	var p *PanicError
	if !errors.As(err, &p) {
		t.Fatalf("Update whose fn panics returned %v, want a *PanicError", err)
	}
	if p.Damaged() || !strings.Contains(p.Site, "TestAPanicOfTheCallerIsAnErrorAndRollsBack") {
		t.Errorf("panic site %q (damaged %v), want the test's function, not damage", p.Site, p.Damaged())
	}
	if !strings.Contains(err.Error(), "assignment to entry in nil map") || !strings.Contains(err.Error(), "a bug in ecsd") {
		t.Errorf("error %q", err)
	}
	if _, found := get[TaskRecord](t, s, Tasks, taskKey(1)); found {
		t.Error("the Put before the panic is stored")
	}
	if len(sub.calls) != 0 {
		t.Errorf("subscriber called for a panicked Update: %+v", sub.calls)
	}
}
