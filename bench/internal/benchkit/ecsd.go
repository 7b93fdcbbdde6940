package benchkit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ecsd/ecsd/internal/ecsdproc"
)

// BuildOpts says where the ecsd binary comes from.
type BuildOpts struct {
	Bin string // the -ecsd flag: used as it is when set
	Dir string // else ./cmd/ecsd of this module is built into Dir/ecsd
	Say func(line string)
}

// BuildECSD returns o.Bin, or builds ./cmd/ecsd of the module the working
// directory is in (static, see ecsdproc.Build), saying so first.
func BuildECSD(o BuildOpts) (string, error) {
	if o.Bin != "" {
		return o.Bin, nil
	}
	o.Say("building ./cmd/ecsd (CGO_ENABLED=0) ...")
	return ecsdproc.Build(o.Dir)
}

// ECSD is an `ecsd server` the benchmark started.
type ECSD struct {
	*Proc
	Endpoint string // http://127.0.0.1:PORT: the API
	DataDir  string
}

// ECSDOpts says how StartECSD runs ecsd.
type ECSDOpts struct {
	Bin string
	// Name (e.g. "process/latency") names this ecsd in notes ("NAME: ecsd
	// ..."; "" for "ecsd ...") and its dir.
	Name string
	// Dir is the parent of a fresh dir holding the data dir (data) and the
	// log (ecsd.log).
	Dir string
	// Args follow `server --listen 127.0.0.1:PORT --data-dir DATA --region
	// us-east-1` (a later --region wins).
	Args []string
	// Grace is how long Stop waits after SIGTERM before SIGKILL (default 15 s).
	Grace time.Duration
	// BeforeStop, if set, runs in Stop while ecsd still runs, given 60 s:
	// stop through the API what the benchmark started. What goes wrong is
	// for it to note.
	BeforeStop func(ctx context.Context)
	// AfterStop, if set, runs last in Stop, also when ecsd had exited on its
	// own.
	AfterStop func()
}

// StartECSD runs `ecsd server` (through ecsdproc) on a free port with a
// fresh data dir and waits until it answers. Its Stop (also run at exit) calls
// BeforeStop, stops ecsd (SIGTERM), then kills the demo app processes of
// this ecsd still running (they have their own process groups and outlive
// it), and calls AfterStop; anything it had to clean up is a note.
func StartECSD(o ECSDOpts) (*ECSD, error) {
	name, prefix, label := "ecsd", "ecsd", "ecsd"
	if o.Name != "" {
		name, prefix, label = o.Name, strings.ReplaceAll(o.Name, "/", "-"), o.Name+": ecsd"
	}
	dir, err := os.MkdirTemp(o.Dir, prefix+"-")
	if err != nil {
		return nil, err
	}
	e := &ECSD{DataDir: filepath.Join(dir, "data")}
	if o.Grace == 0 {
		o.Grace = 15 * time.Second
	}
	e.Proc = &Proc{Name: "ecsd", Log: filepath.Join(dir, "ecsd.log"), label: label, grace: o.Grace}
	var demo []ProcStat
	e.beforeStop = func() {
		if o.BeforeStop != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			o.BeforeStop(ctx)
			cancel()
		}
		demo = DemoProcs(e.Pid) // ancestry is lost once ecsd exits
	}
	e.afterStop = func() {
		if len(demo) > 0 {
			killed := 0
			for _, p := range demo {
				if SameProcess(p) {
					syscall.Kill(-p.Pid, syscall.SIGKILL) // its own process group
					killed++
				}
			}
			AddNote("%s cleanup: %d demo app processes were still running before ecsd stopped; killed %d still alive after", name, len(demo), killed)
		}
		if o.AfterStop != nil {
			o.AfterStop()
		}
	}
	// ecsdproc starts it in its own process group, dying with the
	// benchmark, and waits until it answers.
	ep, err := ecsdproc.Start(context.Background(), ecsdproc.Options{Bin: o.Bin, DataDir: e.DataDir, Args: o.Args,
		LogFile: e.Log, OwnGroup: true, Grace: o.Grace})
	if err != nil {
		return nil, err
	}
	e.Endpoint, e.Pid, e.exited, e.ecsd = ep.Endpoint, ep.Pid(), ep.Exited(), ep
	AtExit(e.Stop)
	return e, nil
}
