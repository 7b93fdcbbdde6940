package cli

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// The clients of the services around ECS are made from the same AWS
// configuration as the ECS client (a.client must have run), so
// AWS_ENDPOINT_URL (what ecsd's README recommends) sends every one of them
// to the same endpoint. When only the ECS endpoint is set
// (AWS_ENDPOINT_URL_ECS) and theirs is not, they use the ECS endpoint too:
// ecsd answers ELBv2 and Application Auto Scaling on its one endpoint, and
// ELBv2 or Application Auto Scaling calls must not go to real AWS while ECS
// calls go to ecsd. AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 and
// AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING override both.

func (a *app) autoScalingClient() *applicationautoscaling.Client {
	ecsEndpoint := a.ecs.Options().BaseEndpoint
	return applicationautoscaling.NewFromConfig(a.awsCfg, func(o *applicationautoscaling.Options) {
		if o.BaseEndpoint == nil {
			o.BaseEndpoint = ecsEndpoint
		}
	})
}

func (a *app) elbv2Client() *elbv2.Client {
	ecsEndpoint := a.ecs.Options().BaseEndpoint
	return elbv2.NewFromConfig(a.awsCfg, func(o *elbv2.Options) {
		if o.BaseEndpoint == nil {
			o.BaseEndpoint = ecsEndpoint
		}
	})
}

// notAnswered tells, when err says the endpoint does not implement the
// operation or the service (an ECS-only endpoint asked for ELBv2 or
// Application Auto Scaling), why; false for any other error.
func notAnswered(err error) (string, bool) {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return "", false
	}
	switch apiErr.ErrorCode() {
	case "UnknownOperationException", "UnsupportedFeatureException", "UnsupportedOperation",
		"InvalidAction", "NoSuchVersion", "NotImplemented", "UnknownOperation":
		return fmt.Sprintf("the endpoint does not answer it (%s: %s)", apiErr.ErrorCode(), apiErr.ErrorMessage()), true
	}
	return "", false
}
