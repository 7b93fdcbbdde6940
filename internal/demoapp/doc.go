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
// 0. Misbehaviour for rehearsing failures (a failing health check, a crash
// with a chosen exit code, a slow start, ignoring SIGTERM, latency) is
// switched on by environment variables: Settings lists them all, with PORT
// and VERSION, and is what `ecsd demoapp --help` prints (Usage).
//
// Check mode, `demoapp check [url]`, GETs url (default
// http://127.0.0.1:$PORT/health) with a 2 s timeout and exits 0 on a 2xx
// answer, 1 otherwise: it is the container health-check command.
//
// All logging is structured (log/slog text) on stderr.
package demoapp
