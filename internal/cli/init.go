package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-jsonnet/formatter"
	"gopkg.in/yaml.v3"

	"github.com/ecsd/ecsd/internal/deployconf"
)

type initFlags struct {
	service, cluster, region      string
	taskDefPath, serviceDefPath   string
	forceOverwrite, jsonnetOutput bool
}

func init() {
	var f initFlags
	commands["init"] = command{
		summary: "write a config and definition files from a live service (--service NAME)",
		flags: func(fs *flag.FlagSet) func() {
			fs.StringVar(&f.service, "service", "", "the service to read (required)")
			fs.StringVar(&f.cluster, "cluster", deployconf.DefaultCluster, "the service's cluster")
			fs.StringVar(&f.region, "region", "", "AWS region (default: the AWS configuration's, e.g. AWS_REGION)")
			fs.StringVar(&f.taskDefPath, "task-definition-path", "ecs-task-def.json", "task definition file to write")
			fs.StringVar(&f.serviceDefPath, "service-definition-path", "ecs-service-def.json", "service definition file to write")
			fs.BoolVar(&f.forceOverwrite, "force-overwrite", false, "replace files that already exist")
			fs.BoolVar(&f.jsonnetOutput, "jsonnet", false, "write Jsonnet (.jsonnet) files instead of JSON and YAML")
			return nil
		},
		run: func(a *app, args []string) error { return a.initFiles(f) },
	}
}

// initConfig is the config file init writes, keys in ecspresso's order.
type initConfig struct {
	Region            string `yaml:"region,omitempty" json:"region,omitempty"`
	Cluster           string `yaml:"cluster" json:"cluster"`
	Service           string `yaml:"service" json:"service"`
	ServiceDefinition string `yaml:"service_definition" json:"service_definition"`
	TaskDefinition    string `yaml:"task_definition" json:"task_definition"`
	Timeout           string `yaml:"timeout" json:"timeout"`
}

// initFiles reads the live service and its task definition and writes them
// as definition files with a config naming them, as "ecspresso init" does.
func (a *app) initFiles(f initFlags) error {
	if f.service == "" {
		return errors.New("--service is required: name the service to read (and --cluster if it is not in \"default\")")
	}
	configPath := firstNonEmpty(a.g.config, "ecspresso.yml")
	if f.jsonnetOutput {
		configPath = withExt(configPath, ".jsonnet", ".yml", ".yaml")
		f.taskDefPath = withExt(f.taskDefPath, ".jsonnet", ".json")
		f.serviceDefPath = withExt(f.serviceDefPath, ".jsonnet", ".json")
	}
	if !f.forceOverwrite {
		if err := refuseOverwrite(configPath, f.serviceDefPath, f.taskDefPath); err != nil {
			return err
		}
	}

	a.cfg = &deployconf.Config{Region: f.region, Cluster: f.cluster, Service: f.service}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		if f.region == "" {
			return fmt.Errorf("%w (or pass --region)", err)
		}
		return err
	}
	region := a.ecs.Options().Region
	serviceJSON, taskJSON, err := a.liveDefinitions(ctx, f, region)
	if err != nil {
		return err
	}
	cfg := initConfig{
		Region:            region,
		Cluster:           f.cluster,
		Service:           f.service,
		ServiceDefinition: relativeTo(configPath, f.serviceDefPath),
		TaskDefinition:    relativeTo(configPath, f.taskDefPath),
		Timeout:           deployconf.DefaultTimeout.String(),
	}
	var configData []byte
	if f.jsonnetOutput || strings.EqualFold(filepath.Ext(configPath), ".json") {
		configData, err = json.MarshalIndent(cfg, "", "  ")
		configData = append(configData, '\n')
	} else {
		configData, err = yaml.Marshal(cfg)
	}
	if err != nil {
		return err
	}
	return a.writeInitFiles(f.jsonnetOutput, []initFile{
		{"service definition", f.serviceDefPath, serviceJSON},
		{"task definition", f.taskDefPath, taskJSON},
		{"config", configPath, configData},
	})
}

// refuseOverwrite fails when any of paths exists already.
func refuseOverwrite(paths ...string) error {
	var existing []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("not overwriting %s: already there; pass --force-overwrite to replace, or choose other paths with --config, --service-definition-path and --task-definition-path",
			strings.Join(existing, ", "))
	}
	return nil
}

// liveDefinitions reads the live service and its task definition and
// returns them as the JSON of their definition files.
func (a *app) liveDefinitions(ctx context.Context, f initFlags, region string) (serviceJSON, taskJSON []byte, err error) {
	svc, err := a.describeService(ctx)
	if err != nil {
		return nil, nil, err
	}
	if svc == nil {
		return nil, nil, fmt.Errorf("service %s not found in cluster %s (region %s); check --service, --cluster and --region", f.service, f.cluster, region)
	}
	if aws.ToString(svc.TaskDefinition) == "" {
		return nil, nil, fmt.Errorf("service %s has no task definition of its own (its %s deployment controller deploys task sets); ecsctl init reads services deployed by ECS", f.service, deploymentControllerType(svc))
	}
	sd, err := serviceDefinition(svc)
	if err != nil {
		return nil, nil, err
	}
	if serviceJSON, err = apiJSON(sd); err != nil {
		return nil, nil, err
	}
	td, tags, err := a.describeTaskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return nil, nil, err
	}
	tdIn, err := taskDefinitionInput(td, tags)
	if err != nil {
		return nil, nil, err
	}
	if taskJSON, err = apiJSON(tdIn); err != nil {
		return nil, nil, err
	}
	return serviceJSON, taskJSON, nil
}

// initFile is a file init writes.
type initFile struct {
	what, path string
	data       []byte
}

// writeInitFiles writes the files, formatted as Jsonnet with jsonnet,
// making their directories.
func (a *app) writeInitFiles(jsonnet bool, files []initFile) error {
	for _, file := range files {
		data := file.data
		if jsonnet {
			out, err := formatter.Format(file.path, string(data), formatter.DefaultOptions())
			if err != nil {
				return fmt.Errorf("formatting %s as Jsonnet: %w", file.path, err)
			}
			data = []byte(out)
		}
		if dir := filepath.Dir(file.path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(file.path, data, 0o644); err != nil {
			return fmt.Errorf("writing the %s: %w", file.what, err)
		}
		a.out.info("wrote the %s to %s", file.what, file.path)
	}
	return nil
}

func deploymentControllerType(svc *types.Service) types.DeploymentControllerType {
	if svc.DeploymentController == nil {
		return types.DeploymentControllerTypeEcs
	}
	return svc.DeploymentController.Type
}

// withExt replaces p's extension with ext when it is one of from.
func withExt(p, ext string, from ...string) string {
	old := filepath.Ext(p)
	for _, f := range from {
		if strings.EqualFold(old, f) {
			return strings.TrimSuffix(p, old) + ext
		}
	}
	return p
}

// relativeTo is target (a path relative to the working directory, or
// absolute) as the config at configPath names it: relative to the config's
// directory, except an absolute target outside that directory.
func relativeTo(configPath, target string) string {
	dir, err1 := filepath.Abs(filepath.Dir(configPath))
	abs, err2 := filepath.Abs(target)
	if err1 != nil || err2 != nil {
		return target
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || (filepath.IsAbs(target) && strings.HasPrefix(rel, "..")) {
		return target
	}
	return filepath.ToSlash(rel)
}
