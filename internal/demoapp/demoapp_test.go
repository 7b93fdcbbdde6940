package demoapp

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// TestMain lets the test binary act as `ecsd demoapp` for subprocess tests.
func TestMain(m *testing.M) {
	if os.Getenv("DEMOAPP_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// app is one in-process run of serving mode on a fake clock.
type app struct {
	clk     *clock.Fake
	sigs    chan os.Signal
	addr    chan net.Addr
	started chan *http.Request
	exit    chan int
}

func startApp(t *testing.T, environ map[string]string) *app {
	t.Helper()
	if environ["PORT"] == "" {
		environ["PORT"] = "0"
	}
	cfg, err := configFromEnv(func(k string) string { return environ[k] })
	if err != nil {
		t.Fatal(err)
	}
	a := &app{
		clk:     clock.NewFake(time.Time{}),
		sigs:    make(chan os.Signal, 1),
		addr:    make(chan net.Addr, 1),
		started: make(chan *http.Request, 16),
		exit:    make(chan int, 1),
	}
	e := env{
		clock:          a.clk,
		signals:        a.sigs,
		logger:         slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		ready:          func(ad net.Addr) { a.addr <- ad },
		requestStarted: func(r *http.Request) { a.started <- r },
	}
	go func() { a.exit <- run(cfg, e) }()
	return a
}

// url waits until the app listens and returns its base URL.
func (a *app) url(t *testing.T) string {
	t.Helper()
	select {
	case ad := <-a.addr:
		_, port, _ := net.SplitHostPort(ad.String())
		return "http://127.0.0.1:" + port
	case code := <-a.exit:
		t.Fatalf("app exited with %d before listening", code)
	}
	return ""
}

func (a *app) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	a.sigs <- sig
	return <-a.exit
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServesVersionAndHealth(t *testing.T) {
	a := startApp(t, map[string]string{"VERSION": "v1"})
	base := a.url(t)
	if code, body := get(t, base+"/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if code, body := get(t, base+"/health"); code != 200 || body != "ok\n" {
		t.Fatalf("GET /health = %d %q", code, body)
	}
	if code, _ := get(t, base+"/nope"); code != 404 {
		t.Fatalf("GET /nope = %d", code)
	}
	if code := a.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

func TestHealthFail(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_HEALTH": "fail"})
	base := a.url(t)
	if code, _ := get(t, base+"/health"); code != 500 {
		t.Fatalf("GET /health = %d, want 500", code)
	}
	if code, body := get(t, base+"/"); code != 200 || body != "unknown\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	a.stop(t, syscall.SIGINT)
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	a := startApp(t, map[string]string{"VERSION": "v2", "DEMO_LATENCY": "5s"})
	base := a.url(t)
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b), err}
	}()
	<-a.started         // the request is in the handler...
	a.clk.BlockUntil(1) // ...waiting out its latency
	a.sigs <- syscall.SIGTERM
	// Shutdown is now waiting for the in-flight request; let its latency pass.
	a.clk.Advance(5 * time.Second)
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "v2\n" {
		t.Fatalf("in-flight request: %d %q %v", r.code, r.body, r.err)
	}
	if code := <-a.exit; code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestCrashAtOnce(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_CRASH_AFTER": "0s"})
	if code := <-a.exit; code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
}

func TestCrashAfter(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_CRASH_AFTER": "10s"})
	base := a.url(t)
	if code, _ := get(t, base+"/health"); code != 200 {
		t.Fatalf("health %d before crash", code)
	}
	a.clk.Advance(9 * time.Second)
	select {
	case code := <-a.exit:
		t.Fatalf("exited early with %d", code)
	default:
	}
	a.clk.Advance(time.Second)
	if code := <-a.exit; code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
}

func TestCrashExitCode(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_CRASH_AFTER": "2s", "DEMO_EXIT_CODE": "3"})
	a.url(t)
	a.clk.Advance(2 * time.Second)
	if code := <-a.exit; code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	a = startApp(t, map[string]string{"DEMO_CRASH_AFTER": "0s", "DEMO_EXIT_CODE": "0"})
	if code := <-a.exit; code != 0 {
		t.Fatalf("exit code %d, want 0 (DEMO_EXIT_CODE=0)", code)
	}
}

func TestStartDelay(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_START_DELAY": "3s"})
	a.clk.BlockUntil(1)
	select {
	case <-a.addr:
		t.Fatal("listening before the start delay")
	default:
	}
	a.clk.Advance(3 * time.Second)
	base := a.url(t)
	if code, _ := get(t, base+"/health"); code != 200 {
		t.Fatalf("health %d", code)
	}
	a.stop(t, syscall.SIGTERM)
}

func TestSIGTERMDuringStartDelay(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_START_DELAY": "1h"})
	a.clk.BlockUntil(1)
	if code := a.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestIgnoreSIGTERM(t *testing.T) {
	a := startApp(t, map[string]string{"DEMO_IGNORE_SIGTERM": "1"})
	base := a.url(t)
	// The channel holds one signal, so the second send returns only once run
	// has taken the first one.
	a.sigs <- syscall.SIGTERM
	a.sigs <- syscall.SIGTERM
	if code, _ := get(t, base+"/health"); code != 200 {
		t.Fatalf("health %d after ignored SIGTERM", code)
	}
	select {
	case code := <-a.exit:
		t.Fatalf("exited with %d despite DEMO_IGNORE_SIGTERM", code)
	default:
	}
	if code := a.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, env := range []map[string]string{
		{"PORT": "http"},
		{"DEMO_CRASH_AFTER": "soon"},
		{"DEMO_LATENCY": "-1s"},
		{"DEMO_START_DELAY": "5"},
		{"DEMO_EXIT_CODE": "three"},
		{"DEMO_EXIT_CODE": "256"},
		{"DEMO_EXIT_CODE": "-1"},
	} {
		if _, err := configFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("configFromEnv(%v): no error", env)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
	}))
	defer bad.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	noenv := func(string) string { return "" }

	if code := check([]string{ok.URL}, noenv, log); code != 0 {
		t.Errorf("check healthy = %d", code)
	}
	if code := check([]string{bad.URL}, noenv, log); code != 1 {
		t.Errorf("check 503 = %d", code)
	}
	_, port, _ := net.SplitHostPort(ok.Listener.Addr().String())
	if code := check(nil, func(k string) string {
		if k == "PORT" {
			return port
		}
		return ""
	}, log); code != 0 {
		t.Errorf("check via $PORT = %d", code)
	}
	// A closed port fails.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String() + "/health"
	l.Close()
	if code := check([]string{closed}, noenv, log); code != 1 {
		t.Errorf("check closed port = %d", code)
	}
}

