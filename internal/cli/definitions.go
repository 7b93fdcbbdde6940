package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecsdocument "github.com/aws/aws-sdk-go-v2/service/ecs/document"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Members of a described task definition that RegisterTaskDefinition does
// not take.
var taskDefinitionOutputOnly = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt",
}

// Members of a described service that a service definition file leaves
// out: read-only state, and what the config or the deployer supplies
// (serviceName, cluster, taskDefinition, desiredCount), as ecspresso does.
var serviceOutputOnly = []string{
	"serviceArn", "clusterArn", "status", "runningCount", "pendingCount", "deployments",
	"events", "createdAt", "createdBy", "roleArn", "taskSets", "currentServiceDeployment",
	"currentServiceRevisions", "serviceName", "cluster", "taskDefinition", "desiredCount",
}

// apiJSON renders an SDK value the way definition files are written: ECS
// API member names (lowerCamel), keys sorted, two-space indent, and no
// null, empty list or empty object members.
func apiJSON(v any) ([]byte, error) {
	m, err := apiMap(v)
	if err != nil {
		return nil, err
	}
	return indentJSON(m)
}

// apiMap is v as ECS API JSON decoded into generic values, pruned as
// apiJSON describes.
func apiMap(v any) (map[string]any, error) {
	raw, err := awsproto.EncodeJSON(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", v, err)
	}
	prune(m)
	return m, nil
}

func indentJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// prune removes the members of v (recursively) that are null, empty lists
// or empty objects. List elements are kept, so positions do not shift.
func prune(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for k, e := range x {
			if prune(e) {
				delete(x, k)
			}
		}
		return len(x) == 0
	case []any:
		for _, e := range x {
			prune(e)
		}
		return len(x) == 0
	}
	return false
}

// convert copies src into dst, both SDK structs, through their ECS API
// JSON, leaving out the members named in drop and those dst has no field
// for. dst gets its own copy of every list and nested struct.
func convert(src, dst any, drop ...string) error {
	m, err := apiMap(src)
	if err != nil {
		return err
	}
	for _, k := range drop {
		delete(m, k)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return awsproto.DecodeJSON(body, dst, awsproto.DecodeOptions{
		Document:      func(v any) any { return ecsdocument.NewLazyDocument(v) },
		UnknownMember: func(string) {},
	})
}

// taskDefinitionInput turns a described task definition and its tags into
// the RegisterTaskDefinition input that would register it again.
func taskDefinitionInput(td *types.TaskDefinition, tags []types.Tag) (*ecs.RegisterTaskDefinitionInput, error) {
	var in ecs.RegisterTaskDefinitionInput
	if err := convert(td, &in, taskDefinitionOutputOnly...); err != nil {
		return nil, fmt.Errorf("converting task definition %s: %w", aws.ToString(td.TaskDefinitionArn), err)
	}
	if len(tags) > 0 {
		in.Tags = tags
	}
	return &in, nil
}

// serviceDefinition turns a described service into the CreateService
// input a service definition file holds: without serviceName, cluster,
// taskDefinition and desiredCount, which the config and the deployer give.
func serviceDefinition(svc *types.Service) (*ecs.CreateServiceInput, error) {
	var in ecs.CreateServiceInput
	if err := convert(svc, &in, serviceOutputOnly...); err != nil {
		return nil, fmt.Errorf("converting service %s: %w", aws.ToString(svc.ServiceName), err)
	}
	if in.PropagateTags != types.PropagateTagsService && in.PropagateTags != types.PropagateTagsTaskDefinition {
		in.PropagateTags = types.PropagateTagsNone
	}
	// DescribeServices reports these only on the deployments.
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != ecsmodel.DeploymentPrimary {
			continue
		}
		var dep ecs.CreateServiceInput
		if err := convert(&d, &dep); err != nil {
			return nil, fmt.Errorf("converting the deployment of service %s: %w", aws.ToString(svc.ServiceName), err)
		}
		in.ServiceConnectConfiguration = dep.ServiceConnectConfiguration
		in.VolumeConfigurations = dep.VolumeConfigurations
		in.VpcLatticeConfigurations = dep.VpcLatticeConfigurations
	}
	return &in, nil
}

// describeService is the service the config names with its tags, or nil
// when it does not exist (or is INACTIVE).
func (a *app) describeService(ctx context.Context) (*types.Service, error) {
	out, err := a.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster:  aws.String(a.cfg.Cluster),
		Services: []string{a.cfg.Service},
		Include:  []types.ServiceField{types.ServiceFieldTags},
	})
	if err != nil {
		return nil, fmt.Errorf("describing service %s in cluster %s: %w", a.cfg.Service, a.cfg.Cluster, err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.Status) != ecsmodel.ServiceInactive {
			return &s, nil
		}
	}
	return nil, nil
}

// describeTaskDefinition returns a task definition with its tags.
func (a *app) describeTaskDefinition(ctx context.Context, ref string) (*types.TaskDefinition, []types.Tag, error) {
	out, err := a.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref),
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("describing task definition %s: %w", ref, err)
	}
	return out.TaskDefinition, out.Tags, nil
}

// warn prints the warnings loading a definition gave.
func (a *app) warn(warnings []string) {
	for _, w := range warnings {
		if a.out != nil {
			a.out.warn(w) // a JSON line with --log-format json
			continue
		}
		fmt.Fprintln(a.stderr, "warning:", w)
	}
}

// taskDefinitionName is the family:revision of a task definition ARN (a
// name is returned as it is).
func taskDefinitionName(arn string) string {
	if strings.HasPrefix(arn, "arn:") {
		if i := strings.LastIndexByte(arn, '/'); i >= 0 {
			return arn[i+1:]
		}
	}
	return arn
}
