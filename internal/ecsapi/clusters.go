package ecsapi

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// EnsureDefaultCluster creates the "default" cluster of region if it has
// never existed, as ECS accounts have one from the start.
func (a *API) EnsureDefaultCluster(region string) error {
	c := &Call{Account: ecsmodel.Account{Region: region, ID: a.cfg.AccountID}, Now: a.cfg.Now().UTC()}
	return a.cfg.Store.Update(func(tx *store.Tx) error {
		var cl types.Cluster
		if found, err := tx.Get(store.Clusters, store.Key(region, "default"), &cl); found || err != nil {
			return err
		}
		return tx.Put(store.Clusters, store.Key(region, "default"), c.newCluster("default", nil, nil, nil))
	})
}

func (c *Call) newCluster(name string, tags []types.Tag, settings []types.ClusterSetting, conf *types.ClusterConfiguration) types.Cluster {
	if settings == nil {
		settings = []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}
	}
	return types.Cluster{
		ClusterArn:                      aws.String(c.ClusterARN(name)),
		ClusterName:                     aws.String(name),
		Status:                          aws.String(ecsmodel.ClusterActive),
		Tags:                            emptyIfNil(tags),
		Settings:                        settings,
		Configuration:                   conf,
		CapacityProviders:               []string{},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
		Statistics:                      []types.KeyValuePair{},
	}
}

// getCluster loads the cluster a reference names; it must exist (ACTIVE or
// not: callers decide what an INACTIVE cluster allows).
func (c *Call) getCluster(tx *store.Tx, ref *string) (types.Cluster, error) {
	var cl types.Cluster
	name, ok := c.clusterName(aws.ToString(ref))
	if !ok {
		return cl, errClusterNotFound()
	}
	found, err := tx.Get(store.Clusters, store.Key(c.Region, name), &cl)
	if err != nil {
		return cl, err
	}
	if !found {
		return cl, errClusterNotFound()
	}
	return cl, nil
}

// activeCluster is getCluster for calls that need an ACTIVE cluster.
func (c *Call) activeCluster(tx *store.Tx, ref *string) (types.Cluster, error) {
	cl, err := c.getCluster(tx, ref)
	if err == nil && aws.ToString(cl.Status) != ecsmodel.ClusterActive {
		return cl, errClusterNotFound()
	}
	return cl, err
}

func validateClusterSettings(settings []types.ClusterSetting) error {
	for _, s := range settings {
		if s.Name != types.ClusterSettingNameContainerInsights {
			return invalidParam("Cluster setting name %q is not valid. Valid names: containerInsights.", s.Name)
		}
		switch aws.ToString(s.Value) {
		case "enabled", "disabled", "enhanced":
		default:
			return invalidParam("containerInsights must be enabled, disabled or enhanced.")
		}
	}
	return nil
}

func (a *API) createCluster(c *Call, in *ecs.CreateClusterInput) (*ecs.CreateClusterOutput, error) {
	name := aws.ToString(in.ClusterName)
	if name == "" {
		name = "default"
	}
	if !validName(name) {
		return nil, invalidParam("Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores and hyphens.")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if len(in.CapacityProviders) > 0 || len(in.DefaultCapacityProviderStrategy) > 0 {
		return nil, unsupported("ecsd clusters run tasks on the local machine and have no capacity providers; remove capacityProviders and defaultCapacityProviderStrategy.")
	}
	if in.ServiceConnectDefaults != nil {
		return nil, unsupported("ecsd does not support Service Connect; remove serviceConnectDefaults.")
	}
	var out types.Cluster
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		key := store.Key(c.Region, name)
		found, err := tx.Get(store.Clusters, key, &out)
		if err != nil {
			return err
		}
		if found && aws.ToString(out.Status) == ecsmodel.ClusterActive {
			return nil // CreateCluster of an existing cluster returns it, as ECS does
		}
		out = c.newCluster(name, in.Tags, in.Settings, in.Configuration)
		return tx.Put(store.Clusters, key, out)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.CreateClusterOutput{Cluster: &out}, nil
}

// withCounts fills the counters ECS reports on every cluster, and the
// optional parts the caller asked for.
func (c *Call) present(tx *store.Tx, cl types.Cluster, include []types.ClusterField) (types.Cluster, error) {
	name := aws.ToString(cl.ClusterName)
	cl.RunningTasksCount, cl.PendingTasksCount, cl.ActiveServicesCount = 0, 0, 0
	err := store.Each(tx, store.Services, store.Prefix(c.Region, name), func(_ string, s *store.ServiceRecord) error {
		if aws.ToString(s.Service.Status) == ecsmodel.ServiceActive {
			cl.ActiveServicesCount++
		}
		return nil
	})
	if err != nil {
		return cl, err
	}
	err = store.Each(tx, store.Tasks, store.Prefix(c.Region, name), func(_ string, t *store.TaskRecord) error {
		switch aws.ToString(t.Task.LastStatus) {
		case ecsmodel.TaskRunning:
			cl.RunningTasksCount++
		case ecsmodel.TaskProvisioning, ecsmodel.TaskPending, ecsmodel.TaskActivating:
			cl.PendingTasksCount++
		}
		return nil
	})
	if err != nil {
		return cl, err
	}
	if slices.Contains(include, types.ClusterFieldStatistics) {
		cl.Statistics = []types.KeyValuePair{
			{Name: aws.String("runningEC2TasksCount"), Value: aws.String(itoa(cl.RunningTasksCount))},
			{Name: aws.String("pendingEC2TasksCount"), Value: aws.String(itoa(cl.PendingTasksCount))},
			{Name: aws.String("activeEC2ServiceCount"), Value: aws.String(itoa(cl.ActiveServicesCount))},
			{Name: aws.String("runningFargateTasksCount"), Value: aws.String("0")},
			{Name: aws.String("pendingFargateTasksCount"), Value: aws.String("0")},
			{Name: aws.String("activeFargateServiceCount"), Value: aws.String("0")},
		}
	} else {
		cl.Statistics = []types.KeyValuePair{}
	}
	if !slices.Contains(include, types.ClusterFieldTags) {
		cl.Tags = nil
	}
	if !slices.Contains(include, types.ClusterFieldSettings) {
		cl.Settings = nil
	}
	if !slices.Contains(include, types.ClusterFieldConfigurations) {
		cl.Configuration = nil
	}
	return cl, nil
}

func (a *API) describeClusters(c *Call, in *ecs.DescribeClustersInput) (*ecs.DescribeClustersOutput, error) {
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	if len(refs) > 100 {
		return nil, invalidParam("clusters can have at most 100 items.")
	}
	out := &ecs.DescribeClustersOutput{Clusters: []types.Cluster{}, Failures: []types.Failure{}}
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		for _, ref := range refs {
			cl, err := c.getCluster(tx, &ref)
			if err != nil {
				arn := ref
				if name, ok := c.clusterName(ref); ok && validName(name) {
					arn = c.ClusterARN(name)
				}
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			if cl, err = c.present(tx, cl, in.Include); err != nil {
				return err
			}
			out.Clusters = append(out.Clusters, cl)
		}
		return nil
	})
	return out, err
}

