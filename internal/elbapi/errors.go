package elbapi

import (
	"errors"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// ELBv2 error codes (the model's awsQueryError codes; all HTTP 400).
const (
	validationError        = awsproto.ValidationError
	loadBalancerNotFound   = "LoadBalancerNotFound"
	targetGroupNotFound    = "TargetGroupNotFound"
	listenerNotFound       = "ListenerNotFound"
	ruleNotFound           = "RuleNotFound"
	duplicateLBName        = "DuplicateLoadBalancerName"
	duplicateTGName        = "DuplicateTargetGroupName"
	duplicateListener      = "DuplicateListener"
	duplicateTagKeys       = "DuplicateTagKeys"
	tooManyTags            = "TooManyTags"
	priorityInUse          = "PriorityInUse"
	resourceInUse          = "ResourceInUse"
	invalidTarget          = "InvalidTarget"
	invalidConfiguration   = "InvalidConfigurationRequest"
	unsupportedProtocol    = "UnsupportedProtocol"
	invalidAction          = "InvalidLoadBalancerAction"
	operationNotPermitted  = "OperationNotPermitted"
	tgAssociationLimit     = "TargetGroupAssociationLimit"
	unsupportedByECSD      = awsproto.UnsupportedOperation // an ELBv2 operation ecsd does not implement
	maxTagsPerResource     = 50
	maxResourcesPerTagCall = 20
)

func errf(code, format string, args ...any) error { return awsproto.Errorf(code, format, args...) }

func invalid(format string, args ...any) error {
	return awsproto.Errorf(validationError, format, args...)
}

// awsCode is the error code of an *awsproto.Error inside err, or "".
func awsCode(err error) string {
	var e *awsproto.Error
	if errors.As(err, &e) {
		return e.Type
	}
	return ""
}
