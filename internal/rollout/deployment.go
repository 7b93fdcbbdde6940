package rollout

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

// Creating a deployment and the desired counts of deployments: the API
// validates a request, changes the service and calls these; Decide takes
// over from there. Every deployment's desiredCount is written here or by
// Decide, never by the API.

// StartRequest is a new deployment of a service, as CreateService or an
// UpdateService that needs one asks for it.
type StartRequest struct {
	// Service is the service as the request leaves it: its desiredCount,
	// deploymentConfiguration, launchType, platformVersion and
	// networkConfiguration are the new deployment's; its deployments[] and
	// currentServiceDeployment are as stored. ServiceArn names it.
	Service types.Service
	// TaskDefinition is the ARN of the revision the deployment runs.
	TaskDefinition string
	// Current is the service deployment Service.CurrentServiceDeployment
	// names, if there is one.
	Current *types.ServiceDeployment
	// DeploymentID (ecsmodel.NewDeploymentID) and ServiceDeploymentID
	// (ecsmodel.NewShortID) are the new IDs; the caller makes them, so
	// StartDeployment stays pure.
	DeploymentID        string
	ServiceDeploymentID string
	Now                 time.Time
}

// Started is the outcome of StartDeployment: everything to store.
type Started struct {
	// Service has the new PRIMARY deployment first in deployments[], the
	// previous PRIMARY now ACTIVE, taskDefinition and
	// currentServiceDeployment set.
	Service types.Service
	// ServiceDeployment is the new service deployment, IN_PROGRESS, with
	// the deployments it replaces as source revisions.
	ServiceDeployment types.ServiceDeployment
	// Superseded is StartRequest.Current, STOPPED because the new one
	// replaces it while it was in progress; nil if it had ended (or there
	// was none).
	Superseded *types.ServiceDeployment
}

// StartDeployment makes a new PRIMARY deployment: the previous PRIMARY
// becomes ACTIVE (Decide drains it), the new one wants the service's
// desiredCount and is IN_PROGRESS, and the matching service deployment
// starts, with the circuit breaker MONITORING at BreakerThreshold when it
// is enabled. It does not change r.Service's slices in place.
func StartDeployment(r StartRequest) Started {
	s := r.Service
	acct, cluster, name := serviceParts(aws.ToString(s.ServiceArn))
	now := aws.Time(r.Now)

	deps := make([]types.Deployment, 0, len(s.Deployments)+1)
	deps = append(deps, types.Deployment{
		Id:                   aws.String(r.DeploymentID),
		Status:               aws.String(ecsmodel.DeploymentPrimary),
		TaskDefinition:       aws.String(r.TaskDefinition),
		DesiredCount:         s.DesiredCount,
		CreatedAt:            now,
		UpdatedAt:            now,
		LaunchType:           s.LaunchType,
		PlatformVersion:      s.PlatformVersion,
		NetworkConfiguration: s.NetworkConfiguration,
		RolloutState:         types.DeploymentRolloutStateInProgress,
		RolloutStateReason:   aws.String(InProgressReason(r.DeploymentID)),
	})
	sources := []types.ServiceRevisionSummary{}
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == ecsmodel.DeploymentPrimary {
			d.Status = aws.String(ecsmodel.DeploymentActive)
			d.UpdatedAt = now
		}
		deps = append(deps, d)
		sources = append(sources, types.ServiceRevisionSummary{
			Arn:                aws.String(acct.ServiceRevisionARN(cluster, name, aws.ToString(d.Id))),
			RequestedTaskCount: d.DesiredCount,
			RunningTaskCount:   d.RunningCount,
			PendingTaskCount:   d.PendingCount,
		})
	}

	sd := types.ServiceDeployment{
		ServiceDeploymentArn:     aws.String(acct.ServiceDeploymentARN(cluster, name, r.ServiceDeploymentID)),
		ServiceArn:               s.ServiceArn,
		ClusterArn:               s.ClusterArn,
		CreatedAt:                now,
		StartedAt:                now,
		UpdatedAt:                now,
		Status:                   types.ServiceDeploymentStatusInProgress,
		DeploymentConfiguration:  s.DeploymentConfiguration,
		DeploymentCircuitBreaker: breakerMonitor(s.DeploymentConfiguration, s.DesiredCount),
		SourceServiceRevisions:   sources,
		TargetServiceRevision: &types.ServiceRevisionSummary{
			Arn:                aws.String(acct.ServiceRevisionARN(cluster, name, r.DeploymentID)),
			RequestedTaskCount: s.DesiredCount,
		},
	}
	out := Started{ServiceDeployment: sd}
	if r.Current != nil {
		if stopped, ok := supersede(*r.Current, r.Now); ok {
			out.Superseded = &stopped
		}
	}
	s.Deployments = deps
	s.TaskDefinition = aws.String(r.TaskDefinition)
	s.CurrentServiceDeployment = sd.ServiceDeploymentArn
	out.Service = s
	return out
}

// breakerMonitor is a new service deployment's circuit breaker: DISABLED,
// or MONITORING with the threshold for desired tasks.
func breakerMonitor(cfg *types.DeploymentConfiguration, desired int32) *types.ServiceDeploymentCircuitBreaker {
	cb := enabledBreaker(cfg)
	if cb == nil {
		return &types.ServiceDeploymentCircuitBreaker{Status: types.ServiceDeploymentRollbackMonitorsStatusDisabled}
	}
	return &types.ServiceDeploymentCircuitBreaker{
		Status:    types.ServiceDeploymentRollbackMonitorsStatusMonitoring,
		Threshold: BreakerThreshold(cb, desired),
	}
}

// serviceParts splits a service ARN (…:service/CLUSTER/NAME) into the
// account that owns it, its cluster and its name.
func serviceParts(serviceARN string) (acct ecsmodel.Account, cluster, name string) {
	a, ok := ecsmodel.ParseARN(serviceARN)
	if !ok || len(a.Path) != 2 {
		return acct, "", ""
	}
	return ecsmodel.Account{Region: a.Region, ID: a.Account}, a.Path[0], a.Path[1]
}

// Rescale returns svc's deployments[] after the API changed its
// desiredCount or status without starting a deployment (UpdateService
// that only scales, DeleteService): the PRIMARY deployment wants the
// service's desiredCount, and every deployment of a DRAINING service wants
// 0, each marked updated at now. Decide keeps the counts so on every
// step; Rescale lets the API's answer show them at once. It does not
// change svc.Deployments in place.
func Rescale(svc types.Service, now time.Time) []types.Deployment {
	deps := make([]types.Deployment, len(svc.Deployments))
	copy(deps, svc.Deployments)
	draining := aws.ToString(svc.Status) == ecsmodel.ServiceDraining
	primary := 0 // deployments[] lists the PRIMARY first
	for i, d := range deps {
		if aws.ToString(d.Status) == ecsmodel.DeploymentPrimary {
			primary = i
			break
		}
	}
	for i := range deps {
		switch {
		case draining:
			deps[i].DesiredCount = 0
		case i == primary:
			deps[i].DesiredCount = max(svc.DesiredCount, 0)
		default:
			continue
		}
		deps[i].UpdatedAt = aws.Time(now)
	}
	return deps
}