func (a *API) listClusters(c *Call, in *ecs.ListClustersInput) (*ecs.ListClustersOutput, error) {
	max, err := maxResults(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	var arns []string
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.Clusters, store.Prefix(c.Region), func(_ string, cl *types.Cluster) error {
			if aws.ToString(cl.Status) == ecsmodel.ClusterActive {
				arns = append(arns, aws.ToString(cl.ClusterArn))
			}
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
	return &ecs.ListClustersOutput{ClusterArns: pg, NextToken: next}, nil
}

func (a *API) updateCluster(c *Call, in *ecs.UpdateClusterInput) (*ecs.UpdateClusterOutput, error) {
	if aws.ToString(in.Cluster) == "" {
		return nil, invalidParam("cluster is required.")
	}
	if err := validateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if in.ServiceConnectDefaults != nil {
		return nil, unsupported("ecsd does not support Service Connect; remove serviceConnectDefaults.")
	}
	var out types.Cluster
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.activeCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		for _, s := range in.Settings {
			i := slices.IndexFunc(cl.Settings, func(h types.ClusterSetting) bool { return h.Name == s.Name })
			if i >= 0 {
				cl.Settings[i] = s
			} else {
				cl.Settings = append(cl.Settings, s)
			}
		}
		if in.Configuration != nil {
			cl.Configuration = in.Configuration
		}
		if err := tx.Put(store.Clusters, store.Key(c.Region, aws.ToString(cl.ClusterName)), cl); err != nil {
			return err
		}
		out, err = c.present(tx, cl, []types.ClusterField{types.ClusterFieldSettings, types.ClusterFieldConfigurations, types.ClusterFieldTags})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ecs.UpdateClusterOutput{Cluster: &out}, nil
}

func (a *API) deleteCluster(c *Call, in *ecs.DeleteClusterInput) (*ecs.DeleteClusterOutput, error) {
	if aws.ToString(in.Cluster) == "" {
		return nil, invalidParam("cluster is required.")
	}
	var out types.Cluster
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		cl, err := c.activeCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cl, err = c.present(tx, cl, nil)
		if err != nil {
			return err
		}
		draining, err := c.hasDrainingServices(tx, aws.ToString(cl.ClusterName))
		if err != nil {
			return err
		}
		if cl.ActiveServicesCount > 0 || draining {
			return awsErr(clusterContainsServices, "The Cluster cannot be deleted while Services are active.")
		}
		if cl.RunningTasksCount+cl.PendingTasksCount > 0 {
			return awsErr(clusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.")
		}
		cl.Status = aws.String(ecsmodel.ClusterInactive)
		out = cl
		return tx.Put(store.Clusters, store.Key(c.Region, aws.ToString(cl.ClusterName)), cl)
	})
	if err != nil {
		return nil, err
	}
	return &ecs.DeleteClusterOutput{Cluster: &out}, nil
}

func (c *Call) hasDrainingServices(tx *store.Tx, cluster string) (bool, error) {
	draining := false
	err := store.Each(tx, store.Services, store.Prefix(c.Region, cluster), func(_ string, s *store.ServiceRecord) error {
		if aws.ToString(s.Service.Status) == ecsmodel.ServiceDraining {
			draining = true
			return store.ErrStop
		}
		return nil
	})
	return draining, err
}

// clusterName resolves a cluster reference (name or ARN; empty means
// "default") to a name. ok is false for an ARN of another region or account,
// or of another resource type.
func (c *Call) clusterName(ref string) (string, bool) {
	if ref == "" {
		return "default", true
	}
	if strings.HasPrefix(ref, "arn:") {
		a, ok := ecsmodel.ParseARN(ref)
		if !ok || a.Type != "cluster" || len(a.Path) != 1 || !c.Owns(a) {
			return "", false
		}
		return a.Path[0], true
	}
	return ref, true
}
