package ecsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/store"
)

// normalizeDeploymentConfiguration validates a deployment configuration and
// fills ECS's defaults (100 / 200, circuit breaker off, ROLLING).
func normalizeDeploymentConfiguration(dc *types.DeploymentConfiguration) (*types.DeploymentConfiguration, error) {
	out := types.DeploymentConfiguration{}
	if dc != nil {
		out = *dc
	}
	if out.MinimumHealthyPercent == nil {
		out.MinimumHealthyPercent = aws.Int32(100)
	}
	if out.MaximumPercent == nil {
		out.MaximumPercent = aws.Int32(200)
	}
	if m := *out.MinimumHealthyPercent; m < 0 || m > 100 {
		return nil, invalidParam("minimumHealthyPercent must be between 0 and 100; got %d.", m)
	}
	// ECS documents maximumPercent's lower limit (100 for a rolling
	// update) and no upper one: any int32 from 100 up is valid, and the
	// bounds arithmetic (rollout.Bounds) is overflow-safe for all of them.
	if m := *out.MaximumPercent; m < 100 {
		return nil, invalidParam("maximumPercent must be at least 100; got %d.", m)
	}
	if out.Strategy == "" {
		out.Strategy = types.DeploymentStrategyRolling
	}
	if out.Strategy != types.DeploymentStrategyRolling {
		return nil, unsupported("ecsd runs the ROLLING deployment strategy; %s is not supported yet.", out.Strategy)
	}
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{}
	} else {
		cb := *out.DeploymentCircuitBreaker
		if tc := cb.ThresholdConfiguration; tc != nil {
			switch tc.Type {
			case types.ThresholdTypeCount, types.ThresholdTypeBoundedPercent, types.ThresholdTypeUnboundedPercent:
			default:
				return nil, invalidParam("thresholdConfiguration type must be COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT.")
			}
			if tc.Value < 1 {
				return nil, invalidParam("thresholdConfiguration value must be at least 1.")
			}
		}
		out.DeploymentCircuitBreaker = &cb
	}
	if len(out.LifecycleHooks) > 0 {
		return nil, unsupported("ecsd does not run deployment lifecycle hooks yet; remove lifecycleHooks.")
	}
	return &out, nil
}

// serviceRef resolves a service name or ARN within a cluster.
func (c *Call) serviceName(cluster, ref string) (string, bool) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := ecsmodel.ParseARN(ref)
		if !ok || a.Type != "service" || !c.Owns(a) {
			return "", false
		}
		switch len(a.Path) {
		case 1: // old ARN format without the cluster
			return a.Path[0], true
		case 2:
			return a.Path[1], a.Path[0] == cluster
		}
		return "", false
	}
	return ref, validName(ref)
}

func (c *Call) getService(tx *store.Tx, cluster, ref string) (store.ServiceRecord, bool, error) {
	var rec store.ServiceRecord
	name, ok := c.serviceName(cluster, ref)
	if !ok {
		return rec, false, nil
	}
	found, err := tx.Get(store.Services, store.Key(c.Region, cluster, name), &rec)
	return rec, found, err
}

// activeService loads a service that must exist and be ACTIVE, with ECS's
// errors when it does not or is not.
func (c *Call) activeService(tx *store.Tx, cluster, ref string) (store.ServiceRecord, error) {
	rec, found, err := c.getService(tx, cluster, ref)
	switch {
	case err != nil:
		return rec, err
	case !found:
		return rec, errServiceNotFound()
	case aws.ToString(rec.Service.Status) != ecsmodel.ServiceActive:
		return rec, errServiceNotActive()
	}
	return rec, nil
}

// resolveTaskDefinition finds the ACTIVE task definition a service or task
// is to run.
func (c *Call) resolveTaskDefinition(tx *store.Tx, ref string) (types.TaskDefinition, error) {
	rec, found, err := c.findTaskDefinition(tx, ref)
	if err != nil {
		return types.TaskDefinition{}, err
	}
	if !found {
		return types.TaskDefinition{}, invalidParam("TaskDefinition not found.")
	}
	if rec.TaskDefinition.Status != types.TaskDefinitionStatusActive {
		return types.TaskDefinition{}, invalidParam("TaskDefinition is inactive.")
	}
	return rec.TaskDefinition, nil
}

