package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
)

// AuthMode says which requests to an AWS API endpoint the Guard lets in.
type AuthMode string

const (
	// AuthSigV4 (the default) requires an AWS Signature Version 4 on every
	// request: with credentials configured, a valid signature by one of
	// them; without, any well-formed signature (any key).
	AuthSigV4 AuthMode = "sigv4"
	// AuthNone lets unsigned requests in (the other checks still apply).
	AuthNone AuthMode = "none"
)

// DefaultBodyTimeout is how long a client may take to send a request body.
const DefaultBodyTimeout = 30 * time.Second

// GuardConfig configures a Guard.
type GuardConfig struct {
	// Listen is the address ecsd listens on (--listen): requests addressed
	// to its host are answered, as are loopback names.
	Listen string
	// AllowedHosts are more Host names to answer: exact names, "*.domain"
	// for any subdomain, or "*" for any Host at all.
	AllowedHosts []string
	// Auth is AuthSigV4 ("" means it) or AuthNone.
	Auth AuthMode
	// Credentials maps access key IDs to their secret access keys. When
	// set, AWS API requests must be signed by one of them.
	Credentials map[string]string
	// BodyTimeout bounds how long reading a request body may take
	// (DefaultBodyTimeout when zero); MaxBodyBytes bounds its size
	// (MaxBodyBytes when zero).
	BodyTimeout  time.Duration
	MaxBodyBytes int64
	Clock        clock.Clock // for X-Amz-Date freshness; clock.Real() when nil
	Logger       *slog.Logger
}

// Guard is the request guard in front of every endpoint ecsd serves (see
// the package documentation for the threat model). Protect wraps an
// endpoint's handler.
type Guard struct {
	cfg       GuardConfig
	hosts     hostPolicy
	secretFor func(string) (string, bool)
}

// Endpoint says how the Guard protects one endpoint.
type Endpoint struct {
	// SigV4 marks an AWS API endpoint: requests must be signed as
	// GuardConfig.Auth says. Endpoints that are not AWS APIs (a dashboard,
	// metrics, hook callbacks) leave it false and get the other checks.
	SigV4 bool
	// WriteError answers a refused request in the endpoint's own error
	// shape; nil writes the message as plain text.
	WriteError func(w http.ResponseWriter, r *http.Request, err *awsproto.Error)
}

// NewGuard checks cfg and returns its Guard.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthSigV4
	case AuthSigV4, AuthNone:
	default:
		return nil, fmt.Errorf("auth mode %q: use %s or %s", cfg.Auth, AuthSigV4, AuthNone)
	}
	if cfg.Auth == AuthNone && len(cfg.Credentials) > 0 {
		return nil, errors.New("credentials are set but auth is none: drop one of them")
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = MaxBodyBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hosts, err := newHostPolicy(cfg.Listen, cfg.AllowedHosts)
	if err != nil {
		return nil, err
	}
	g := &Guard{cfg: cfg, hosts: hosts}
	if len(cfg.Credentials) > 0 {
		g.secretFor = func(id string) (string, bool) {
			s, ok := cfg.Credentials[id]
			return s, ok
		}
	}
	return g, nil
}

// ParseCredentials parses "ACCESS_KEY_ID:SECRET[,ACCESS_KEY_ID:SECRET...]".
func ParseCredentials(s string) (map[string]string, error) {
	creds := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		id, secret, ok := strings.Cut(pair, ":")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("%q is not ACCESS_KEY_ID:SECRET_ACCESS_KEY", redact(pair))
		}
		if _, dup := creds[id]; dup {
			return nil, fmt.Errorf("access key ID %s is given twice", id)
		}
		creds[id] = secret
	}
	return creds, nil
}

// redact keeps the access key ID part of a malformed credential pair out of
// the secret's way in messages.
func redact(pair string) string {
	id, _, _ := strings.Cut(pair, ":")
	if len(id) > 24 {
		id = id[:24]
	}
	return id + ":…"
}

// requestIDKey is the context key of the request ID.
type requestIDKey struct{}

