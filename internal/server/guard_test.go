package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/server"
)

const (
	ecsPrefix = "AmazonEC2ContainerServiceV20141113"
	elbNS     = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	diskFull  = "writing /home/someone/.cache/ecsd/ecsd.db: no space left on device"
)

// fakeECS answers ListClusters with one ARN naming the request's region,
// and fails on purpose for the operations Panic, Fail and Slow.
type fakeECS struct{ calls *atomic.Int64 }

func (f fakeECS) Handle(ctx context.Context, region, op string, body []byte) ([]byte, error) {
	f.calls.Add(1)
	switch op {
	case "ListClusters":
		return []byte(`{"clusterArns":["arn:aws:ecs:` + region + `:123456789012:cluster/default"]}`), nil
	case "Panic":
		panic("handler bug")
	case "Fail":
		return nil, errors.New(diskFull)
	case "Slow": // outlives the body timeout; its context must stay alive
		time.Sleep(150 * time.Millisecond) // longer than the test's BodyTimeout
		if err := ctx.Err(); err != nil {
			return nil, awsproto.Errorf("ContextCancelled", "%v", err)
		}
		return []byte(`{}`), nil
	}
	return nil, awsproto.Errorf(awsproto.UnknownOperationException, "no %s", op)
}

// fakeELB answers DescribeLoadBalancers with nothing, and Fail with an
// internal error.
type fakeELB struct{}

func (fakeELB) XMLNamespace() string { return elbNS }

func (fakeELB) HandleQuery(_ context.Context, region, action string, _ url.Values) (any, error) {
	switch action {
	case "DescribeLoadBalancers":
		return &elb.DescribeLoadBalancersOutput{}, nil
	case "Fail":
		return nil, errors.New(diskFull)
	}
	return nil, awsproto.Errorf(awsproto.InvalidAction, "no %s", action)
}