func checkLaunchType(lt types.LaunchType, td types.TaskDefinition, nc *types.NetworkConfiguration) error {
	switch lt {
	case types.LaunchTypeEc2, types.LaunchTypeExternal, types.LaunchTypeManagedInstances:
	case types.LaunchTypeFargate:
		if !slices.Contains(td.Compatibilities, types.CompatibilityFargate) {
			return invalidParam("Task definition does not support launch_type FARGATE.")
		}
		if nc == nil || nc.AwsvpcConfiguration == nil {
			return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
	default:
		return invalidParam("launchType must be EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES.")
	}
	if td.NetworkMode == types.NetworkModeAwsvpc && (nc == nil || nc.AwsvpcConfiguration == nil) {
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	return nil
}

// maxLoadBalancers is how many target groups a service may use.
const maxLoadBalancers = 5

// checkLoadBalancers validates a service's loadBalancers against the
// ELBv2 target groups and the task definition it runs.
func (a *API) checkLoadBalancers(lbs []types.LoadBalancer, td types.TaskDefinition) error {
	if len(lbs) > maxLoadBalancers {
		return invalidParam("loadBalancers can have at most %d items.", maxLoadBalancers)
	}
	for _, lb := range lbs {
		arn := aws.ToString(lb.TargetGroupArn)
		switch {
		case aws.ToString(lb.LoadBalancerName) != "":
			return invalidParam("Classic Load Balancers are not supported; use targetGroupArn with an Application Load Balancer target group.")
		case arn == "":
			return invalidParam("Target Group Arn can not be blank.")
		case a.cfg.TargetGroup == nil:
			return unsupported("This ecsd runs without its load balancer; remove loadBalancers.")
		}
		exists, lbCount := a.cfg.TargetGroup(arn)
		if !exists {
			return invalidParam("The target group with targetGroupArn %s does not exist.", arn)
		}
		if lbCount == 0 {
			return invalidParam("The target group with targetGroupArn %s does not have an associated load balancer.", arn)
		}
		name := aws.ToString(lb.ContainerName)
		if name == "" || lb.ContainerPort == nil {
			return invalidParam("containerName and containerPort are required with a target group (%s).", arn)
		}
		i := slices.IndexFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == name })
		if i < 0 {
			return invalidParam("The container %s does not exist in the task definition.", name)
		}
		if !slices.ContainsFunc(td.ContainerDefinitions[i].PortMappings, func(pm types.PortMapping) bool { return aws.ToInt32(pm.ContainerPort) == *lb.ContainerPort }) {
			return invalidParam("The container %s did not have a container port %d defined.", name, *lb.ContainerPort)
		}
	}
	return nil
}

func rejectUnsupportedServiceMembers(regs []types.ServiceRegistry, sc *types.ServiceConnectConfiguration, cps []types.CapacityProviderStrategyItem, vcs []types.ServiceVolumeConfiguration, vpcl []types.VpcLatticeConfiguration) error {
	switch {
	case len(regs) > 0:
		return unsupported("ecsd does not support service discovery (serviceRegistries) yet; remove it.")
	case sc != nil && sc.Enabled:
		return unsupported("ecsd does not support Service Connect yet; remove serviceConnectConfiguration.")
	case len(cps) > 0:
		return unsupported("ecsd clusters have no capacity providers; use launchType instead of capacityProviderStrategy.")
	case len(vcs) > 0:
		return unsupported("ecsd does not provision EBS volumes; remove volumeConfigurations.")
	case len(vpcl) > 0:
		return unsupported("ecsd does not support VPC Lattice; remove vpcLatticeConfigurations.")
	}
	return nil
}

