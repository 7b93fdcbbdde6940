package deployconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecsdocument "github.com/aws/aws-sdk-go-v2/service/ecs/document"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// Members of DescribeTaskDefinition output that RegisterTaskDefinition
// does not take; exported definition files carry them.
var taskDefOutputOnly = map[string]bool{
	"taskdefinitionarn": true, "revision": true, "status": true,
	"requiresattributes": true, "compatibilities": true,
	"registeredat": true, "registeredby": true, "deregisteredat": true,
}

// Members of DescribeServices output that CreateService does not take.
var serviceOutputOnly = map[string]bool{
	"servicearn": true, "clusterarn": true, "status": true,
	"runningcount": true, "pendingcount": true, "deployments": true,
	"events": true, "createdat": true, "createdby": true, "rolearn": true,
	"tasksets": true, "currentservicedeployment": true,
	"currentservicerevisions": true,
}

// TaskDefinition reads the config's task_definition file into a
// RegisterTaskDefinition input. The warnings name members that were
// ignored, with the file and their JSON path.
func (c *Config) TaskDefinition() (*ecs.RegisterTaskDefinitionInput, []string, error) {
	if c.TaskDefinitionPath == "" {
		return nil, nil, fmt.Errorf("%s: task_definition is not set; name the task definition file (e.g. task_definition: ecs-task-def.json)", c.Path)
	}
	var in ecs.RegisterTaskDefinitionInput
	warns, err := c.readDefinition(c.TaskDefinitionPath, &in, taskDefOutputOnly, unwrapTaskDefinition)
	if err != nil {
		return nil, warns, err
	}
	if in.Family == nil || *in.Family == "" {
		return nil, warns, fmt.Errorf("%s: member family is missing; a task definition needs a family name", c.TaskDefinitionPath)
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, warns, fmt.Errorf("%s: member containerDefinitions is missing or empty; a task definition needs at least one container", c.TaskDefinitionPath)
	}
	return &in, warns, nil
}

// ServiceDefinition reads the config's service_definition file into a
// CreateService input, with serviceName and cluster taken from the config.
// TaskDefinition is left as the file has it (normally unset): the deployer
// fills in the revision it registers.
func (c *Config) ServiceDefinition() (*ecs.CreateServiceInput, []string, error) {
	if c.ServiceDefinitionPath == "" {
		return nil, nil, fmt.Errorf("%s: service_definition is not set; name the service definition file (e.g. service_definition: ecs-service-def.json)", c.Path)
	}
	var in ecs.CreateServiceInput
	warns, err := c.readDefinition(c.ServiceDefinitionPath, &in, serviceOutputOnly, nil)
	if err != nil {
		return nil, warns, err
	}
	path := c.ServiceDefinitionPath
	if c.Service == "" {
		if in.ServiceName == nil || *in.ServiceName == "" {
			return nil, warns, fmt.Errorf("%s: service is not set; add service: <name> to the config", c.Path)
		}
		warns = append(warns, fmt.Sprintf("%s: serviceName %q is taken from the definition because the config has no service key; ecspresso expects it in the config", path, *in.ServiceName))
	} else {
		if in.ServiceName != nil && *in.ServiceName != "" && *in.ServiceName != c.Service {
			warns = append(warns, fmt.Sprintf("%s: serviceName %q is replaced by the config's service %q", path, *in.ServiceName, c.Service))
		}
		in.ServiceName = &c.Service
	}
	if in.Cluster != nil && *in.Cluster != "" && *in.Cluster != c.Cluster && clusterName(*in.Cluster) != c.Cluster {
		warns = append(warns, fmt.Sprintf("%s: cluster %q is replaced by the config's cluster %q", path, *in.Cluster, c.Cluster))
	}
	in.Cluster = &c.Cluster
	return &in, warns, nil
}

func clusterName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+1:]
	}
	return s
}

// unwrapTaskDefinition accepts describe-task-definition output,
// {"taskDefinition": {...}, "tags": [...]}, as ecspresso does.
func unwrapTaskDefinition(doc map[string]any) map[string]any {
	inner, ok := doc["taskDefinition"].(map[string]any)
	if !ok {
		return doc
	}
	if tags, ok := doc["tags"]; ok {
		if _, has := inner["tags"]; !has {
			inner["tags"] = tags
		}
	}
	return inner
}

// readDefinition renders and decodes one definition file into v.
func (c *Config) readDefinition(path string, v any, outputOnly map[string]bool, unwrap func(map[string]any) map[string]any) ([]string, error) {
	var (
		rendered []byte
		warns    []string
		err      error
	)
	if strings.EqualFold(filepath.Ext(path), ".jsonnet") {
		js, err := c.evalJsonnet(path)
		if err != nil {
			return nil, err
		}
		rendered, warns, err = render(path, []byte(js), c.env)
		if err != nil {
			return nil, err
		}
	} else {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading definition: %w", err)
		}
		rendered, warns, err = render(path, src, c.env)
		if err != nil {
			return nil, err
		}
	}
	for i, w := range warns {
		warns[i] = path + ": " + w
	}

	var doc any
	dec := json.NewDecoder(bytes.NewReader(rendered))
	dec.UseNumber()
	err = dec.Decode(&doc)
	if err == nil && dec.More() {
		err = fmt.Errorf("data after the top-level JSON value")
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return warns, fmt.Errorf("%s: not valid JSON after rendering its templates, at %s: %v", path, syntaxLocation(rendered, se.Offset), err)
		}
		return warns, fmt.Errorf("%s: not valid JSON after rendering its templates: %v", path, err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return warns, fmt.Errorf("%s: a definition must be a JSON object, not %s", path, kindOf(doc))
	}
	if unwrap != nil {
		obj = unwrap(obj)
	}
	for k := range obj {
		if outputOnly[strings.ToLower(k)] {
			delete(obj, k)
		}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return warns, fmt.Errorf("%s: %v", path, err)
	}
	var unknown []string
	err = awsproto.DecodeJSON(body, v, awsproto.DecodeOptions{
		CaseInsensitive: true,
		Document:        func(v any) any { return ecsdocument.NewLazyDocument(v) },
		UnknownMember:   func(p string) { unknown = append(unknown, p) },
	})
	slices.Sort(unknown)
	for _, p := range unknown {
		warns = append(warns, fmt.Sprintf("%s: member %s is not part of %s and is ignored; check its spelling and nesting", path, p, opName(v)))
	}
	if err != nil {
		msg := err.Error()
		if e := awsproto.AsError(err); e != nil && e.Type != awsproto.ServerException {
			msg = e.Message
		}
		return warns, fmt.Errorf("%s: %s Fix the definition file to match the %s request shape.", path, msg, opName(v))
	}
	return warns, nil
}

func opName(v any) string {
	switch v.(type) {
	case *ecs.RegisterTaskDefinitionInput:
		return "RegisterTaskDefinition"
	case *ecs.CreateServiceInput:
		return "CreateService"
	}
	return fmt.Sprintf("%T", v)
}
