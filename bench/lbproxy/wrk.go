package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkResult is what one wrk run reported (`wrk --latency`).
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationS  float64 `json:"duration_s"`
	RPS        float64 `json:"rps"`
	LatAvgMs   float64 `json:"latency_avg_ms"`
	LatMaxMs   float64 `json:"latency_max_ms"`
	P50Ms      float64 `json:"p50_ms"`
	P75Ms      float64 `json:"p75_ms"`
	P90Ms      float64 `json:"p90_ms"`
	P99Ms      float64 `json:"p99_ms"`
	Non2xx     int64   `json:"non_2xx_3xx"`
	SockErrors int64   `json:"socket_errors"`
	SockDetail string  `json:"socket_errors_detail,omitempty"`
}

func (r wrkResult) errors() int64 { return r.Non2xx + r.SockErrors }

// wrkArgs is the command line of one measurement: the same for every path
// but the URL.
func wrkArgs(threads, conns int, d time.Duration, url string) []string {
	return []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns),
		"-d" + strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s", "--latency", url}
}

// runWrk runs wrk and parses its report; cpu is wrk's own CPU time
// (user+sys) from its rusage.
func runWrk(ctx context.Context, bin string, args []string) (r wrkResult, cpu time.Duration, out string, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // ends with this benchmark
	b, err := cmd.CombinedOutput()
	out = string(b)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return r, cpu, out, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	r, err = parseWrk(out)
	if err != nil {
		return r, cpu, out, fmt.Errorf("wrk %s: %v; its output:\n%s", strings.Join(args, " "), err, out)
	}
	return r, cpu, out, nil
}

var (
	reLatency  = regexp.MustCompile(`^Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
	rePct      = regexp.MustCompile(`^(50|75|90|99)%\s+(\S+)$`)
	reRequests = regexp.MustCompile(`^(\d+) requests in (\S+),`)
	reRPS      = regexp.MustCompile(`^Requests/sec:\s+(\S+)`)
	reNon2xx   = regexp.MustCompile(`^Non-2xx or 3xx responses:\s+(\d+)`)
	reSock     = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk 4's text report. Times are printed with a unit (us,
// ms, s, m, h); percentiles come from --latency.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS, haveReq bool
	pcts := map[string]*float64{"50": &r.P50Ms, "75": &r.P75Ms, "90": &r.P90Ms, "99": &r.P99Ms}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case reLatency.MatchString(line):
			m := reLatency.FindStringSubmatch(line)
			if r.LatAvgMs, err = wrkMs(m[1]); err == nil {
				r.LatMaxMs, err = wrkMs(m[3])
			}
		case rePct.MatchString(line):
			m := rePct.FindStringSubmatch(line)
			*pcts[m[1]], err = wrkMs(m[2])
			seen[m[1]] = true
		case reRequests.MatchString(line):
			m := reRequests.FindStringSubmatch(line)
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			var d float64
			if d, err = wrkMs(m[2]); err == nil {
				r.DurationS = d / 1000
				haveReq = true
			}
		case reRPS.MatchString(line):
			r.RPS, err = strconv.ParseFloat(reRPS.FindStringSubmatch(line)[1], 64)
			haveRPS = err == nil
		case reNon2xx.MatchString(line):
			r.Non2xx, _ = strconv.ParseInt(reNon2xx.FindStringSubmatch(line)[1], 10, 64)
		case reSock.MatchString(line):
			m := reSock.FindStringSubmatch(line)
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				r.SockErrors += n
			}
			r.SockDetail = strings.TrimPrefix(line, "Socket errors: ")
		}
		if err != nil {
			return r, fmt.Errorf("line %q: %v", line, err)
		}
	}
	if !haveRPS || !haveReq {
		return r, errors.New("no \"N requests in\" or \"Requests/sec\" line")
	}
	if r.Requests > 0 && len(seen) != len(pcts) {
		return r, errors.New("no latency distribution (was --latency passed?)")
	}
	return r, nil
}

// wrkMs converts a wrk time ("412.00us", "1.36ms", "10.00s", "1.50m") to
// milliseconds.
func wrkMs(s string) (float64, error) {
	units := []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("time %q: %v", s, err)
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("time %q: unknown unit", s)
}

// wrkVersion is the first line of `wrk -v`, shortened ("4.1.0-3+b2 [epoll]").
func wrkVersion(bin string) string {
	b, _ := exec.Command(bin, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "wrk ")
	line = strings.TrimPrefix(line, "debian/")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	return line
}
