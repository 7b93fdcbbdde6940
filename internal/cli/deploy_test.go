package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

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
