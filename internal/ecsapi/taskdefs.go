package ecsapi

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

func validateTaskDefinition(in *ecs.RegisterTaskDefinitionInput) error {
	if !validName(aws.ToString(in.Family)) {
		return clientErr("Family must be 1 to 255 letters (uppercase and lowercase), numbers, hyphens and underscores.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return clientErr("Container list cannot be empty.")
	}
	if len(in.ContainerDefinitions) > 10 {
		return clientErr("A task definition can have at most 10 containers.")
	}
	switch in.NetworkMode {
	case "", types.NetworkModeBridge, types.NetworkModeHost, types.NetworkModeAwsvpc, types.NetworkModeNone:
	default:
		return clientErr("Invalid networkMode %q: valid values are bridge, host, awsvpc and none.", in.NetworkMode)
	}
	fargate := slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate)
	for _, c := range in.RequiresCompatibilities {
		switch c {
		case types.CompatibilityEc2, types.CompatibilityFargate, types.CompatibilityExternal, types.CompatibilityManagedInstances:
		default:
			return clientErr("Invalid requiresCompatibilities value %q: valid values are EC2, FARGATE, EXTERNAL and MANAGED_INSTANCES.", c)
		}
	}
	if fargate {
		if in.NetworkMode != types.NetworkModeAwsvpc {
			return clientErr("Fargate only supports network mode 'awsvpc'.")
		}
		if aws.ToString(in.Cpu) == "" {
			return clientErr("Fargate requires that 'cpu' be defined at the task level.")
		}
		if aws.ToString(in.Memory) == "" {
			return clientErr("Fargate requires that 'memory' be defined at the task level.")
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}
	if in.Cpu != nil && !validTaskSize(*in.Cpu, "vcpu") {
		return clientErr("Invalid 'cpu' setting for task.")
	}
	if in.Memory != nil && !validTaskSize(*in.Memory, "gb") {
		return clientErr("Invalid 'memory' setting for task.")
	}
	taskMemory := aws.ToString(in.Memory) != ""
	names := map[string]bool{}
	for _, c := range in.ContainerDefinitions {
		name := aws.ToString(c.Name)
		if name == "" {
			return clientErr("Container.name should not be null or empty.")
		}
		if !validName(name) {
			return clientErr("Container name %q is not valid: use up to 255 letters (uppercase and lowercase), numbers, hyphens and underscores.", name)
		}
		if names[name] {
			return clientErr("Duplicate container name %q: container names must be unique within a task definition.", name)
		}
		names[name] = true
		if aws.ToString(c.Image) == "" {
			return clientErr("Container.image should not be null or empty.")
		}
		if err := validateContainerSize(c); err != nil {
			return err
		}
		if !taskMemory && aws.ToInt32(c.Memory) == 0 && aws.ToInt32(c.MemoryReservation) == 0 {
			return clientErr("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", name)
		}
		if c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
			return clientErr("Invalid setting for container '%s'. 'memoryReservation' must be less than or equal to 'memory'.", name)
		}
		for _, p := range c.PortMappings {
			if p.ContainerPort != nil && (*p.ContainerPort < 0 || *p.ContainerPort > 65535) {
				return clientErr("Invalid containerPort %d in container '%s': ports are 0 to 65535.", *p.ContainerPort, name)
			}
			if p.HostPort != nil && (*p.HostPort < 0 || *p.HostPort > 65535) {
				return clientErr("Invalid hostPort %d in container '%s': ports are 0 to 65535.", *p.HostPort, name)
			}
		}
		if hc := c.HealthCheck; hc != nil {
			if err := validateHealthCheck(name, hc); err != nil {
				return err
			}
		}
	}
	for _, c := range in.ContainerDefinitions {
		for _, d := range c.DependsOn {
			if !names[aws.ToString(d.ContainerName)] {
				return clientErr("Container '%s' depends on container '%s', which is not in the task definition.", aws.ToString(c.Name), aws.ToString(d.ContainerName))
			}
		}
	}
	return nil
}

