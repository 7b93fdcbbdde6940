package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
)

// proc is a server the benchmark started as a child process: the demo app
// backend, nginx or ecsd.
type proc struct {
	name   string
	cmd    *exec.Cmd
	pid    int
	log    string // "" when its output is discarded
	exited chan struct{}
	once   sync.Once
}

// startProc runs argv in its own process group (so that stop reaches
// nginx's workers too; killed if this benchmark dies) with its output in
// logPath ("": discarded), and waits until 127.0.0.1:port accepts
// connections.
func startProc(name string, argv, env []string, logPath, port string) (*proc, error) {
	out := io.Discard
	var logf *os.File
	if logPath != "" {
		var err error
		if logf, err = os.Create(logPath); err != nil {
			return nil, err
		}
		out = logf
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, log: logPath, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(p.exited)
	}()
	benchkit.AtExit(p.stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before listening on %s: %s%s", name, port, cmd.ProcessState, p.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not listening on %s after 30s%s", name, port, p.logTail())
		}
	}
}

func (p *proc) logTail() string {
	if p.log == "" {
		return " (its output was discarded; run the command by hand to see it)"
	}
	return "\n" + tail(p.log)
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process group, SIGKILL after 10 s; a slow or
// failed exit is a note.
func (p *proc) stop() {
	p.once.Do(func() {
		select {
		case <-p.exited:
			benchkit.AddNote("%s had exited on its own (%s)", p.name, p.cmd.ProcessState)
			return
		default:
		}
		t0 := time.Now()
		syscall.Kill(-p.pid, syscall.SIGTERM)
		select {
		case <-p.exited:
			if d := time.Since(t0); d > 3*time.Second {
				benchkit.AddNote("%s took %s to exit on SIGTERM", p.name, d.Round(time.Millisecond))
			}
		case <-time.After(10 * time.Second):
			benchkit.AddNote("%s did not exit 10s after SIGTERM; killed", p.name)
			syscall.Kill(-p.pid, syscall.SIGKILL)
			<-p.exited
		}
		syscall.Kill(-p.pid, syscall.SIGKILL) // leftovers of the group (nginx workers), if any
	})
}

// checkGET GETs url (no proxy, no keep-alive) and checks for a 200 with
// body want.
func checkGET(url, want string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(b) != want {
		return fmt.Errorf("GET %s: HTTP %d %q, want 200 %q", url, resp.StatusCode, b, want)
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimRight(string(b), "\n")
}
