package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecsd/ecsd/internal/autoscalingapi"
	"github.com/ecsd/ecsd/internal/deployconf"
	"github.com/ecsd/ecsd/internal/server"
)

// isolateAWSConfig keeps the machine's AWS configuration out of a test.
func isolateAWSConfig(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
		"AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
}

// TestClientsFollowTheEndpoint: every client ecsctl makes goes where the
// standard configuration says — AWS_ENDPOINT_URL for all of them, the ECS
// endpoint for the others when only AWS_ENDPOINT_URL_ECS is set, and a
// service's own variable over both.
func TestClientsFollowTheEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name             string
		env              map[string]string
		wantECS, wantELB string
		wantAutoScaling  string
	}{
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5440"},
			"http://127.0.0.1:5440", "http://127.0.0.1:5440", "http://127.0.0.1:5440"},
		{"AWS_ENDPOINT_URL_ECS only", map[string]string{"AWS_ENDPOINT_URL_ECS": "http://127.0.0.1:5441"},
			"http://127.0.0.1:5441", "http://127.0.0.1:5441", "http://127.0.0.1:5441"},
		{"a service's own variable wins", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5440", "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": "http://127.0.0.1:6000"},
			"http://127.0.0.1:5440", "http://127.0.0.1:5440", "http://127.0.0.1:6000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWSConfig(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			a := &app{}
			if err := a.client(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(a.ecs.Options().BaseEndpoint); got != tc.wantECS {
				t.Errorf("ECS endpoint %q, want %q", got, tc.wantECS)
			}
			if got := aws.ToString(a.elbv2Client().Options().BaseEndpoint); got != tc.wantELB {
				t.Errorf("ELBv2 endpoint %q, want %q", got, tc.wantELB)
			}
			if got := aws.ToString(a.autoScalingClient().Options().BaseEndpoint); got != tc.wantAutoScaling {
				t.Errorf("Application Auto Scaling endpoint %q, want %q", got, tc.wantAutoScaling)
			}
		})
	}
}

// TestSuspendAutoScalingAgainstEcsd: ecsd answers Application Auto
// Scaling (no scalable targets), so --suspend-auto-scaling says there is
// nothing to suspend instead of warning that the service is unavailable.
func TestSuspendAutoScalingAgainstEcsd(t *testing.T) {
	isolateAWSConfig(t)
	h := server.New("us-east-1", slog.New(slog.DiscardHandler))
	h.HandleJSON(autoscalingapi.TargetPrefix, autoscalingapi.New())
	srv := httptest.NewServer(h)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)

	var out, errOut bytes.Buffer
	a := &app{stdout: &out, stderr: &errOut, cfg: &deployconf.Config{Cluster: "default", Service: "web"}}
	a.out = newPrinter(&out, &errOut, "text", func(string) string { return "" })
	if err := a.client(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.setAutoScaling(context.Background(), aws.Bool(true), false); err != nil {
		t.Fatalf("setAutoScaling: %v", err)
	}
	if errOut.Len() != 0 {
		t.Errorf("a warning against ecsd: %s", errOut.String())
	}
	if want := "no scalable target for service/default/web: no auto scaling to suspend"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}
