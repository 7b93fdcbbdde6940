package ecsmodel

// Task statuses (a task's lastStatus and desiredStatus), in lifecycle order.
// desiredStatus is only ever TaskRunning or TaskStopped.
const (
	TaskProvisioning   = "PROVISIONING"
	TaskPending        = "PENDING"
	TaskActivating     = "ACTIVATING"
	TaskRunning        = "RUNNING"
	TaskDeactivating   = "DEACTIVATING"
	TaskStopping       = "STOPPING"
	TaskDeprovisioning = "DEPROVISIONING"
	TaskStopped        = "STOPPED"
)

// Container statuses (a container's lastStatus).
const (
	ContainerPending = "PENDING"
	ContainerRunning = "RUNNING"
	ContainerStopped = "STOPPED"
)

// Deployment statuses in a service's deployments[]. INACTIVE deployments are
// dropped from the list, so ecsd never shows one.
const (
	DeploymentPrimary = "PRIMARY"
	DeploymentActive  = "ACTIVE"
)

// Service statuses: DeleteService makes a service DRAINING; once its tasks
// have stopped it becomes INACTIVE.
const (
	ServiceActive   = "ACTIVE"
	ServiceDraining = "DRAINING"
	ServiceInactive = "INACTIVE"
)

// Cluster statuses: DeleteCluster makes a cluster INACTIVE.
const (
	ClusterActive   = "ACTIVE"
	ClusterInactive = "INACTIVE"
)
