package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/deployconf"
)

// loadConfig writes files into a temporary directory and loads its
// ecspresso.yml.
func loadConfig(t *testing.T, files map[string]string) *deployconf.Config {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := deployconf.Load(filepath.Join(dir, "ecspresso.yml"), deployconf.Options{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("loading the config: %v", err)
	}
	return cfg
}

const tdARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"

func TestUpdateInputRejectsABrokenServiceDefinition(t *testing.T) {
	a := &app{cfg: loadConfig(t, map[string]string{
		"ecspresso.yml":        "cluster: default\nservice: web\nservice_definition: ecs-service-def.json\n",
		"ecs-service-def.json": `{"deploymentConfiguration": {`,
	})}
	in, err := a.updateInput(tdARN, deployFlags{tasks: -1})
	if err == nil {
		t.Fatalf("a broken service definition is accepted on update: %+v", in)
	}
	if !strings.Contains(err.Error(), "ecs-service-def.json") {
		t.Errorf("the error does not name the file: %v", err)
	}
}

func TestUpdateInputTakesTheServiceDefinition(t *testing.T) {
	a := &app{cfg: loadConfig(t, map[string]string{
		"ecspresso.yml":        "cluster: default\nservice: web\nservice_definition: ecs-service-def.json\n",
		"ecs-service-def.json": `{"deploymentConfiguration": {"minimumHealthyPercent": 50}, "healthCheckGracePeriodSeconds": 7}`,
	})}
	in, err := a.updateInput(tdARN, deployFlags{tasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TaskDefinition) != tdARN {
		t.Errorf("taskDefinition = %q, want %q", aws.ToString(in.TaskDefinition), tdARN)
	}
	if aws.ToInt32(in.DesiredCount) != 3 {
		t.Errorf("desiredCount = %d, want 3 (--tasks)", aws.ToInt32(in.DesiredCount))
	}
	if in.DeploymentConfiguration == nil || aws.ToInt32(in.DeploymentConfiguration.MinimumHealthyPercent) != 50 {
		t.Errorf("deploymentConfiguration = %+v, want minimumHealthyPercent 50 from the definition", in.DeploymentConfiguration)
	}
	if aws.ToInt32(in.HealthCheckGracePeriodSeconds) != 7 {
		t.Errorf("healthCheckGracePeriodSeconds = %d, want 7 from the definition", aws.ToInt32(in.HealthCheckGracePeriodSeconds))
	}
}

func TestUpdateInputWithoutServiceDefinition(t *testing.T) {
	a := &app{cfg: loadConfig(t, map[string]string{"ecspresso.yml": "cluster: default\nservice: web\n"})}
	in, err := a.updateInput(tdARN, deployFlags{tasks: -1})
	if err != nil {
		t.Fatalf("a config without a service definition fails on update: %v", err)
	}
	if in.DesiredCount != nil {
		t.Errorf("desiredCount = %d, want unset without --tasks", aws.ToInt32(in.DesiredCount))
	}
	if in.DeploymentConfiguration != nil {
		t.Errorf("deploymentConfiguration = %+v, want unset without a service definition", in.DeploymentConfiguration)
	}
}

// The notice that a rollout waits on running time comes once, reads the
// task definition once, and not at all for a load-balanced service.
func TestNoteRunningTimeWait(t *testing.T) {
	isolateAWSConfig(t)
	var describes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTaskDefinition") || !strings.Contains(string(body), tdARN) {
			http.Error(w, `{"__type":"ClientException","message":"unexpected"}`, 400)
			return
		}
		describes.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"taskDefinition":{"taskDefinitionArn":"`+tdARN+`","containerDefinitions":[{"name":"app","image":"x"}]}}`)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)

	svc := types.Service{Deployments: []types.Deployment{{
		Id: aws.String("ecs-svc/2"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdARN),
		RolloutState: types.DeploymentRolloutStateInProgress, RunningCount: 2,
	}}}
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard}
	a.out = newPrinter(&out, io.Discard, "text", func(string) string { return "" })
	if err := a.client(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n runningTimeNote
	a.noteRunningTimeWait(context.Background(), svc, "ecs-svc/2", &n)
	a.noteRunningTimeWait(context.Background(), svc, "ecs-svc/2", &n)
	if c := strings.Count(out.String(), "count as healthy"); c != 1 {
		t.Errorf("the notice came %d times, want once:\n%s", c, out.String())
	}
	for _, want := range []string{"without a load balancer or a container health check", "40s on ECS", "add a healthCheck", "--healthy-after 5s", "ECSD_HEALTHY_AFTER"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the notice lacks %q:\n%s", want, out.String())
		}
	}
	if d := describes.Load(); d != 1 {
		t.Errorf("DescribeTaskDefinition called %d times, want 1", d)
	}

	out.Reset()
	svc.LoadBalancers = []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
	a.noteRunningTimeWait(context.Background(), svc, "ecs-svc/2", &runningTimeNote{})
	if out.Len() != 0 || describes.Load() != 1 {
		t.Errorf("a load-balanced service got the notice (or a describe): %q", out.String())
	}
}
