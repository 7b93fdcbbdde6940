package lb

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
)

// benchSetup returns the URL of a trivial backend and of a listener
// forwarding to it. The target stays initial (fail-open routes to it), so
// the fake clock never moves.
func benchSetup(b *testing.B) (direct, proxied string) {
	b.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	b.Cleanup(backend.Close)
	tg, err := NewTargetGroup(TargetGroupConfig{Name: "bench"}, Options{
		Clock:  clock.NewFake(time.Time{}),
		Prober: ProberFunc(func(context.Context, string) ProbeResult { return ok200 }),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tg.Close)
	if err := tg.Register(strings.TrimPrefix(backend.URL, "http://")); err != nil {
		b.Fatal(err)
	}
	f, err := NewForward(WeightedTargetGroup{Group: tg})
	if err != nil {
		b.Fatal(err)
	}
	l, err := Listen(ListenerConfig{DefaultAction: f})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return backend.URL, l.URL()
}

func benchGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkProxy measures one keep-alive client through a real listener to
// a trivial backend; BenchmarkDirect is the same client straight to the
// backend, the peer to compare against (ratio, not absolute time).
func BenchmarkProxy(b *testing.B) {
	direct, proxied := benchSetup(b)
	for _, bc := range []struct{ name, url string }{{"direct", direct}, {"proxied", proxied}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer c.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				benchGet(b, c, bc.url+"/")
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer c.CloseIdleConnections()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchGet(b, c, bc.url+"/")
				}
			})
		})
	}
}