// Subprocess tests: the test binary re-executes itself as `demoapp`.

var listeningRE = regexp.MustCompile(`msg=listening addr=\S*:(\d+)`)

type proc struct {
	cmd  *exec.Cmd
	port string
	exit chan error
}

func startProc(t *testing.T, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append([]string{"DEMOAPP_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0", "PORT=0", "VERSION=v1"}, extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exit: make(chan error, 1)}
	portC := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("demoapp: " + sc.Text())
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				portC <- m[1]
			}
		}
		close(portC)
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	p.port = <-portC
	return p
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestSubprocessServeAndSIGTERM(t *testing.T) {
	p := startProc(t)
	if p.port == "" {
		t.Fatalf("demoapp exited before listening: %v", <-p.exit)
	}
	if code, body := get(t, "http://127.0.0.1:"+p.port+"/"); code != 200 || body != "v1\n" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	// check mode against the running app, via $PORT.
	chk := exec.Command(os.Args[0], "check")
	chk.Env = []string{"DEMOAPP_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0", "PORT=" + p.port}
	if out, err := chk.CombinedOutput(); err != nil {
		t.Fatalf("demoapp check: %v\n%s", err, out)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(<-p.exit); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

func TestSubprocessCrash(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"DEMOAPP_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0", "PORT=0", "DEMO_CRASH_AFTER=0s"}
	if code := exitCode(cmd.Run()); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
}

func TestSubprocessCheckFailsOnUnhealthy(t *testing.T) {
	p := startProc(t, "DEMO_HEALTH=fail")
	chk := exec.Command(os.Args[0], "check", "http://127.0.0.1:"+p.port+"/health")
	chk.Env = []string{"DEMOAPP_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0"}
	if code := exitCode(chk.Run()); code != 1 {
		t.Fatalf("check exit code %d, want 1", code)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exit
}
