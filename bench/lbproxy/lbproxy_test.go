package main

import (
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const wrkOut = `Running 10s test @ http://127.0.0.1:40701/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.56ms    2.09ms  45.31ms   91.53%
    Req/Sec    10.34k     1.02k   12.87k    72.00%
  Latency Distribution
     50%    1.37ms
     75%    1.80ms
     90%    2.88ms
     99%  640.00us
  205791 requests in 10.00s, 33.76MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  20574.03
Transfer/sec:      3.38MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("rps", r.RPS, 20574.03)
	near("avg", r.LatAvgMs, 1.56)
	near("max", r.LatMaxMs, 45.31)
	near("p50", r.P50Ms, 1.37)
	near("p90", r.P90Ms, 2.88)
	near("p99", r.P99Ms, 0.64)
	near("duration", r.DurationS, 10)
	if r.Requests != 205791 || r.Non2xx != 3 || r.SockErrors != 3 || r.errors() != 6 {
		t.Errorf("requests %d, non-2xx %d, socket errors %d", r.Requests, r.Non2xx, r.SockErrors)
	}
	if !strings.Contains(r.SockDetail, "read 2") {
		t.Errorf("socket errors detail %q", r.SockDetail)
	}

	if _, err := parseWrk(strings.Replace(wrkOut, "  Latency Distribution\n     50%    1.37ms\n", "", 1)); err == nil {
		t.Error("missing percentiles: no error")
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("no report: no error")
	}
}

func TestWrkMs(t *testing.T) {
	for in, want := range map[string]float64{"412.00us": 0.412, "1.36ms": 1.36, "2.00s": 2000, "1.50m": 90000, "1.00h": 3600000} {
		if got, err := wrkMs(in); err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("wrkMs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := wrkMs("12.0xs"); err == nil {
		t.Error("bad unit: no error")
	}
}

func TestWrkArgs(t *testing.T) {
	got := strings.Join(wrkArgs(2, 32, 10e9, "http://x/"), " ")
	if got != "-t2 -c32 -d10s --latency http://x/" {
		t.Errorf("wrkArgs = %q", got)
	}
}

// The generated nginx.conf is accepted by nginx -t (when nginx is installed).
func TestNginxConf(t *testing.T) {
	dir := t.TempDir()
	p := nginxParams{Dir: dir, Workers: "auto", Backend: "127.0.0.1:9", Keepalive: 64, Port: "8099"}
	if os.Geteuid() == 0 {
		p.User = "root"
	}
	conf, err := writeNginxConf(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(conf)
	for _, want := range []string{"keepalive 64;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`,
		"listen 127.0.0.1:8099;", "server 127.0.0.1:9;", "worker_processes auto;", "pid " + dir + "/nginx.pid;"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, b)
		}
	}
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx not installed; not running nginx -t")
	}
	if err := nginxTest("nginx", dir, conf); err != nil {
		t.Fatal(err)
	}
}

func TestMedianAndJudge(t *testing.T) {
	m := medianOf([]measurement{{Wrk: wrkResult{RPS: 30, P99Ms: 3}}, {Wrk: wrkResult{RPS: 10, P99Ms: 1, Non2xx: 1}}, {Wrk: wrkResult{RPS: 20, P99Ms: 2}}})
	if m.Wrk.RPS != 20 || m.Wrk.P99Ms != 2 || m.Wrk.Non2xx != 1 {
		t.Errorf("median %+v", m.Wrk)
	}
	pt := func(name string, c int, d, n, e wrkResult) *loadPoint {
		return &loadPoint{Name: name, Conns: c, Paths: []*pathResult{
			{Path: "direct", Median: measurement{Wrk: d}}, {Path: "nginx", Median: measurement{Wrk: n}}, {Path: "ecsd", Median: measurement{Wrk: e}}}}
	}
	v := judge([]*loadPoint{
		pt("full", 32, wrkResult{RPS: 100, P99Ms: 5}, wrkResult{RPS: 50, P99Ms: 6}, wrkResult{RPS: 40, P99Ms: 9}),
		pt("moderate", 4, wrkResult{RPS: 80, P99Ms: 1}, wrkResult{RPS: 40, P99Ms: 1.2}, wrkResult{RPS: 30, P99Ms: 1.5}),
	})
	if !v.RatioMet || !v.AddedP99Met || !v.Met || math.Abs(v.AddedP99Ms-0.5) > 1e-9 || math.Abs(v.Ratios["-c4"]-0.75) > 1e-9 {
		t.Errorf("verdict %+v", v)
	}
	v = judge([]*loadPoint{pt("full", 32, wrkResult{RPS: 100, P99Ms: 5}, wrkResult{RPS: 50, P99Ms: 6}, wrkResult{RPS: 30, P99Ms: 5.5})})
	if v.RatioMet || !v.AddedP99Met || v.Met {
		t.Errorf("verdict %+v", v)
	}
}
