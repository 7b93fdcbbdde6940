package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/pmezard/go-difflib/difflib"
	"golang.org/x/term"
)

func init() {
	unified := true
	commands["diff"] = command{
		summary: "show how the local definitions differ from the live ones (exits 0 either way)",
		flags: func(fs *flag.FlagSet) func() {
			fs.BoolVar(&unified, "unified", true, "unified diff with 3 lines of context; --unified=false prints the whole definitions with the changed lines marked")
			return nil
		},
		run: func(a *app, args []string) error { return a.diff(unified) },
	}
}

// diff prints, per definition file, a unified diff from the live service
// (or task definition) to the local file, both normalised as ecspresso
// does. Like ecspresso it succeeds whether or not there are differences.
func (a *app) diff(unified bool) error {
	if err := a.load(); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	around := 3
	if !unified {
		around = -1
	}
	color := a.colorOutput()
	changed := false
	var remoteTaskDef string
	if a.cfg.Service != "" {
		local, warns, err := a.cfg.ServiceDefinition()
		a.warn(warns)
		if err != nil {
			return err
		}
		remote, err := a.describeService(ctx)
		if err != nil {
			return err
		}
		// As ecspresso: a definition without desiredCount leaves it alone.
		withCount := local.DesiredCount != nil
		localText, err := serviceDiffText(local, withCount)
		if err != nil {
			return err
		}
		from, remoteText := "/dev/null", ""
		if remote != nil {
			from = aws.ToString(remote.ServiceArn)
			remoteTaskDef = aws.ToString(remote.TaskDefinition)
			def, err := serviceDefinition(remote)
			if err != nil {
				return err
			}
			def.DesiredCount = aws.Int32(remote.DesiredCount)
			if remoteText, err = serviceDiffText(def, withCount); err != nil {
				return err
			}
		}
		if d := unifiedDiff(from, a.cfg.ServiceDefinitionPath, remoteText, localText, around); d != "" {
			changed = true
			writeDiff(a.stdout, d, color)
		}
	}

	local, warns, err := a.cfg.TaskDefinition()
	a.warn(warns)
	if err != nil {
		return err
	}
	if remoteTaskDef == "" {
		// No service: compare with the family's latest revision.
		remoteTaskDef = aws.ToString(local.Family)
	}
	from, remoteText := "/dev/null", ""
	td, tags, err := a.describeTaskDefinition(ctx, remoteTaskDef)
	switch {
	case err == nil:
		remote, err := taskDefinitionInput(td, tags)
		if err != nil {
			return err
		}
		from = aws.ToString(td.TaskDefinitionArn)
		if remoteText, err = taskDefinitionDiffText(remote); err != nil {
			return err
		}
	case isClientException(err) && remoteTaskDef == aws.ToString(local.Family):
		// The family has no ACTIVE revision yet: everything is new.
	default:
		return err
	}
	localText, err := taskDefinitionDiffText(local)
	if err != nil {
		return err
	}
	if d := unifiedDiff(from, a.cfg.TaskDefinitionPath, remoteText, localText, around); d != "" {
		changed = true
		writeDiff(a.stdout, d, color)
	}
	if !changed {
		fmt.Fprintln(a.stderr, "no differences")
	}
	return nil
}

// isClientException reports whether ECS answered "not found" the way it
// does for a task definition: a ClientException.
func isClientException(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ClientException"
}

// unifiedDiff is the unified diff from a to b, with around lines of
// context around each change (all of them when around < 0), or "" when
// they are equal.
func unifiedDiff(fromName, toName, a, b string, around int) string {
	if a == b {
		return ""
	}
	al, bl := diffLines(a), diffLines(b)
	if around < 0 {
		around = max(len(al), len(bl))
	}
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: al, B: bl, FromFile: fromName, ToFile: toName, Context: around})
	return d
}

func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	return difflib.SplitLines(strings.TrimSuffix(s, "\n"))
}

// writeDiff prints a diff, removals red and additions green when color.
func writeDiff(w io.Writer, d string, color bool) {
	if !color {
		fmt.Fprint(w, d)
		return
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		text := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(text, "-"):
			b.WriteString("\x1b[31m" + text + "\x1b[0m" + line[len(text):])
		case strings.HasPrefix(text, "+"):
			b.WriteString("\x1b[32m" + text + "\x1b[0m" + line[len(text):])
		default:
			b.WriteString(line)
		}
	}
	fmt.Fprint(w, b.String())
}

// colorOutput reports whether stdout is a terminal that wants colour
// (NO_COLOR unset).
func (a *app) colorOutput() bool {
	f, ok := a.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && a.getenv("NO_COLOR") == ""
}

