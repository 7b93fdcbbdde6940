package lb

import (
	"context"
	"io"
	"net/http"
)

// Prober performs one health check: an HTTP GET of url. It must return
// when ctx is cancelled (the target group cancels it at the health-check
// timeout, measured on its clock, and then records Target.Timeout whatever
// the prober returns).
type Prober interface {
	Probe(ctx context.Context, url string) ProbeResult
}

// ProberFunc adapts a function to [Prober].
type ProberFunc func(ctx context.Context, url string) ProbeResult

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, url string) ProbeResult { return f(ctx, url) }

var (
	_ Prober = (*HTTPProber)(nil)
	_ Prober = ProberFunc(nil)
)

// HTTPProber is the production prober: a GET with ALB's user agent, no
// redirects followed (a 301 is a code mismatch, as on ALB) and no
// connection reuse, so every check exercises accept().
type HTTPProber struct {
	Client *http.Client // nil: a client with its own non-keep-alive transport
}

// NewHTTPProber returns an HTTPProber with its own transport.
func NewHTTPProber() *HTTPProber {
	return &HTTPProber{Client: &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Probe implements [Prober].
func (p *HTTPProber) Probe(ctx context.Context, url string) ProbeResult {
	c := p.Client
	if c == nil {
		c = defaultProber.Client
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ProbeResult{Err: err}
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := c.Do(req)
	if err != nil {
		return ProbeResult{Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return ProbeResult{StatusCode: resp.StatusCode}
}

var defaultProber = NewHTTPProber()
