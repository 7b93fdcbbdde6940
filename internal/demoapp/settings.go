package demoapp

import (
	"fmt"
	"io"
)

// Setting is one environment variable serving mode reads.
type Setting struct {
	Name    string
	Meaning string // one line
}

// Settings are the environment variables serving mode reads: the one list
// configFromEnv reads (a test holds it to that) and `ecsd demoapp --help`
// prints.
var Settings = []Setting{
	{"PORT", "the port to listen on (default 8080; 0 picks a free one, logged as msg=listening addr=...)"},
	{"VERSION", "what GET / answers, with a newline (default unknown)"},
	{"DEMO_HEALTH", "fail: GET /health answers 500 instead of 200"},
	{"DEMO_CRASH_AFTER", "exit that long after start (0s: at once) with DEMO_EXIT_CODE"},
	{"DEMO_EXIT_CODE", "the exit code of that crash, 0-255 (default 1); with DEMO_CRASH_AFTER, a one-off job's"},
	{"DEMO_START_DELAY", "wait that long before listening"},
	{"DEMO_IGNORE_SIGTERM", "1: log SIGTERM and keep serving, so only SIGKILL stops it"},
	{"DEMO_LATENCY", "delay every response by that long"},
}

// Usage prints what `ecsd demoapp --help` says: the two modes and every
// setting.
func Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ecsd demoapp [check [URL]]

The demo HTTP application ecsd's examples deploy. It answers GET / with
$VERSION and GET /health with 200, and on SIGTERM or SIGINT finishes the
requests in flight and exits 0.

'ecsd demoapp check [URL]' GETs URL (default http://127.0.0.1:$PORT/health)
with a 2s timeout and exits 0 on a 2xx answer, 1 otherwise: a container
health-check command.

Settings (environment variables):
`)
	width := 0
	for _, s := range Settings {
		width = max(width, len(s.Name))
	}
	for _, s := range Settings {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name, s.Meaning)
	}
	fmt.Fprint(w, "\nDurations use Go syntax: 500ms, 10s, 1m.\n")
}