// startDeployment starts a new PRIMARY deployment of td for the service:
// rollout.StartDeployment decides the deployment and its service
// deployment; this stores the service deployments it creates and
// supersedes. The caller stores the service.
func (c *Call) startDeployment(tx *store.Tx, s *types.Service, td string) error {
	req := rollout.StartRequest{
		Service:             *s,
		TaskDefinition:      td,
		DeploymentID:        ecsmodel.NewDeploymentID(),
		ServiceDeploymentID: ecsmodel.NewShortID(),
		Now:                 c.Now,
	}
	var current store.ServiceDeploymentRecord
	currentKey, ok := c.serviceDeploymentKey(aws.ToString(s.CurrentServiceDeployment))
	if ok {
		found, err := tx.Get(store.ServiceDeployments, currentKey, &current)
		if err != nil {
			return err
		}
		if found {
			req.Current = &current.ServiceDeployment
		}
	}
	started := rollout.StartDeployment(req)
	if started.Superseded != nil {
		current.ServiceDeployment = *started.Superseded
		if err := tx.Put(store.ServiceDeployments, currentKey, current); err != nil {
			return err
		}
	}
	*s = started.Service
	sd := started.ServiceDeployment
	cluster := clusterOfARN(aws.ToString(s.ClusterArn))
	key := store.Key(c.Region, cluster, aws.ToString(s.ServiceName), req.ServiceDeploymentID)
	return tx.Put(store.ServiceDeployments, key, store.ServiceDeploymentRecord{ServiceDeployment: sd, DeploymentID: req.DeploymentID})
}

func clusterOfARN(arn string) string {
	if a, ok := ecsmodel.ParseARN(arn); ok && len(a.Path) > 0 {
		return a.Path[0]
	}
	return ""
}

// checkDesiredCount refuses a desiredCount ECS refuses: negative, or above
// the tasks-per-service quota (ECS's error; ecsd's quota is a flag).
func (a *API) checkDesiredCount(n int32) error {
	if n < 0 {
		return invalidParam("desiredCount must be 0 or more.")
	}
	if limit := a.maxTasksPerService(); n > limit {
		return invalidParam("Desired count exceeds limit. This ecsd runs at most %d tasks per service (its --max-tasks-per-service); use a desiredCount of %d or less.", limit, limit)
	}
	return nil
}

func (a *API) maxTasksPerService() int32 {
	if a.cfg.MaxTasksPerService <= 0 {
		return rollout.DefaultMaxTasksPerService
	}
	return a.cfg.MaxTasksPerService
}