// validateContainerSize refuses what ECS refuses for a container's cpu
// (negative; 0 means no reservation) and memory limits (0 or negative),
// with ECS's messages.
func validateContainerSize(c types.ContainerDefinition) error {
	name := aws.ToString(c.Name)
	switch {
	case c.Cpu < 0:
		return clientErr("Invalid 'cpu' setting for container '%s'.", name)
	case c.Memory != nil && *c.Memory <= 0:
		return clientErr("Invalid 'memory' setting for container '%s'.", name)
	case c.MemoryReservation != nil && *c.MemoryReservation <= 0:
		return clientErr("Invalid 'memoryReservation' setting for container '%s'.", name)
	}
	return nil
}

// validTaskSize reports whether a task-level cpu or memory is a positive
// number of units (CPU units, MiB), or a positive amount of the larger unit
// ("1 vCPU", "0.5 vcpu"; "2 GB", "2GB"), as RegisterTaskDefinition accepts
// them; unit is "vcpu" or "gb".
func validTaskSize(v, unit string) bool {
	s := strings.ToLower(strings.TrimSpace(v))
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return n > 0
	}
	num, ok := strings.CutSuffix(s, unit)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	return err == nil && f > 0 && f < 1<<20
}

func validateHealthCheck(container string, hc *types.HealthCheck) error {
	if len(hc.Command) == 0 || (hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL" && hc.Command[0] != "NONE") {
		return clientErr("Invalid healthCheck command in container '%s': it must start with CMD, CMD-SHELL or NONE.", container)
	}
	check := func(name string, v *int32, lo, hi int32) error {
		if v != nil && (*v < lo || *v > hi) {
			return clientErr("Invalid healthCheck %s %d in container '%s': it must be between %d and %d.", name, *v, container, lo, hi)
		}
		return nil
	}
	for _, err := range []error{
		check("interval", hc.Interval, 5, 300),
		check("timeout", hc.Timeout, 2, 60),
		check("retries", hc.Retries, 1, 10),
		check("startPeriod", hc.StartPeriod, 0, 300),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func compatibilities(td types.TaskDefinition) []types.Compatibility {
	out := []types.Compatibility{types.CompatibilityEc2}
	if td.NetworkMode == types.NetworkModeAwsvpc && aws.ToString(td.Cpu) != "" && aws.ToString(td.Memory) != "" {
		out = append(out, types.CompatibilityFargate)
	}
	return out
}

func (a *API) registerTaskDefinition(c *Call, in *ecs.RegisterTaskDefinitionInput) (*ecs.RegisterTaskDefinitionOutput, error) {
	if err := validateTaskDefinition(in); err != nil {
		return nil, err
	}
	family := aws.ToString(in.Family)
	var rec store.TaskDefinitionRecord
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		var fam store.FamilyRecord
		if _, err := tx.Get(store.Families, store.Key(c.Region, family), &fam); err != nil {
			return err
		}
		fam.LastRevision++
		td := types.TaskDefinition{}
		copyMembers(&td, in)
		td.TaskDefinitionArn = aws.String(c.TaskDefinitionARN(family, fam.LastRevision))
		td.Revision = fam.LastRevision
		td.Status = types.TaskDefinitionStatusActive
		td.RegisteredAt = aws.Time(c.Now)
		td.RegisteredBy = aws.String("arn:aws:iam::" + c.Account.ID + ":root")
		echoDefaults(&td)
		rec = store.TaskDefinitionRecord{TaskDefinition: td, Tags: in.Tags}
		if err := tx.Put(store.Families, store.Key(c.Region, family), fam); err != nil {
			return err
		}
		return tx.Put(store.TaskDefinitions, store.RevisionKey(c.Region, family, fam.LastRevision), rec)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &rec.TaskDefinition, Tags: emptyIfNil(in.Tags)}, nil
}

// taskDefinitionRef splits "family", "family:revision" or an ARN. revision is
// 0 when the reference names only a family.
func (c *Call) taskDefinitionRef(ref string) (family string, revision int32, ok bool) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := ecsmodel.ParseARN(ref)
		if !ok || a.Type != "task-definition" || len(a.Path) != 1 || !c.Owns(a) {
			return "", 0, false
		}
		ref = a.Path[0]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	if !validName(family) {
		return "", 0, false
	}
	if !hasRev {
		return family, 0, true
	}
	n, err := strconv.ParseInt(rev, 10, 32)
	if err != nil || n < 1 {
		return "", 0, false
	}
	return family, int32(n), true
}