// RequestID is the ID the Guard gave the request (also sent to the client
// as X-Amzn-RequestId), or "" outside a Guard.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Protect wraps h: every request gets a request ID, then must pass the Host
// and cross-site checks, have its body read within the timeout, and, on a
// SigV4 endpoint, carry a signature Auth accepts. A panic in h is answered
// as a 500 ServerException and logged with its stack; ecsd keeps serving.
func (g *Guard) Protect(h http.Handler, ep Endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Amzn-RequestId", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rw := &trackingWriter{ResponseWriter: w}
		defer g.recoverPanic(rw, r, ep, id)
		if e := g.check(rw, r, ep); e != nil {
			g.refuse(rw, r, ep, e)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// check runs the checks in order, cheapest first; it reads r's body into
// memory (r.Body then reads that copy).
func (g *Guard) check(w http.ResponseWriter, r *http.Request, ep Endpoint) *awsproto.Error {
	if e := g.hosts.check(r.Host); e != nil {
		return e
	}
	if e := checkCrossSite(r); e != nil {
		return e
	}
	body, e := g.readBody(w, r)
	if e != nil {
		return e
	}
	if ep.SigV4 && g.cfg.Auth == AuthSigV4 {
		if _, err := awsproto.VerifySigV4(r, body, g.cfg.Clock.Now(), g.secretFor); err != nil {
			return awsproto.AsError(err)
		}
	}
	return nil
}

// readBody reads the whole body (at most MaxBodyBytes) within BodyTimeout
// and puts it back as r.Body. A client that sends its body too slowly gets
// an error and its connection closed.
func (g *Guard) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *awsproto.Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	rc := http.NewResponseController(w)
	// A read deadline on the connection covers the whole body. Once the
	// body is read it is lifted, so that the server's background read,
	// which watches for the client going away, does not cancel a handler
	// that takes longer. When the body is refused it stays: the connection
	// is closed after the answer, and the server's discarding of the
	// unread rest must not wait for a client that sends nothing.
	deadlineSet := rc.SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout)) == nil
	body, err := io.ReadAll(io.LimitReader(r.Body, g.cfg.MaxBodyBytes+1))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &awsproto.Error{Type: "RequestTimeoutException", Message: fmt.Sprintf("The request body did not arrive within %s; ecsd closed the connection. Send the whole body at once.", g.cfg.BodyTimeout), Status: http.StatusRequestTimeout}
		}
		return nil, awsproto.Errorf(awsproto.SerializationException, "Reading the request body failed: %v", err)
	}
	if int64(len(body)) > g.cfg.MaxBodyBytes {
		return nil, &awsproto.Error{Type: awsproto.RequestEntityTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", g.cfg.MaxBodyBytes), Status: http.StatusRequestEntityTooLarge}
	}
	if deadlineSet {
		rc.SetReadDeadline(time.Time{})
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// refuse answers a request the Guard did not let in, and logs why.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, ep Endpoint, e *awsproto.Error) {
	if e.Status == http.StatusRequestTimeout || e.Status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	g.cfg.Logger.Warn("request refused", "request_id", RequestID(r.Context()), "remote", r.RemoteAddr,
		"host", r.Host, "origin", r.Header.Get("Origin"), "error_type", e.Type, "reason", e.Message)
	writeError(w, r, ep, e)
}

func writeError(w http.ResponseWriter, r *http.Request, ep Endpoint, e *awsproto.Error) {
	if ep.WriteError != nil {
		ep.WriteError(w, r, e)
		return
	}
	http.Error(w, e.Type+": "+e.Message, e.HTTPStatus())
}

// recoverPanic turns a panic of the handler into a logged 500: one bad
// request must not take ecsd down.
func (g *Guard) recoverPanic(w *trackingWriter, r *http.Request, ep Endpoint, id string) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v) // the handler's way of dropping the connection
	}
	g.cfg.Logger.Error("request handler panicked; ecsd goes on serving", "request_id", id, "method", r.Method,
		"path", r.URL.Path, "target", r.Header.Get("X-Amz-Target"), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.wroteHeader {
		return // the answer is under way; the client sees it cut short
	}
	writeError(w, r, ep, InternalError(id))
}

// InternalError is what a client is told about a failure inside ecsd: no
// detail (file paths, internal state), only the request ID under which
// ecsd's log has the whole error.
func InternalError(requestID string) *awsproto.Error {
	return &awsproto.Error{Type: awsproto.ServerException, Status: http.StatusInternalServerError,
		Message: fmt.Sprintf("ecsd could not complete the request because of an internal error; its log has the details under request ID %s.", requestID)}
}

// trackingWriter notes whether the answer has begun.
type trackingWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// checkCrossSite refuses requests a browser sends on behalf of another
// site: an Origin that is not the endpoint's own, or a Sec-Fetch-Site of
// cross-site or same-site. AWS SDKs and the aws CLI send neither header.
func checkCrossSite(r *http.Request) *awsproto.Error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return crossSiteError(fmt.Sprintf("Sec-Fetch-Site: %s", site))
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !sameOrigin(origin, scheme, r.Host) {
		return crossSiteError("Origin: " + origin)
	}
	return nil
}

func crossSiteError(what string) *awsproto.Error {
	return &awsproto.Error{Type: awsproto.AccessDeniedException, Status: http.StatusForbidden, Message: fmt.Sprintf(
		"ecsd refuses requests a web browser sends on behalf of another site (%s): a web page must not be able to run commands through ecsd. "+
			"Call ecsd with an AWS SDK or the aws CLI, which send no Origin header.", what)}
}

// sameOrigin reports whether origin is scheme://host, default ports aside.
func sameOrigin(origin, scheme, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != scheme || u.Host == "" || u.Path != "" && u.Path != "/" {
		return false
	}
	return strings.EqualFold(withPort(u.Host, scheme), withPort(host, scheme))
}

func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}
