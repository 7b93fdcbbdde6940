package benchkit

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// Clean-ups run once, in reverse order, on normal exit, fatal error or
// signal; notes are oddities seen while running or cleaning up.
var (
	cleanupMu sync.Mutex
	cleanups  []func()

	notesMu sync.Mutex
	notes   []string

	interrupted atomic.Bool
)

// AddNote records an oddity for the report (printed at once after a signal).
func AddNote(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	notesMu.Lock()
	notes = append(notes, n)
	notesMu.Unlock()
	if interrupted.Load() {
		fmt.Fprintln(os.Stderr, n)
	}
}

// Notes returns the notes so far.
func Notes() []string {
	notesMu.Lock()
	defer notesMu.Unlock()
	return append([]string{}, notes...)
}

// Interrupted reports whether a signal started the clean-up.
func Interrupted() bool { return interrupted.Load() }

// WaitIfInterrupted blocks for good once a signal started the clean-up
// (which ends the process): what a test saw afterwards is the clean-up's doing.
func WaitIfInterrupted() {
	if interrupted.Load() {
		select {}
	}
}

// AtExit registers f to run at exit.
func AtExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

// Exit runs the clean-ups and exits with code.
func Exit(code int) {
	cleanupMu.Lock() // never unlocked: a second caller blocks until os.Exit
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// Fatal prints err after the program's name and exits 1 (130 after a signal).
func Fatal(program string, err error) {
	if interrupted.Load() {
		Exit(130)
	}
	fmt.Fprintln(os.Stderr, program+":", err)
	Exit(1)
}

// CleanUpOnSignal makes SIGINT/SIGTERM run the clean-ups and exit 130.
func CleanUpOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		interrupted.Store(true)
		fmt.Fprintln(os.Stderr, "\ninterrupted; cleaning up")
		Exit(130)
	}()
}
