// Package demoapp is the small HTTP service behind `ecsd demoapp`: the
// application that ecsd's own examples and tests deploy, as a process or
// inside the ecsd/demoapp image.
//
// Serving mode (no arguments) listens on :$PORT (default 8080) and answers
//
//	GET /        200 with $VERSION and a newline (e.g. "v1\n")
//	GET /health  200 "ok\n", or 500 when DEMO_HEALTH=fail
//
// It shuts down gracefully on SIGTERM or SIGINT: it stops accepting
// connections, finishes in-flight requests (http.Server.Shutdown) and exits
// 0. Misbehaviour for rehearsing failures is switched on by environment:
//
//	DEMO_HEALTH=fail          /health answers 500
//	DEMO_CRASH_AFTER=<dur>    exit 1 that long after start ("0s": at once)
//	DEMO_EXIT_CODE=<n>        exit with n (0-255) instead of 1 when crashing;
//	                          with DEMO_CRASH_AFTER, a one-off job's exit code
//	DEMO_START_DELAY=<dur>    wait that long before listening
//	DEMO_IGNORE_SIGTERM=1     log SIGTERM and keep serving (SIGKILL needed)
//	DEMO_LATENCY=<dur>        delay every response by that long
//
// Durations use Go syntax (500ms, 10s, 1m). PORT=0 picks a free port; the
// chosen address is logged as `msg=listening addr=...`.
//
// Check mode, `demoapp check [url]`, GETs url (default
// http://127.0.0.1:$PORT/health) with a 2 s timeout and exits 0 on a 2xx
// answer, 1 otherwise: it is the container health-check command.
//
// All logging is structured (log/slog text) on stderr.
package demoapp
