package ecsapi

import "github.com/ecsd/ecsd/internal/awsproto"

// ECS error types.
const (
	clientException           = "ClientException"
	invalidParameter          = "InvalidParameterException"
	clusterNotFound           = "ClusterNotFoundException"
	clusterContainsServices   = "ClusterContainsServicesException"
	clusterContainsTasks      = "ClusterContainsTasksException"
	serviceNotFound           = "ServiceNotFoundException"
	serviceNotActive          = "ServiceNotActiveException"
	resourceNotFound          = "ResourceNotFoundException"
	serviceDeploymentNotFound = "ServiceDeploymentNotFoundException"
	unsupportedFeature        = "UnsupportedFeatureException"
)

func invalidParam(format string, args ...any) error {
	return awsproto.Errorf(invalidParameter, format, args...)
}

func clientErr(format string, args ...any) error {
	return awsproto.Errorf(clientException, format, args...)
}

func errClusterNotFound() error { return awsproto.Errorf(clusterNotFound, "Cluster not found.") }
func errServiceNotFound() error { return awsproto.Errorf(serviceNotFound, "Service not found.") }
func errServiceNotActive() error {
	return awsproto.Errorf(serviceNotActive, "Service was not ACTIVE.")
}

func unsupported(format string, args ...any) error {
	return awsproto.Errorf(unsupportedFeature, format, args...)
}

func awsErr(typ, msg string) error { return &awsproto.Error{Type: typ, Message: msg} }