// findTaskDefinition resolves a reference; a bare family means its latest
// ACTIVE revision. found is false when nothing matches.
func (c *Call) findTaskDefinition(tx *store.Tx, ref string) (rec store.TaskDefinitionRecord, found bool, err error) {
	family, rev, ok := c.taskDefinitionRef(ref)
	if !ok {
		return rec, false, nil
	}
	if rev > 0 {
		found, err = tx.Get(store.TaskDefinitions, store.RevisionKey(c.Region, family, rev), &rec)
		return rec, found && rec.TaskDefinition.Status != types.TaskDefinitionStatusDeleteInProgress, err
	}
	err = store.Each(tx, store.TaskDefinitions, store.Prefix(c.Region, family), func(_ string, r *store.TaskDefinitionRecord) error {
		if r.TaskDefinition.Status == types.TaskDefinitionStatusActive {
			rec, found = *r, true
		}
		return nil
	})
	return rec, found, err
}

func (a *API) describeTaskDefinition(c *Call, in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
	if aws.ToString(in.TaskDefinition) == "" {
		return nil, clientErr("taskDefinition is required.")
	}
	var rec store.TaskDefinitionRecord
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		var found bool
		var err error
		rec, found, err = c.findTaskDefinition(tx, aws.ToString(in.TaskDefinition))
		if err == nil && !found {
			err = clientErr("Unable to describe task definition.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &rec.TaskDefinition}
	if slices.Contains(in.Include, types.TaskDefinitionFieldTags) {
		out.Tags = emptyIfNil(rec.Tags)
	}
	return out, nil
}

func (a *API) listTaskDefinitions(c *Call, in *ecs.ListTaskDefinitionsInput) (*ecs.ListTaskDefinitionsOutput, error) {
	max, err := maxResults(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = types.TaskDefinitionStatusActive
	}
	if !slices.Contains(types.TaskDefinitionStatus("").Values(), status) {
		return nil, invalidParam("status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
	}
	if in.Sort != "" && in.Sort != types.SortOrderAsc && in.Sort != types.SortOrderDesc {
		return nil, invalidParam("sort must be ASC or DESC.")
	}
	prefix := store.Prefix(c.Region)
	if f := aws.ToString(in.FamilyPrefix); f != "" {
		prefix = store.Prefix(c.Region, f)
	}
	type item struct{ key, arn string }
	var items []item
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.TaskDefinitions, prefix, func(key string, r *store.TaskDefinitionRecord) error {
			if r.TaskDefinition.Status == status {
				items = append(items, item{key, aws.ToString(r.TaskDefinition.TaskDefinitionArn)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	key := func(it item) string { return it.key }
	if in.Sort == types.SortOrderDesc {
		slices.Reverse(items)
		// Keys of a descending list sort descending; invert them so the
		// token logic, which assumes ascending keys, still holds.
		key = func(it item) string { return invert(it.key) }
	}
	pg, next, err := page(items, key, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	arns := make([]string, len(pg))
	for i, it := range pg {
		arns[i] = it.arn
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns, NextToken: next}, nil
}

// invert maps a string to one that sorts in the opposite order (for the
// byte strings used as keys, which never contain 0xff).
func invert(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = 0xfe - b[i]
	}
	return string(b) + "\xff"
}

func (a *API) listTaskDefinitionFamilies(c *Call, in *ecs.ListTaskDefinitionFamiliesInput) (*ecs.ListTaskDefinitionFamiliesOutput, error) {
	max, err := maxResults(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	switch in.Status {
	case "", types.TaskDefinitionFamilyStatusActive, types.TaskDefinitionFamilyStatusInactive, types.TaskDefinitionFamilyStatusAll:
	default:
		return nil, invalidParam("status must be ACTIVE, INACTIVE or ALL.")
	}
	active := map[string]bool{}
	var families []string
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.TaskDefinitions, store.Prefix(c.Region), func(_ string, r *store.TaskDefinitionRecord) error {
			f := aws.ToString(r.TaskDefinition.Family)
			if len(families) == 0 || families[len(families)-1] != f {
				families = append(families, f)
			}
			if r.TaskDefinition.Status == types.TaskDefinitionStatusActive {
				active[f] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	prefix := aws.ToString(in.FamilyPrefix)
	families = slices.DeleteFunc(families, func(f string) bool {
		if !strings.HasPrefix(f, prefix) {
			return true
		}
		switch in.Status {
		case types.TaskDefinitionFamilyStatusActive:
			return !active[f]
		case types.TaskDefinitionFamilyStatusInactive:
			return active[f]
		}
		return false
	})
	pg, next, err := page(families, func(s string) string { return s }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTaskDefinitionFamiliesOutput{Families: pg, NextToken: next}, nil
}

func (a *API) deregisterTaskDefinition(c *Call, in *ecs.DeregisterTaskDefinitionInput) (*ecs.DeregisterTaskDefinitionOutput, error) {
	family, rev, ok := c.taskDefinitionRef(aws.ToString(in.TaskDefinition))
	if !ok || rev == 0 {
		return nil, clientErr("Invalid revision number. Name a task definition as family:revision or by its full ARN.")
	}
	var td types.TaskDefinition
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		var rec store.TaskDefinitionRecord
		key := store.RevisionKey(c.Region, family, rev)
		found, err := tx.Get(store.TaskDefinitions, key, &rec)
		if err != nil {
			return err
		}
		if !found || rec.TaskDefinition.Status == types.TaskDefinitionStatusDeleteInProgress {
			return clientErr("The specified task definition does not exist.")
		}
		if rec.TaskDefinition.Status == types.TaskDefinitionStatusActive {
			rec.TaskDefinition.Status = types.TaskDefinitionStatusInactive
			rec.TaskDefinition.DeregisteredAt = aws.Time(c.Now)
			if err := tx.Put(store.TaskDefinitions, key, rec); err != nil {
				return err
			}
		}
		td = rec.TaskDefinition
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: &td}, nil
}

func (a *API) deleteTaskDefinitions(c *Call, in *ecs.DeleteTaskDefinitionsInput) (*ecs.DeleteTaskDefinitionsOutput, error) {
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, invalidParam("taskDefinitions must have between 1 and 10 items.")
	}
	out := &ecs.DeleteTaskDefinitionsOutput{TaskDefinitions: []types.TaskDefinition{}, Failures: []types.Failure{}}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		for _, ref := range in.TaskDefinitions {
			fail := func(reason string) {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String(reason)})
			}
			family, rev, ok := c.taskDefinitionRef(ref)
			if !ok || rev == 0 {
				fail("The specified task definition identifier is invalid. Specify a valid name or ARN and try again.")
				continue
			}
			var rec store.TaskDefinitionRecord
			key := store.RevisionKey(c.Region, family, rev)
			found, err := tx.Get(store.TaskDefinitions, key, &rec)
			if err != nil {
				return err
			}
			switch {
			case !found:
				fail("The specified task definition does not exist. Specify a valid account, family, revision and try again.")
				continue
			case rec.TaskDefinition.Status == types.TaskDefinitionStatusActive:
				fail("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
				continue
			}
			rec.TaskDefinition.Status = types.TaskDefinitionStatusDeleteInProgress
			if err := tx.Put(store.TaskDefinitions, key, rec); err != nil {
				return err
			}
			out.TaskDefinitions = append(out.TaskDefinitions, rec.TaskDefinition)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