// serviceDiffText renders a service definition for diffing, normalised
// as ecspresso does: the members UpdateService can change plus tags, ECS's
// defaults filled, and lists whose order ECS does not keep sorted.
// desiredCount is left out unless withCount.
func serviceDiffText(def *ecs.CreateServiceInput, withCount bool) (string, error) {
	var sv ecs.CreateServiceInput
	if err := convert(def, &sv); err != nil {
		return "", err
	}
	normalizeService(&sv)
	in := &ecs.UpdateServiceInput{
		AvailabilityZoneRebalancing:   sv.AvailabilityZoneRebalancing,
		CapacityProviderStrategy:      sv.CapacityProviderStrategy,
		DeploymentConfiguration:       sv.DeploymentConfiguration,
		EnableECSManagedTags:          aws.Bool(sv.EnableECSManagedTags),
		EnableExecuteCommand:          aws.Bool(sv.EnableExecuteCommand),
		HealthCheckGracePeriodSeconds: sv.HealthCheckGracePeriodSeconds,
		LoadBalancers:                 sv.LoadBalancers,
		NetworkConfiguration:          sv.NetworkConfiguration,
		PlacementConstraints:          sv.PlacementConstraints,
		PlacementStrategy:             sv.PlacementStrategy,
		PlatformVersion:               sv.PlatformVersion,
		PropagateTags:                 sv.PropagateTags,
		ServiceConnectConfiguration:   sv.ServiceConnectConfiguration,
		ServiceRegistries:             sv.ServiceRegistries,
		VolumeConfigurations:          sv.VolumeConfigurations,
		VpcLatticeConfigurations:      sv.VpcLatticeConfigurations,
	}
	if withCount {
		in.DesiredCount = sv.DesiredCount
	}
	if sv.SchedulingStrategy == types.SchedulingStrategyDaemon {
		in.PlacementStrategy = nil
	}
	m, err := apiMap(in)
	if err != nil {
		return "", err
	}
	delete(m, "forceNewDeployment")
	if len(sv.Tags) > 0 {
		tags, err := apiMap(&ecs.TagResourceInput{Tags: sv.Tags})
		if err != nil {
			return "", err
		}
		m["tags"] = tags["tags"]
	}
	b, err := indentJSON(m)
	return string(b), err
}

// normalizeService fills the defaults ECS reports for members a definition
// may leave out, and sorts the lists whose order does not matter.
func normalizeService(sv *ecs.CreateServiceInput) {
	sortByJSON(sv.PlacementConstraints)
	sortByJSON(sv.PlacementStrategy)
	slices.SortStableFunc(sv.Tags, func(x, y types.Tag) int { return strings.Compare(aws.ToString(x.Key), aws.ToString(y.Key)) })
	slices.SortStableFunc(sv.VolumeConfigurations, func(x, y types.ServiceVolumeConfiguration) int {
		return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name))
	})
	slices.SortStableFunc(sv.VpcLatticeConfigurations, func(x, y types.VpcLatticeConfiguration) int {
		return strings.Compare(aws.ToString(x.PortName), aws.ToString(y.PortName))
	})
	if sv.AvailabilityZoneRebalancing == "" {
		sv.AvailabilityZoneRebalancing = types.AvailabilityZoneRebalancingDisabled
	}
	if sv.LaunchType == types.LaunchTypeFargate && sv.PlatformVersion == nil {
		sv.PlatformVersion = aws.String("LATEST")
	}
	if sv.HealthCheckGracePeriodSeconds == nil {
		sv.HealthCheckGracePeriodSeconds = aws.Int32(0)
	}
	if sv.PropagateTags == "" {
		sv.PropagateTags = types.PropagateTagsNone
	}
	switch sv.SchedulingStrategy {
	case "", types.SchedulingStrategyReplica:
		sv.SchedulingStrategy = types.SchedulingStrategyReplica
		if sv.DeploymentConfiguration == nil {
			sv.DeploymentConfiguration = &types.DeploymentConfiguration{}
		}
		dc := sv.DeploymentConfiguration
		if dc.DeploymentCircuitBreaker == nil {
			dc.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{}
		}
		if dc.Strategy == "" {
			dc.Strategy = types.DeploymentStrategyRolling
		}
		if dc.MaximumPercent == nil {
			dc.MaximumPercent = aws.Int32(200)
		}
		if dc.MinimumHealthyPercent == nil {
			dc.MinimumHealthyPercent = aws.Int32(100)
		}
		if dc.BakeTimeInMinutes == nil {
			dc.BakeTimeInMinutes = aws.Int32(0)
		}
	case types.SchedulingStrategyDaemon:
		if sv.DeploymentConfiguration == nil {
			sv.DeploymentConfiguration = &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)}
		}
	}
	if dc := sv.DeploymentConfiguration; dc != nil {
		if cb := dc.DeploymentCircuitBreaker; cb != nil {
			if cb.ResetOnHealthyTask == nil {
				cb.ResetOnHealthyTask = aws.Bool(true)
			}
			if cb.ThresholdConfiguration == nil {
				cb.ThresholdConfiguration = &types.ThresholdConfiguration{Type: types.ThresholdTypeBoundedPercent, Value: 50}
			}
		}
		if esc := dc.EarlySuccessCriteria; esc != nil {
			if esc.HealthyPercent == nil {
				esc.HealthyPercent = aws.Int32(100)
			}
			if esc.SourceServiceRevisionCleanup == "" {
				esc.SourceServiceRevisionCleanup = types.ServiceRevisionCleanupBlocking
			}
		}
		for i := range dc.LifecycleHooks {
			h := &dc.LifecycleHooks[i]
			if h.TargetType == "" {
				h.TargetType = types.DeploymentLifecycleHookTargetTypeAwsLambda
			}
			if h.TimeoutConfiguration == nil {
				h.TimeoutConfiguration = &types.DeploymentLifecycleHookTimeoutConfiguration{}
			}
			if h.TimeoutConfiguration.Action == "" {
				h.TimeoutConfiguration.Action = types.DeploymentLifecycleHookActionRollback
			}
			if h.TimeoutConfiguration.TimeoutInMinutes == nil {
				h.TimeoutConfiguration.TimeoutInMinutes = aws.Int32(1440)
			}
		}
	}
	if nc := sv.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		ac := nc.AwsvpcConfiguration
		if ac.AssignPublicIp == "" {
			ac.AssignPublicIp = types.AssignPublicIpDisabled
		}
		slices.Sort(ac.SecurityGroups)
		slices.Sort(ac.Subnets)
	}
	if sv.DeploymentController != nil && sv.DeploymentController.Type == types.DeploymentControllerTypeCodeDeploy {
		// CodeDeploy swaps target groups between blue and green.
		for i := range sv.LoadBalancers {
			sv.LoadBalancers[i].TargetGroupArn = nil
		}
	}
}

