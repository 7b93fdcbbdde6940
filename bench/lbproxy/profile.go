package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ecsd/ecsd/bench/internal/benchkit"
	"github.com/ecsd/ecsd/internal/lb"
)

// profileResult is the in-process profile run (-profile).
type profileResult struct {
	File   string    `json:"file"`
	Wrk    wrkResult `json:"wrk"`
	CPUPct float64   `json:"cpu_pct"` // this process, % of one core
	Top    string    `json:"top"`
	TopCum string    `json:"top_cum"`
	Error  string    `json:"error,omitempty"`
}

// profilePhase runs ecsd's data plane in this process, as ecsd builds it
// (lb.TargetGroup with the backend registered, lb.Forward as the default
// action, lb.Listen with its default forwarder), loads it with wrk at the
// full load point while a CPU profile is recorded, and returns pprof's top
// functions (flat and cumulative). The health checker answers OK without
// asking the backend, so only proxied requests reach it.
func profilePhase(wrkBin, backendAddr, dir string, threads, conns int, d time.Duration) (res profileResult) {
	fail := func(err error) profileResult { res.Error = err.Error(); return res }
	tg, err := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "lbproxy"}, lb.Options{
		Prober: lb.ProberFunc(func(context.Context, string) lb.ProbeResult { return lb.ProbeResult{StatusCode: 200} }),
	})
	if err != nil {
		return fail(err)
	}
	defer tg.Close()
	if err := tg.Register(backendAddr); err != nil {
		return fail(err)
	}
	f, err := lb.NewForward(lb.WeightedTargetGroup{Group: tg})
	if err != nil {
		return fail(err)
	}
	l, err := lb.Listen(lb.ListenerConfig{DefaultAction: f})
	if err != nil {
		return fail(err)
	}
	defer l.Close()
	url := l.URL() + "/"
	if err := checkGET(url, "v1\n"); err != nil {
		return fail(fmt.Errorf("in-process listener: %w", err))
	}
	if _, _, _, err := runWrk(context.Background(), wrkBin, wrkArgs(threads, conns, time.Second, url)); err != nil {
		return fail(err) // warm-up: connections, pools, buffers
	}
	res.File = filepath.Join(dir, "lb-cpu.pprof")
	out, err := os.Create(res.File)
	if err != nil {
		return fail(err)
	}
	defer out.Close()
	st0, _ := benchkit.ReadStat(os.Getpid())
	t0 := time.Now()
	if err := pprof.StartCPUProfile(out); err != nil {
		return fail(err)
	}
	r, _, _, err := runWrk(context.Background(), wrkBin, wrkArgs(threads, conns, d, url))
	pprof.StopCPUProfile()
	st1, _ := benchkit.ReadStat(os.Getpid())
	res.CPUPct = 100 * float64(st1.Ticks-st0.Ticks) / benchkit.ClkTck / time.Since(t0).Seconds()
	if err != nil {
		return fail(err)
	}
	res.Wrk = r
	out.Close()
	if res.Top, err = pprofTop(res.File, false); err != nil {
		return fail(err)
	}
	if res.TopCum, err = pprofTop(res.File, true); err != nil {
		return fail(err)
	}
	return res
}

// pprofTop is `go tool pprof -top` of the profile (the Go profile carries
// its symbols, so the binary is not needed), the header and first rows.
func pprofTop(file string, cum bool) (string, error) {
	args := []string{"tool", "pprof", "-top", "-nodecount=25"}
	if cum {
		args = append(args, "-cum")
	}
	b, err := exec.Command("go", append(args, file)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	// Drop the "File:/Type:/Time:" preamble lines; keep "Duration", "Showing" and the table.
	var keep []string
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Type:") || strings.HasPrefix(line, "Time:") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), nil
}
