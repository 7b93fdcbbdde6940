package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// check looks at an existing database file before it is opened for
// writing, and says what is wrong with it (wrapping ErrDamaged), or
// bolt.ErrTimeout when another process holds it. bbolt itself would open a
// truncated file and then fault on the first page past its end (or, for a
// write, while loading the free list in bolt.Open), and panic on a corrupt
// page in whichever request reads it.
//
// It opens the file read-only (which reads only the meta pages), compares
// the file's size with the size its meta page says it has, reads every
// record's page with memory faults turned into errors, and runs bbolt's
// consistency check (tx.Check). On a store of 10,000 tasks (a 27 MB file)
// the whole check takes about 45 ms on the 2-core dev machine, most of it
// paging the file in, which the first requests would do anyway
// (BenchmarkOpenCheck).
func check(path string, lockWait time.Duration) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: it is empty (0 bytes), while ecsd writes its first pages when it creates it", ErrDamaged)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockWait})
	if errors.Is(err, bolt.ErrTimeout) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	defer db.Close()
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			if size := tx.Size(); fi.Size() < size {
				return fmt.Errorf("%w: it is %d bytes but its pages reach %d bytes: it was truncated", ErrDamaged, fi.Size(), size)
			}
			if err := readAll(tx); err != nil {
				return err
			}
			var errs []string
			for err := range tx.Check() {
				if len(errs) < 3 {
					errs = append(errs, err.Error())
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("%w: its pages are inconsistent: %s", ErrDamaged, strings.Join(errs, "; "))
			}
			return nil
		})
	})
	var p *PanicError
	if errors.As(err, &p) {
		return fmt.Errorf("%w: reading it failed: %v", ErrDamaged, p.Value)
	}
	return err
}

// readAll reads the last byte of every value in every bucket: it visits
// every branch and leaf page on this goroutine (where guard turns a fault
// into an error) before tx.Check, which runs on its own goroutine, does.
func readAll(tx *bolt.Tx) error {
	var sink byte
	err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
		return b.ForEach(func(_, v []byte) error {
			if len(v) > 0 {
				sink ^= v[len(v)-1]
			}
			return nil
		})
	})
	_ = sink
	return err
}

// PanicError is a panic inside a transaction, returned by Update or View as
// an error so that it neither kills the process nor hides its cause. bbolt
// panics when it meets a damaged page; reading past the end of a file
// truncated under a running ecsd faults (and the store makes such faults
// panics).
type PanicError struct {
	Value any    // what was passed to panic (a runtime.Error for a fault)
	Site  string // the function that panicked, with its file and line
}

func (e *PanicError) Error() string {
	advice := "this is a bug in ecsd: please report it"
	if e.Damaged() {
		advice = "the database file may be damaged: restart ecsd, which checks it when it opens it"
	}
	return fmt.Sprintf("a store transaction failed: panic in %s: %v; %s", e.Site, e.Value, advice)
}

// Damaged says whether the panic came from bbolt or from a memory fault,
// both signs of a damaged database file.
func (e *PanicError) Damaged() bool {
	_, fault := e.Value.(interface{ Addr() uintptr })
	return fault || strings.HasPrefix(e.Site, "go.etcd.io/bbolt")
}

// guard runs txn, returning a panic inside it as a *PanicError. Memory
// faults (bbolt reads the file through mmap) panic instead of crashing the
// process while it runs (debug.SetPanicOnFault).
func guard(txn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Site: panicSite()}
		}
	}()
	return txn()
}

// panicSite names the function that panicked: called from a deferred
// function while panicking, the stack still holds it, under the runtime's
// frames.
func panicSite() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return "an unknown function"
		}
	}
}
