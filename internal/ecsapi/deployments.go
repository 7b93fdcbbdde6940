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

// serviceDeploymentKey maps a service deployment ARN to its store key.
func (c *Call) serviceDeploymentKey(arn string) (string, bool) {
	a, ok := ecsmodel.ParseARN(arn)
	if !ok || a.Type != "service-deployment" || len(a.Path) != 3 || !c.Owns(a) {
		return "", false
	}
	return store.Key(c.Region, a.Path[0], a.Path[1], a.Path[2]), true
}

func (a *API) listServiceDeployments(c *Call, in *ecs.ListServiceDeploymentsInput) (*ecs.ListServiceDeploymentsOutput, error) {
	if aws.ToString(in.Service) == "" {
		return nil, invalidParam("service is required.")
	}
	max, err := maxResults(in.MaxResults, 20)
	if err != nil {
		return nil, err
	}
	for _, s := range in.Status {
		if !slices.Contains(types.ServiceDeploymentStatus("").Values(), s) {
			return nil, invalidParam("status %q is not a service deployment status.", s)
		}
	}
	var briefs []types.ServiceDeploymentBrief
	err = a.cfg.Store.View(func(tx *store.Tx) error {
		cl, err := c.getCluster(tx, in.Cluster)
		if err != nil {
			return err
		}
		cluster := aws.ToString(cl.ClusterName)
		svc, found, err := c.getService(tx, cluster, aws.ToString(in.Service))
		if err != nil {
			return err
		}
		if !found {
			return errServiceNotFound()
		}
		name := aws.ToString(svc.Service.ServiceName)
		return store.Each(tx, store.ServiceDeployments, store.Prefix(c.Region, cluster, name), func(_ string, rec *store.ServiceDeploymentRecord) error {
			sd := rec.ServiceDeployment
			// A service deleted and created again starts a new history.
			if sd.CreatedAt.Before(aws.ToTime(svc.Service.CreatedAt)) {
				return nil
			}
			if len(in.Status) > 0 && !slices.Contains(in.Status, sd.Status) {
				return nil
			}
			if f := in.CreatedAt; f != nil {
				if f.After != nil && !sd.CreatedAt.After(*f.After) || f.Before != nil && !sd.CreatedAt.Before(*f.Before) {
					return nil
				}
			}
			brief := types.ServiceDeploymentBrief{
				ServiceDeploymentArn: sd.ServiceDeploymentArn,
				ServiceArn:           sd.ServiceArn,
				ClusterArn:           sd.ClusterArn,
				CreatedAt:            sd.CreatedAt,
				StartedAt:            sd.StartedAt,
				FinishedAt:           sd.FinishedAt,
				Status:               sd.Status,
				StatusReason:         sd.StatusReason,
			}
			if sd.TargetServiceRevision != nil {
				brief.TargetServiceRevisionArn = sd.TargetServiceRevision.Arn
			}
			briefs = append(briefs, brief)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Newest first; ARNs break ties so pages are stable.
	slices.SortFunc(briefs, func(x, y types.ServiceDeploymentBrief) int {
		if c := y.CreatedAt.Compare(*x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(aws.ToString(x.ServiceDeploymentArn), aws.ToString(y.ServiceDeploymentArn))
	})
	key := func(b types.ServiceDeploymentBrief) string {
		return invert(b.CreatedAt.UTC().Format("20060102150405.000000000")) + aws.ToString(b.ServiceDeploymentArn)
	}
	pg, next, err := page(briefs, key, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &ecs.ListServiceDeploymentsOutput{ServiceDeployments: emptyIfNil(pg), NextToken: next}, nil
}

func (a *API) describeServiceDeployments(c *Call, in *ecs.DescribeServiceDeploymentsInput) (*ecs.DescribeServiceDeploymentsOutput, error) {
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, invalidParam("serviceDeploymentArns must have between 1 and 20 items.")
	}
	out := &ecs.DescribeServiceDeploymentsOutput{ServiceDeployments: []types.ServiceDeployment{}, Failures: []types.Failure{}}
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		for _, arn := range in.ServiceDeploymentArns {
			var rec store.ServiceDeploymentRecord
			found := false
			if key, ok := c.serviceDeploymentKey(arn); ok {
				var err error
				if found, err = tx.Get(store.ServiceDeployments, key, &rec); err != nil {
					return err
				}
			}
			if !found {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			out.ServiceDeployments = append(out.ServiceDeployments, rec.ServiceDeployment)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