// validClientToken: up to 36 ASCII characters from 33 to 126.
func validClientToken(s string) bool {
	if len(s) > 36 {
		return false
	}
	for i := range len(s) {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// requestHash identifies a CreateService request's parameters, to tell a
// retry (same clientToken, same request) from a different request.
func requestHash(in *ecs.CreateServiceInput) (string, error) {
	body, err := awsproto.EncodeJSON(in)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// validateCreateService checks what needs no stored state and returns the
// normalized deployment configuration.
func (a *API) validateCreateService(in *ecs.CreateServiceInput) (*types.DeploymentConfiguration, error) {
	name := aws.ToString(in.ServiceName)
	switch {
	case name == "":
		return nil, invalidParam("serviceName is required.")
	case !validName(name):
		return nil, invalidParam("Service name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores and hyphens.")
	case in.SchedulingStrategy == types.SchedulingStrategyDaemon:
		return nil, unsupported("ecsd runs the REPLICA scheduling strategy only; DAEMON services need container instances.")
	case in.SchedulingStrategy != "" && in.SchedulingStrategy != types.SchedulingStrategyReplica:
		return nil, invalidParam("schedulingStrategy must be REPLICA or DAEMON.")
	case in.DeploymentController != nil && in.DeploymentController.Type != types.DeploymentControllerTypeEcs:
		return nil, unsupported("ecsd supports the ECS deployment controller only; %s is not supported yet.", in.DeploymentController.Type)
	case aws.ToString(in.TaskDefinition) == "":
		return nil, invalidParam("taskDefinition is required for a service with the ECS deployment controller.")
	case in.DesiredCount == nil:
		return nil, invalidParam("desiredCount is required for a service with the REPLICA scheduling strategy.")
	case !validClientToken(aws.ToString(in.ClientToken)):
		return nil, invalidParam("clientToken can have up to 36 ASCII characters in the range of 33-126.")
	}
	if err := a.checkDesiredCount(*in.DesiredCount); err != nil {
		return nil, err
	}
	if g := aws.ToInt32(in.HealthCheckGracePeriodSeconds); g < 0 || g > 2147483647 {
		return nil, invalidParam("healthCheckGracePeriodSeconds must be 0 or more.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := rejectUnsupportedServiceMembers(in.ServiceRegistries, in.ServiceConnectConfiguration, in.CapacityProviderStrategy, in.VolumeConfigurations, in.VpcLatticeConfigurations); err != nil {
		return nil, err
	}
	dc, err := normalizeDeploymentConfiguration(in.DeploymentConfiguration)
	if err != nil {
		return nil, err
	}
	switch in.PropagateTags {
	case "", types.PropagateTagsNone, types.PropagateTagsService, types.PropagateTagsTaskDefinition:
	default:
		return nil, invalidParam("propagateTags must be TASK_DEFINITION, SERVICE or NONE.")
	}
	return dc, nil
}

// newService is the service a valid CreateService makes, before its first
// deployment.
func (c *Call) newService(cl types.Cluster, in *ecs.CreateServiceInput, dc *types.DeploymentConfiguration, lt types.LaunchType) types.Service {
	svc := types.Service{}
	copyMembers(&svc, in)
	svc.ServiceArn = aws.String(c.ServiceARN(aws.ToString(cl.ClusterName), aws.ToString(in.ServiceName)))
	svc.ClusterArn = cl.ClusterArn
	svc.Status = aws.String(ecsmodel.ServiceActive)
	svc.DesiredCount = *in.DesiredCount
	svc.LaunchType = lt
	if lt == types.LaunchTypeFargate && svc.PlatformVersion == nil {
		svc.PlatformVersion = aws.String("LATEST")
	}
	svc.SchedulingStrategy = types.SchedulingStrategyReplica
	svc.DeploymentController = &types.DeploymentController{Type: types.DeploymentControllerTypeEcs}
	svc.DeploymentConfiguration = dc
	svc.CreatedAt = aws.Time(c.Now)
	svc.CreatedBy = aws.String("arn:aws:iam::" + c.Account.ID + ":root")
	svc.HealthCheckGracePeriodSeconds = aws.Int32(aws.ToInt32(in.HealthCheckGracePeriodSeconds))
	if svc.PropagateTags == "" {
		svc.PropagateTags = types.PropagateTagsNone
	}
	svc.LoadBalancers = emptyIfNil(svc.LoadBalancers)
	svc.ServiceRegistries = emptyIfNil(svc.ServiceRegistries)
	svc.PlacementConstraints = emptyIfNil(svc.PlacementConstraints)
	svc.PlacementStrategy = emptyIfNil(svc.PlacementStrategy)
	svc.Events = []types.ServiceEvent{}
	svc.Tags = emptyIfNil(svc.Tags)
	return svc
}

// createService creates a service. A retry of the same request (same
// clientToken, same parameters) of a service that still exists answers
// that service, as ECS does; any other create of an existing name fails.
func (a *API) createService(c *Call, in *ecs.CreateServiceInput) (*ecs.CreateServiceOutput, error) {
	dc, err := a.validateCreateService(in)
	if err != nil {
		return nil, err
	}
	hash, err := requestHash(in)
	if err != nil {
		return nil, err
	}
	token := aws.ToString(in.ClientToken)
	var svc types.Service
	err = a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.activeCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		old, found, err := c.getService(tx, cluster, aws.ToString(in.ServiceName))
		if err != nil {
			return err
		}
		if found && aws.ToString(old.Service.Status) != ecsmodel.ServiceInactive {
			if token != "" && old.ClientToken == token && old.RequestHash == hash {
				svc = old.Service // the same request again: an idempotent retry
				return nil
			}
			return invalidParam("Creation of service was not idempotent.")
		}
		td, err := c.resolveTaskDefinition(tx, aws.ToString(in.TaskDefinition))
		if err != nil {
			return err
		}
		lt := in.LaunchType
		if lt == "" {
			lt = types.LaunchTypeEc2
		}
		if err := checkLaunchType(lt, td, in.NetworkConfiguration); err != nil {
			return err
		}
		if err := a.checkLoadBalancers(in.LoadBalancers, td); err != nil {
			return err
		}
		svc = c.newService(cl, in, dc, lt)
		if err := c.startDeployment(tx, &svc, aws.ToString(td.TaskDefinitionArn)); err != nil {
			return err
		}
		rec := store.ServiceRecord{Service: svc, ClientToken: token}
		if token != "" {
			rec.RequestHash = hash
		}
		return tx.Put(store.Services, store.Key(c.Region, cluster, aws.ToString(svc.ServiceName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.CreateServiceOutput{Service: &svc}, nil
}

func (a *API) updateService(c *Call, in *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error) {
	if aws.ToString(in.Service) == "" {
		return nil, invalidParam("service is required.")
	}
	if in.DesiredCount != nil {
		if err := a.checkDesiredCount(*in.DesiredCount); err != nil {
			return nil, err
		}
	}
	if in.DeploymentController != nil && in.DeploymentController.Type != types.DeploymentControllerTypeEcs {
		return nil, unsupported("ecsd supports the ECS deployment controller only; %s is not supported yet.", in.DeploymentController.Type)
	}
	if err := rejectUnsupportedServiceMembers(in.ServiceRegistries, in.ServiceConnectConfiguration, in.CapacityProviderStrategy, in.VolumeConfigurations, in.VpcLatticeConfigurations); err != nil {
		return nil, err
	}
	var svc types.Service
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.activeCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		rec, err := c.activeService(tx, cluster, aws.ToString(in.Service))
		if err != nil {
			return err
		}
		svc = rec.Service
		newDeployment := in.ForceNewDeployment
		td := aws.ToString(svc.TaskDefinition)
		if ref := aws.ToString(in.TaskDefinition); ref != "" {
			def, err := c.resolveTaskDefinition(tx, ref)
			if err != nil {
				return err
			}
			if arn := aws.ToString(def.TaskDefinitionArn); arn != td {
				td, newDeployment = arn, true
			}
		}
		if in.DeploymentConfiguration != nil {
			norm, err := mergeDeploymentConfiguration(*svc.DeploymentConfiguration, in.DeploymentConfiguration)
			if err != nil {
				return err
			}
			svc.DeploymentConfiguration = norm
		}
		if in.NetworkConfiguration != nil {
			svc.NetworkConfiguration = in.NetworkConfiguration
			newDeployment = true
		}
		if in.LoadBalancers != nil {
			svc.LoadBalancers = in.LoadBalancers
			newDeployment = true
		}
		if in.PlatformVersion != nil && aws.ToString(in.PlatformVersion) != aws.ToString(svc.PlatformVersion) {
			svc.PlatformVersion = in.PlatformVersion
			newDeployment = true
		}
		def, _, err := c.findTaskDefinition(tx, td)
		if err != nil {
			return err
		}
		if err := checkLaunchType(svc.LaunchType, def.TaskDefinition, svc.NetworkConfiguration); err != nil {
			return err
		}
		if err := a.checkLoadBalancers(svc.LoadBalancers, def.TaskDefinition); err != nil {
			return err
		}
		if in.DesiredCount != nil {
			svc.DesiredCount = *in.DesiredCount
		}
		if err := a.checkDesiredCount(svc.DesiredCount); err != nil {
			return err // a count stored by an older ecsd must come down first
		}
		updateServiceSettings(&svc, in)
		if newDeployment {
			if err := c.startDeployment(tx, &svc, td); err != nil {
				return err
			}
		} else {
			svc.Deployments = rollout.Rescale(svc, c.Now)
		}
		rec.Service = svc
		return tx.Put(store.Services, store.Key(c.Region, cluster, aws.ToString(svc.ServiceName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.UpdateServiceOutput{Service: &svc}, nil
}

// mergeDeploymentConfiguration applies an UpdateService's
// deploymentConfiguration to the service's: members it sets replace the
// current ones (lifecycleHooks always), then the result is validated.
func mergeDeploymentConfiguration(merged types.DeploymentConfiguration, dc *types.DeploymentConfiguration) (*types.DeploymentConfiguration, error) {
	if dc.MinimumHealthyPercent != nil {
		merged.MinimumHealthyPercent = dc.MinimumHealthyPercent
	}
	if dc.MaximumPercent != nil {
		merged.MaximumPercent = dc.MaximumPercent
	}
	if dc.DeploymentCircuitBreaker != nil {
		merged.DeploymentCircuitBreaker = dc.DeploymentCircuitBreaker
	}
	if dc.Alarms != nil {
		merged.Alarms = dc.Alarms
	}
	if dc.Strategy != "" {
		merged.Strategy = dc.Strategy
	}
	if dc.BakeTimeInMinutes != nil {
		merged.BakeTimeInMinutes = dc.BakeTimeInMinutes
	}
	merged.LifecycleHooks = dc.LifecycleHooks
	return normalizeDeploymentConfiguration(&merged)
}

// updateServiceSettings applies an UpdateService's settings that need no
// validation against stored state and start no deployment.
func updateServiceSettings(svc *types.Service, in *ecs.UpdateServiceInput) {
	if in.HealthCheckGracePeriodSeconds != nil {
		svc.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableExecuteCommand != nil {
		svc.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.EnableECSManagedTags != nil {
		svc.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.PropagateTags != "" {
		svc.PropagateTags = in.PropagateTags
	}
	if in.PlacementConstraints != nil {
		svc.PlacementConstraints = in.PlacementConstraints
	}
	if in.PlacementStrategy != nil {
		svc.PlacementStrategy = in.PlacementStrategy
	}
	if in.AvailabilityZoneRebalancing != "" {
		svc.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
	}
}

func (a *API) describeServices(c *Call, in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
	if len(in.Services) == 0 {
		return nil, invalidParam("services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, invalidParam("services can have at most 10 items.")
	}
	tags := slices.Contains(in.Include, types.ServiceFieldTags)
	out := &ecs.DescribeServicesOutput{Services: make([]types.Service, 0, len(in.Services)), Failures: []types.Failure{}}
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		for _, ref := range in.Services {
			rec, found, err := c.getService(tx, cluster, ref)
			if err != nil {
				return err
			}
			if !found {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = c.ServiceARN(cluster, ref)
				}
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			s := rec.Service
			if !tags {
				s.Tags = nil
			}
			out.Services = append(out.Services, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *API) listServices(c *Call, in *ecs.ListServicesInput) (*ecs.ListServicesOutput, error) {
	max, err := maxResults(in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	var arns []string
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		return store.Each(tx, store.Services, store.Prefix(c.Region, aws.ToString(cl.ClusterName)), func(_ string, rec *store.ServiceRecord) error {
			s := rec.Service
			switch {
			case aws.ToString(s.Status) == ecsmodel.ServiceInactive,
				in.LaunchType != "" && s.LaunchType != in.LaunchType,
				in.SchedulingStrategy != "" && s.SchedulingStrategy != in.SchedulingStrategy:
				return nil
			}
			arns = append(arns, aws.ToString(s.ServiceArn))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(arns, func(s string) string { return s }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &ecs.ListServicesOutput{ServiceArns: pg, NextToken: next}, nil
}

func (a *API) deleteService(c *Call, in *ecs.DeleteServiceInput) (*ecs.DeleteServiceOutput, error) {
	if aws.ToString(in.Service) == "" {
		return nil, invalidParam("service is required.")
	}
	var svc types.Service
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		rec, err := c.activeService(tx, cluster, aws.ToString(in.Service))
		if err != nil {
			return err
		}
		if rec.Service.DesiredCount > 0 && !aws.ToBool(in.Force) {
			return invalidParam("The service cannot be stopped while it is scaled above 0.")
		}
		svc = rec.Service
		svc.DesiredCount = 0
		svc.Status = aws.String(ecsmodel.ServiceDraining)
		svc.Deployments = rollout.Rescale(svc, c.Now)
		rec.Service = svc
		return tx.Put(store.Services, store.Key(c.Region, cluster, aws.ToString(svc.ServiceName)), rec)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.DeleteServiceOutput{Service: &svc}, nil
}