// taskDefinitionDiffText renders a task definition for diffing, normalised
// as ecspresso does: lists whose order ECS does not keep sorted, "1 vCPU"
// and "2 GB" as CPU units and MiB, and ECS's defaults filled in (those
// DescribeTaskDefinition echoes: essential, a port's protocol and host port,
// enableFaultInjection; empty lists are dropped on both sides).
func taskDefinitionDiffText(in *ecs.RegisterTaskDefinitionInput) (string, error) {
	var td ecs.RegisterTaskDefinitionInput
	if err := convert(in, &td); err != nil {
		return "", err
	}
	normalizeTaskDefinition(&td)
	b, err := apiJSON(&td)
	return string(b), err
}

func normalizeTaskDefinition(td *ecs.RegisterTaskDefinitionInput) {
	for i := range td.ContainerDefinitions {
		cd := &td.ContainerDefinitions[i]
		slices.SortStableFunc(cd.Environment, func(x, y types.KeyValuePair) int { return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name)) })
		slices.SortStableFunc(cd.Secrets, func(x, y types.Secret) int { return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name)) })
		sortByJSON(cd.MountPoints)
		sortByJSON(cd.PortMappings)
		sortByJSON(cd.VolumesFrom)
		for j := range cd.PortMappings {
			pm := &cd.PortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = types.TransportProtocolTcp
			}
			if pm.HostPort == nil && pm.ContainerPort != nil {
				switch td.NetworkMode {
				case types.NetworkModeAwsvpc:
					pm.HostPort = pm.ContainerPort
				case "", types.NetworkModeBridge: // a dynamic host port
					pm.HostPort = aws.Int32(0)
				}
			}
		}
		if cd.Essential == nil {
			cd.Essential = aws.Bool(true)
		}
	}
	slices.SortStableFunc(td.ContainerDefinitions, func(x, y types.ContainerDefinition) int {
		return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name))
	})
	sortByJSON(td.PlacementConstraints)
	slices.Sort(td.RequiresCompatibilities)
	sortByJSON(td.Volumes)
	slices.SortStableFunc(td.Tags, func(x, y types.Tag) int { return strings.Compare(aws.ToString(x.Key), aws.ToString(y.Key)) })
	if td.Cpu != nil {
		td.Cpu = aws.String(unitsOf(*td.Cpu, "vcpu"))
	}
	if td.Memory != nil {
		td.Memory = aws.String(unitsOf(*td.Memory, "gb"))
	}
	if td.EnableFaultInjection == nil {
		td.EnableFaultInjection = aws.Bool(false)
	}
	if pc := td.ProxyConfiguration; pc != nil {
		slices.SortStableFunc(pc.Properties, func(x, y types.KeyValuePair) int { return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name)) })
	}
}

// unitsOf turns "1 vCPU" into "1024" (CPU units) and "2 GB" into "2048"
// (MiB), as ECS stores them; other values are returned unchanged.
func unitsOf(v, unit string) string {
	i := strings.Index(strings.ToLower(v), unit)
	if i <= 0 {
		return v
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(v[:i]), 64)
	if err != nil {
		return v
	}
	return strconv.Itoa(int(n * 1024))
}

// sortByJSON sorts s by each element's JSON, for lists of structs whose
// order ECS does not keep.
func sortByJSON[T any](s []T) {
	key := func(v T) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	slices.SortStableFunc(s, func(x, y T) int { return strings.Compare(key(x), key(y)) })
}
