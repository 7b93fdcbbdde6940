package controller_test

import "testing"

// Named expectations: each check reports its own failure, naming what was
// expected; all evaluates every check (they are its arguments) and tells
// whether all held, so a caller can stop with context.

// equal checks that got is want.
func equal[T comparable](t testing.TB, name string, got, want T) bool {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
		return false
	}
	return true
}

// holds checks a named condition.
func holds(t testing.TB, name string, ok bool) bool {
	t.Helper()
	if !ok {
		t.Errorf("expected: %s", name)
	}
	return ok
}

// all reports whether every check held.
func all(checks ...bool) bool {
	for _, ok := range checks {
		if !ok {
			return false
		}
	}
	return true
}
