package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/ecsdproc"
	"github.com/ecsd/ecsd/internal/server"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// The ecsd binary with --credentials: SDK clients holding a configured key
// are answered; a wrong secret, an unknown key, an unsigned request and a
// foreign Host are refused, and create nothing.
func TestServeWithCredentials(t *testing.T) {
	p := startECSD(t, ecsdproc.Options{Args: []string{"--credentials", "AKIDTEST:secret,AKIDCI:ci-secret," + ecsdproc.Credential}})
	ctx := context.Background()
	client := func(key, secret string) (*ecs.Client, *elb.Client) {
		creds := credentials.NewStaticCredentialsProvider(key, secret, "")
		return ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + p.Addr), Credentials: creds, Retryer: aws.NopRetryer{}}),
			elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + p.Addr), Credentials: creds, Retryer: aws.NopRetryer{}})
	}
	good, goodELB := client("AKIDCI", "ci-secret")
	if _, err := good.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("signed")}); err != nil {
		t.Fatalf("configured key: %v", err)
	}
	if _, err := goodELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
		t.Fatalf("configured key, ELBv2: %v", err)
	}
	for _, tc := range []struct{ name, key, secret, ecsCode, elbCode string }{
		{"wrong secret", "AKIDCI", "secret", "InvalidSignatureException", "SignatureDoesNotMatch"},
		{"unknown key", "AKIDOTHER", "ci-secret", "UnrecognizedClientException", "InvalidClientTokenId"},
	} {
		c, e := client(tc.key, tc.secret)
		_, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("refused")})
		if got := apiCode(err); got != tc.ecsCode {
			t.Errorf("%s: CreateCluster answered %s, want %s", tc.name, got, tc.ecsCode)
		}
		_, err = e.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("refused")})
		if got := apiCode(err); got != tc.elbCode {
			t.Errorf("%s: CreateLoadBalancer answered %s, want %s", tc.name, got, tc.elbCode)
		}
	}
	for _, tc := range []struct{ name, host, auth, wantType string }{
		{"unsigned", "", "", "MissingAuthenticationTokenException"},
		{"foreign Host", "attacker.example", "", "AccessDeniedException"},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.Addr+"/", strings.NewReader(`{"clusterName":"refused"}`))
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != tc.wantType {
			t.Errorf("%s: got %d %s, want 403 %s", tc.name, resp.StatusCode, body, tc.wantType)
		}
	}
	clusters, err := good.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(clusters.ClusterArns) != 2 {
		t.Errorf("clusters: %v %v, want default and signed only", clusters, err)
	}
	lbs, err := goodELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(lbs.LoadBalancers) != 0 {
		t.Errorf("load balancers: %v %v, want none", lbs, err)
	}
}

// --auth none answers unsigned requests.
func TestServeAuthNone(t *testing.T) {
	p := startECSD(t, ecsdproc.Options{Args: []string{"--auth", "none"}})
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.Addr+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "cluster/default") {
		t.Errorf("unsigned with --auth none: %d %s", resp.StatusCode, body)
	}
}

func TestGuardFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--auth", "maybe"}, "--auth \"maybe\""},
		{[]string{"--credentials", "AKIDONLY"}, "--credentials"},
		{[]string{"--credentials", "A:b", "--auth", "none"}, "contradict"},
		{[]string{"--allowed-hosts", "http://x.example"}, "without scheme or port"},
	} {
		var out, errOut strings.Builder
		code := run(append([]string{"server", "--data-dir", t.TempDir()}, tc.args...), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 saying %s", tc.args, code, errOut.String(), tc.want)
		}
	}
	t.Setenv("ECSD_CREDENTIALS", "AKIDENV:env-secret")
	t.Setenv("ECSD_ALLOWED_HOSTS", "ecsd.internal, *.corp.example")
	cfg, err := guardConfig("127.0.0.1:5440", env("ECSD_AUTH", "sigv4"), env("ECSD_CREDENTIALS", ""), env("ECSD_ALLOWED_HOSTS", ""))
	if err != nil || cfg.Credentials["AKIDENV"] != "env-secret" || len(cfg.AllowedHosts) != 2 || cfg.AllowedHosts[1] != "*.corp.example" {
		t.Errorf("from the environment: %+v %v", cfg, err)
	}
}

// Listening beyond loopback is announced loudly, saying what it exposes
// and what to do.
func TestWarnExposure(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr net.Addr
		cfg  server.GuardConfig
		want []string // in the log; none: no warning
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5440}, server.GuardConfig{}, nil},
		{"loopback, no auth", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5440}, server.GuardConfig{Auth: server.AuthNone},
			[]string{"WARNING: --auth none", "any program on this machine"}},
		{"every address, any key", &net.TCPAddr{IP: net.IPv4zero, Port: 5440}, server.GuardConfig{},
			[]string{"WARNING", "NOT a loopback address", "run any command", "--credentials"}},
		{"LAN address, credentials", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5440}, server.GuardConfig{Credentials: map[string]string{"a": "b"}},
			[]string{"WARNING", "192.0.2.7:5440", "Only requests signed with the --credentials keys"}},
		{"every address, no auth", &net.TCPAddr{IP: net.IPv6unspecified, Port: 5440}, server.GuardConfig{Auth: server.AuthNone},
			[]string{"WARNING", "NO signature", "anyone at all"}},
	} {
		var buf bytes.Buffer
		warnExposure(slog.New(slog.NewTextHandler(&buf, nil)), tc.addr, tc.cfg)
		if tc.want == nil && buf.Len() > 0 {
			t.Errorf("%s: unexpected warning %s", tc.name, buf.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: the warning lacks %q: %s", tc.name, w, buf.String())
			}
		}
	}
}
