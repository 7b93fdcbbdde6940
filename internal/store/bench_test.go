package store

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkOpenCheck is the start-up check of an existing database
// (check: read-only open, size against pages, every page read, bbolt's
// tx.Check) on a store of 10,000 task records:
//
//	go test ./internal/store -run '^$' -bench OpenCheck -benchtime 20x
func BenchmarkOpenCheck(b *testing.B) {
	dir := b.TempDir()
	s, err := OpenWith(dir, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	putTasks(b, s, 10_000)
	s.Close()
	path := filepath.Join(dir, "ecsd.db")
	for b.Loop() {
		if err := check(path, time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