// guarded is a guarded ecsd endpoint on a loopback listener.
type guarded struct {
	url, addr string
	calls     atomic.Int64 // requests that reached the services
	logs      *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newGuarded starts the fake services behind a Guard configured by cfg
// (its Listen is set to the test listener's address).
func newGuarded(t *testing.T, cfg server.GuardConfig) *guarded {
	t.Helper()
	g := &guarded{logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(g.logs, nil))
	h := server.New("us-east-1", logger)
	h.HandleJSON(ecsPrefix, fakeECS{&g.calls})
	h.HandleQuery("2015-12-01", fakeELB{})
	srv := httptest.NewUnstartedServer(nil)
	cfg.Listen, cfg.Logger = srv.Listener.Addr().String(), logger
	guard, err := server.NewGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = guard.Protect(h, h.Endpoint())
	srv.Start()
	t.Cleanup(srv.Close)
	g.url, g.addr = srv.URL, srv.Listener.Addr().String()
	return g
}

func (g *guarded) ecs(key, secret string) *ecs.Client {
	return ecs.New(ecs.Options{Region: "eu-west-3", BaseEndpoint: aws.String(g.url), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

func (g *guarded) elb(key, secret string) *elb.Client {
	return elb.New(elb.Options{Region: "eu-west-3", BaseEndpoint: aws.String(g.url), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

// sdkCode is the AWS error code of err ("" for nil).
func sdkCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// request is a raw HTTP request to the guarded endpoint.
type request struct {
	host, origin, fetchSite string
	target                  string // X-Amz-Target; "" for a Query request
	body                    string
	sign                    *signer // nil: unsigned
	header                  http.Header
}

type signer struct {
	key, secret, region string
	at                  time.Time // signing time; now when zero
}

type answer struct {
	status    int
	errorType string // X-Amzn-ErrorType (JSON) or <Code> (Query)
	message   string
	requestID string
	body      string
}

func (g *guarded) do(t *testing.T, rq request) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.url+"/", strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	if rq.target != "" {
		req.Header.Set("X-Amz-Target", rq.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if rq.origin != "" {
		req.Header.Set("Origin", rq.origin)
	}
	if rq.fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", rq.fetchSite)
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	if s := rq.sign; s != nil {
		at := s.at
		if at.IsZero() {
			at = time.Now()
		}
		sum := sha256.Sum256([]byte(rq.body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret},
			req, hex.EncodeToString(sum[:]), "ecs", s.region, at)
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, requestID: resp.Header.Get("X-Amzn-RequestId"), body: string(b)}
	if resp.StatusCode == 200 {
		return a
	}
	if rq.target != "" {
		var e struct{ Message string }
		json.Unmarshal(b, &e)
		a.errorType, a.message = resp.Header.Get("X-Amzn-ErrorType"), e.Message
		return a
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := xml.Unmarshal(b, &e); err != nil {
		t.Fatalf("Query error is not XML: %s", b)
	}
	a.errorType, a.message = e.Error.Code, e.Error.Message
	return a
}

// want checks an answer's status and error type, naming the case.
func want(t *testing.T, name string, got answer, status int, errorType string) {
	t.Helper()
	if got.status != status || got.errorType != errorType {
		t.Errorf("%s: got %d %s (%s), want %d %s", name, got.status, got.errorType, got.message, status, errorType)
	}
}

const listClusters = ecsPrefix + ".ListClusters"

func anyKey() *signer { return &signer{key: "AKIDANY", secret: "whatever", region: "us-west-2"} }

// Default mode: any signed request is answered, whatever its key; an
// unsigned one gets AWS's MissingAuthenticationToken error.
func TestDefaultModeNeedsASignature(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{})
	ctx := context.Background()
	out, err := g.ecs("AKIDSOMEONE", "any-secret").ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(out.ClusterArns) != 1 || !strings.Contains(out.ClusterArns[0], ":eu-west-3:") {
		t.Errorf("SDK ECS client, any key: %v %v", out, err)
	}
	if _, err := g.elb("AKIDOTHER", "other").DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("SDK ELBv2 client, any key: %v", err)
	}
	want(t, "signed raw JSON", g.do(t, request{target: listClusters, body: "{}", sign: anyKey()}), 200, "")

	calls := g.calls.Load()
	a := g.do(t, request{target: listClusters, body: "{}"})
	want(t, "unsigned JSON", a, 403, awsproto.MissingAuthenticationToken)
	if !strings.HasPrefix(a.message, "Missing Authentication Token") || a.requestID == "" {
		t.Errorf("unsigned JSON: message %q, request ID %q", a.message, a.requestID)
	}
	a = g.do(t, request{body: "Action=DescribeLoadBalancers&Version=2015-12-01"})
	want(t, "unsigned Query", a, 403, "MissingAuthenticationToken")
	if !strings.Contains(a.body, `xmlns="`+elbNS+`"`) {
		t.Errorf("unsigned Query: error lacks the ELBv2 namespace: %s", a.body)
	}
	want(t, "not SigV4", g.do(t, request{target: listClusters, body: "{}", header: http.Header{"Authorization": {"Bearer abc"}}}), 400, awsproto.IncompleteSignature)
	if g.calls.Load() != calls {
		t.Errorf("refused requests reached the service: %d calls, want %d", g.calls.Load(), calls)
	}
}

// With --credentials only those keys are answered, and their signatures
// are checked.
func TestCredentialsAreVerified(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{Credentials: map[string]string{"AKIDALICE": "alice-secret", "AKIDBOB": "bob-secret"}})
	ctx := context.Background()
	for _, key := range []string{"AKIDALICE", "AKIDBOB"} {
		if _, err := g.ecs(key, strings.ToLower(key[4:])+"-secret").ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Errorf("ECS, right secret of %s: %v", key, err)
		}
	}
	if _, err := g.elb("AKIDALICE", "alice-secret").DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("ELBv2, right secret: %v", err)
	}
	calls := g.calls.Load()
	for _, tc := range []struct {
		name, key, secret, ecsCode, elbCode string
	}{
		{"wrong secret", "AKIDALICE", "bob-secret", awsproto.InvalidSignature, "SignatureDoesNotMatch"},
		{"unknown key", "AKIDMALLORY", "alice-secret", awsproto.UnrecognizedClient, "InvalidClientTokenId"},
	} {
		_, err := g.ecs(tc.key, tc.secret).ListClusters(ctx, &ecs.ListClustersInput{})
		if got := sdkCode(err); got != tc.ecsCode {
			t.Errorf("ECS, %s: got %s, want %s", tc.name, got, tc.ecsCode)
		}
		_, err = g.elb(tc.key, tc.secret).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
		if got := sdkCode(err); got != tc.elbCode {
			t.Errorf("ELBv2, %s: got %s, want %s", tc.name, got, tc.elbCode)
		}
	}
	want(t, "unsigned", g.do(t, request{target: listClusters, body: "{}"}), 403, awsproto.MissingAuthenticationToken)

	alice := &signer{key: "AKIDALICE", secret: "alice-secret", region: "us-east-1"}
	want(t, "raw, right secret", g.do(t, request{target: listClusters, body: "{}", sign: alice}), 200, "")
	// A body changed after signing: the signature covers its hash.
	tampered := request{target: listClusters, body: `{"maxResults":1}`, sign: alice}
	tampered.header = http.Header{}
	a := g.doTampered(t, tampered, `{"maxResults":2}`)
	want(t, "body changed after signing", a, 400, awsproto.InvalidSignature)
	// A header the client signed, changed on the way.
	want(t, "signed header changed", g.doChangedTarget(t, alice), 400, awsproto.InvalidSignature)
	if g.calls.Load() != calls+1 {
		t.Errorf("refused requests reached the service: %d calls, want %d", g.calls.Load(), calls+1)
	}
}

// doTampered signs rq, then sends body instead of rq.body.
func (g *guarded) doTampered(t *testing.T, rq request, body string) answer {
	t.Helper()
	signed := g.signedHeaders(t, rq)
	return g.do(t, request{target: rq.target, body: body, header: signed})
}

// doChangedTarget signs a ListClusters request, then sends it as another
// operation.
func (g *guarded) doChangedTarget(t *testing.T, s *signer) answer {
	t.Helper()
	signed := g.signedHeaders(t, request{target: listClusters, body: "{}", sign: s})
	return g.do(t, request{target: ecsPrefix + ".Fail", body: "{}", header: signed})
}

// signedHeaders are the Authorization and X-Amz-Date headers rq would be
// sent with.
func (g *guarded) signedHeaders(t *testing.T, rq request) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url+"/", strings.NewReader(rq.body))
	req.Header.Set("X-Amz-Target", rq.target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte(rq.body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: rq.sign.key, SecretAccessKey: rq.sign.secret},
		req, hex.EncodeToString(sum[:]), "ecs", rq.sign.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": req.Header["Authorization"], "X-Amz-Date": req.Header["X-Amz-Date"]}
}

// --auth none answers unsigned requests; the other checks still apply.
func TestAuthNone(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{Auth: server.AuthNone})
	want(t, "unsigned JSON", g.do(t, request{target: listClusters, body: "{}"}), 200, "")
	want(t, "unsigned Query", g.do(t, request{body: "Action=DescribeLoadBalancers&Version=2015-12-01"}), 200, "")
	want(t, "cross-site form post", g.do(t, request{body: "Action=DescribeLoadBalancers&Version=2015-12-01", origin: "http://attacker.example"}), 403, "AccessDenied")
	// A credential scope still names the region, which must be a region.
	bad := g.do(t, request{target: listClusters, body: "{}", header: http.Header{"Authorization": {
		"AWS4-HMAC-SHA256 Credential=AKID/20250101/<script>/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}}})
	want(t, "bad region without auth", bad, 400, awsproto.InvalidSignature)
	if _, err := server.NewGuard(server.GuardConfig{Auth: server.AuthNone, Credentials: map[string]string{"a": "b"}}); err == nil {
		t.Error("auth none with credentials: no error")
	}
}

// Signatures older or newer than 15 minutes are refused with AWS's
// messages; a scope date that is not the X-Amz-Date's too.
func TestSignatureDate(t *testing.T) {
	now := time.Now()
	fake := clock.NewFake(now)
	g := newGuarded(t, server.GuardConfig{Clock: fake})
	s := anyKey()
	s.at = now.Add(-16 * time.Minute)
	a := g.do(t, request{target: listClusters, body: "{}", sign: s})
	want(t, "16 minutes old", a, 400, awsproto.InvalidSignature)
	if !strings.HasPrefix(a.message, "Signature expired: ") {
		t.Errorf("16 minutes old: message %q", a.message)
	}
	s.at = now.Add(16 * time.Minute)
	a = g.do(t, request{target: listClusters, body: "{}", sign: s})
	want(t, "16 minutes ahead", a, 400, awsproto.InvalidSignature)
	if !strings.HasPrefix(a.message, "Signature not yet current: ") {
		t.Errorf("16 minutes ahead: message %q", a.message)
	}
	s.at = now.Add(-14 * time.Minute)
	want(t, "14 minutes old", g.do(t, request{target: listClusters, body: "{}", sign: s}), 200, "")
	want(t, "no X-Amz-Date", g.do(t, request{target: listClusters, body: "{}", header: http.Header{"Authorization": {
		"AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}}}), 400, awsproto.IncompleteSignature)
}

// The credential scope's region must be a region name: it becomes the
// region state is stored under.
func TestRegionInScope(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{})
	for _, region := range []string{"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "eusc-de-east-1", "us-isob-east-1"} {
		s := anyKey()
		s.region = region
		a := g.do(t, request{target: listClusters, body: "{}", sign: s})
		want(t, "region "+region, a, 200, "")
		if !strings.Contains(a.body, ":"+region+":") {
			t.Errorf("region %s: answered for another region: %s", region, a.body)
		}
	}
	for _, region := range []string{"<script>", "US-EAST-1", "us-east", "useast1", "a-b-1", strings.Repeat("x", 100) + "-east-1"} {
		s := anyKey()
		s.region = region
		want(t, fmt.Sprintf("region %q, JSON", region), g.do(t, request{target: listClusters, body: "{}", sign: s}), 400, awsproto.InvalidSignature)
		want(t, fmt.Sprintf("region %q, Query", region), g.do(t, request{body: "Action=DescribeLoadBalancers&Version=2015-12-01", sign: s}), 403, "SignatureDoesNotMatch")
	}
}

// X-Amz-Content-Sha256, when sent, must be the body's hash.
func TestContentSHA256(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{Credentials: map[string]string{"AKIDALICE": "alice-secret"}})
	alice := &signer{key: "AKIDALICE", secret: "alice-secret", region: "us-east-1"}
	sum := sha256.Sum256([]byte("{}"))
	want(t, "right hash", g.do(t, request{target: listClusters, body: "{}", sign: alice, header: http.Header{"X-Amz-Content-Sha256": {hex.EncodeToString(sum[:])}}}), 200, "")
	want(t, "unsigned payload", g.do(t, request{target: listClusters, body: "{}", sign: alice, header: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}}), 400, awsproto.InvalidSignature)
}

// Only Host names that name this ecsd are answered: DNS rebinding must not
// reach the API.
func TestHostCheck(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{AllowedHosts: []string{"ecsd.internal", "*.corp.example"}})
	_, port, _ := net.SplitHostPort(g.addr)
	for _, host := range []string{g.addr, "localhost:" + port, "LOCALHOST", "api.localhost:" + port, "127.0.0.2:" + port, "[::1]:" + port, "ecsd.internal:" + port, "a.b.corp.example"} {
		want(t, "Host "+host, g.do(t, request{host: host, target: listClusters, body: "{}", sign: anyKey()}), 200, "")
	}
	for _, host := range []string{"attacker.example:" + port, "attacker.example", "localhost.attacker.example", "corp.example", "10.1.2.3:" + port, "ecsd.internal.attacker.example"} {
		a := g.do(t, request{host: host, target: listClusters, body: "{}", sign: anyKey()})
		want(t, "Host "+host, a, 403, awsproto.AccessDeniedException)
		if !strings.Contains(a.message, "--allowed-hosts") {
			t.Errorf("Host %s: the message does not say what to do: %s", host, a.message)
		}
		want(t, "Host "+host+", Query", g.do(t, request{host: host, body: "Action=DescribeLoadBalancers&Version=2015-12-01", sign: anyKey()}), 403, "AccessDenied")
	}
	any := newGuarded(t, server.GuardConfig{AllowedHosts: []string{"*"}})
	want(t, "any host allowed", any.do(t, request{host: "whatever.example", target: listClusters, body: "{}", sign: anyKey()}), 200, "")
	if _, err := server.NewGuard(server.GuardConfig{AllowedHosts: []string{"http://x.example"}}); err == nil {
		t.Error("allowed host with a scheme: no error")
	}
}

// Browsers' cross-site requests are refused: a web page must not create
// anything through ecsd.
func TestCrossSiteRequests(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{})
	for _, tc := range []struct {
		name, origin, fetchSite string
		status                  int
	}{
		{"same origin", "http://" + g.addr, "", 200},
		{"same origin, fetch metadata", "http://" + g.addr, "same-origin", 200},
		{"user-initiated", "", "none", 200},
		{"other origin", "http://attacker.example", "", 403},
		{"other port", "http://127.0.0.1:1", "", 403},
		{"opaque origin", "null", "", 403},
		{"https origin", "https://" + g.addr, "", 403},
		{"cross-site fetch", "", "cross-site", 403},
		{"same-site fetch", "", "same-site", 403},
	} {
		errorType := ""
		if tc.status != 200 {
			errorType = awsproto.AccessDeniedException
		}
		want(t, tc.name, g.do(t, request{origin: tc.origin, fetchSite: tc.fetchSite, target: listClusters, body: "{}", sign: anyKey()}), tc.status, errorType)
	}
	// A form posted from another site (unsigned, so also refused for that).
	a := g.do(t, request{origin: "http://attacker.example", fetchSite: "cross-site", body: "Action=CreateLoadBalancer&Version=2015-12-01&Name=x"})
	want(t, "cross-site form post", a, 403, "AccessDenied")
}

// A panic in a handler is answered as a 500 ServerException; ecsd goes on
// serving and logs the stack under the request ID.
func TestPanicIsAnswered(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{})
	a := g.do(t, request{target: ecsPrefix + ".Panic", body: "{}", sign: anyKey()})
	want(t, "panicking handler", a, 500, awsproto.ServerException)
	if !strings.Contains(a.message, a.requestID) {
		t.Errorf("panic: the message does not give the request ID %s: %s", a.requestID, a.message)
	}
	logs := g.logs.String()
	if !strings.Contains(logs, "handler bug") || !strings.Contains(logs, a.requestID) || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic: the log lacks the panic, request ID or stack:\n%s", logs)
	}
	want(t, "next request", g.do(t, request{target: listClusters, body: "{}", sign: anyKey()}), 200, "")
}

// An internal error (here a full disk naming the database file) reaches
// the client as a ServerException without the path, and the log has it.
func TestInternalErrorsHidePaths(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{})
	for _, rq := range []request{
		{target: ecsPrefix + ".Fail", body: "{}", sign: anyKey()},
		{body: "Action=Fail&Version=2015-12-01", sign: anyKey()},
	} {
		a := g.do(t, rq)
		wantType := awsproto.ServerException
		if rq.target == "" {
			wantType = awsproto.InternalFailure
		}
		want(t, "internal error", a, 500, wantType)
		if strings.Contains(a.body, "/home") || strings.Contains(a.body, "ecsd.db") || !strings.Contains(a.message, a.requestID) {
			t.Errorf("internal error: the answer shows a path or lacks the request ID %s: %s", a.requestID, a.body)
		}
		if logs := g.logs.String(); !strings.Contains(logs, "no space left on device") || !strings.Contains(logs, a.requestID) {
			t.Errorf("internal error: the log lacks the error or request ID %s:\n%s", a.requestID, logs)
		}
	}
}

// A body that arrives too slowly has its connection closed; idle
// keep-alive connections and handlers that outlast the body timeout are
// not affected.
func TestBodyTimeout(t *testing.T) {
	g := newGuarded(t, server.GuardConfig{BodyTimeout: 50 * time.Millisecond, Auth: server.AuthNone})
	conn, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: %s\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{", g.addr, listClusters)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // only so a failing test ends
	reply, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("slow body: the connection was not closed: %v (read %q)", err, reply)
	}
	if !strings.Contains(string(reply), "408") || !strings.Contains(string(reply), "RequestTimeout") {
		t.Errorf("slow body: reply %q", reply)
	}
	if g.calls.Load() != 0 {
		t.Errorf("slow body reached the service")
	}

	// One keep-alive connection: idle beyond the body timeout between
	// requests, and a handler slower than it.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	for i, target := range []string{listClusters, ecsPrefix + ".Slow", listClusters} {
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, g.url, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("keep-alive request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("keep-alive request %d (%s): %d %s", i, target, resp.StatusCode, b)
		}
		if i > 0 && !reused {
			t.Errorf("keep-alive request %d (%s): a new connection, the idle one was closed", i, target)
		}
		time.Sleep(100 * time.Millisecond) // idle for longer than the body timeout
	}
}
