package benchkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

// Proc is a server the benchmark runs as a child process (ecsd, the demo
// app backend, nginx, moto_server): in its own process group, so that a
// Ctrl-C at the terminal reaches only the benchmark, which stops it in
// order, and Stop reaches its helpers (nginx's workers, a pyenv shim's
// child); killed if the benchmark dies; stopped at exit.
type Proc struct {
	Name string    // names it in errors and notes
	Cmd  *exec.Cmd // nil for an ecsd (see StartECSD)
	Pid  int
	Log  string // its stdout and stderr; "" when discarded

	label      string        // names it in the notes of Stop
	grace      time.Duration // SIGTERM → SIGKILL
	beforeStop func()        // Stop, while it still runs, before SIGTERM
	afterStop  func()        // Stop, last
	exited     <-chan struct{}
	once       sync.Once

	ecsd *ecsdproc.Proc // when it is an ecsd: started and stopped by ecsdproc
}

// ProcOpts says what StartProc runs.
type ProcOpts struct {
	Name  string
	Argv  []string
	Env   []string      // added to the benchmark's environment
	Log   string        // file for its stdout and stderr ("": discarded)
	Port  string        // StartProc waits until 127.0.0.1:Port accepts connections, 30 s at most
	Grace time.Duration // Stop sends SIGKILL this long after SIGTERM (default 10 s)
}

// StartProc starts o.Argv and waits until it listens on o.Port.
func StartProc(o ProcOpts) (*Proc, error) {
	p := &Proc{Name: o.Name, Log: o.Log, label: o.Name, grace: o.Grace}
	if err := p.start(o); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Proc) start(o ProcOpts) error {
	if p.grace == 0 {
		p.grace = 10 * time.Second
	}
	out := io.Discard
	var logf *os.File
	if o.Log != "" {
		var err error
		if logf, err = os.Create(o.Log); err != nil {
			return err
		}
		out = logf
	}
	cmd := exec.Command(o.Argv[0], o.Argv[1:]...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	p.Cmd, p.Pid, p.exited = cmd, cmd.Process.Pid, exited
	go func() {
		cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(exited)
	}()
	AtExit(p.Stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+o.Port, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before listening on %s: %s%s", p.Name, o.Port, cmd.ProcessState, p.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("%s not listening on %s after 30s%s", p.Name, o.Port, p.logTail())
		}
	}
}

func (p *Proc) logTail() string {
	if p.Log == "" {
		return " (its output was discarded; run the command by hand to see it)"
	}
	return "\n" + Tail(p.Log)
}

// Alive reports whether the process is still running.
func (p *Proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop, once: SIGTERM to the process group, SIGKILL after the grace period,
// then SIGKILL to what is left of the group. A slow or failed exit, or a
// process that had exited on its own, is a note.
func (p *Proc) Stop() {
	p.once.Do(func() {
		if !p.Alive() {
			seeLog := ""
			if p.Log != "" {
				seeLog = "; see its log"
			}
			AddNote("%s had exited on its own (%s)%s", p.label, p.exitState(), seeLog)
		} else {
			if p.beforeStop != nil {
				p.beforeStop()
			}
			t0 := time.Now()
			if p.terminate() {
				AddNote("%s did not exit %s after SIGTERM; killed", p.label, p.grace)
			} else if d := time.Since(t0); d > 2*time.Second {
				AddNote("%s took %s to exit on SIGTERM", p.label, d.Round(time.Millisecond))
			}
		}
		if p.afterStop != nil {
			p.afterStop()
		}
	})
}

// terminate sends SIGTERM to the process group, SIGKILL after the grace
// period, then SIGKILL to what is left of the group; it reports whether it
// had to kill.
func (p *Proc) terminate() (killed bool) {
	if p.ecsd != nil {
		return errors.Is(p.ecsd.Stop(), ecsdproc.ErrKilled)
	}
	syscall.Kill(-p.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(p.grace):
		killed = true
		syscall.Kill(-p.Pid, syscall.SIGKILL)
		<-p.exited
	}
	syscall.Kill(-p.Pid, syscall.SIGKILL) // leftovers of the group (nginx workers), if any
	return killed
}

// exitState says how the process exited.
func (p *Proc) exitState() *os.ProcessState {
	if p.ecsd != nil {
		return p.ecsd.ProcessState()
	}
	return p.Cmd.ProcessState
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// Tail is the end of a log file, for error messages.
func Tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimRight(string(b), "\n")
}
