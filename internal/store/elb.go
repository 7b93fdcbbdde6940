package store

import (
	"time"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The ELBv2 buckets. Opening a data directory creates missing buckets, so
// directories written before these existed need no migration.
const (
	LoadBalancers Bucket = "elb-loadbalancers" // region/lbName
	TargetGroups  Bucket = "elb-targetgroups"  // region/tgName
	Listeners     Bucket = "elb-listeners"     // region/lbName/listenerID
	ListenerRules Bucket = "elb-rules"         // region/lbName/listenerID/ruleID
	TargetHealth  Bucket = "elb-targethealth"  // region/tgName/host:port
)

var elbBuckets = []Bucket{LoadBalancers, TargetGroups, Listeners, ListenerRules, TargetHealth}

// LoadBalancerRecord is an Application Load Balancer as
// DescribeLoadBalancers shows it, with its tags.
type LoadBalancerRecord struct {
	LoadBalancer elbtypes.LoadBalancer
	Tags         []elbtypes.Tag
}

// TargetGroupRecord is a target group as DescribeTargetGroups shows it
// (LoadBalancerArns are derived from the listeners, not stored), with its
// attributes, its registered targets, the targets still draining and its
// tags.
type TargetGroupRecord struct {
	TargetGroup elbtypes.TargetGroup
	Attributes  map[string]string // every attribute key, defaults included
	Targets     []elbtypes.TargetDescription
	// Draining are deregistered targets whose drain has not ended: the
	// load balancer sends them no new requests until Until at the latest
	// (deregistration time + deregistration_delay.timeout_seconds).
	Draining []DrainingTarget `json:",omitempty"`
	Tags     []elbtypes.Tag
}

// DrainingTarget is a deregistered target and the end of its drain.
type DrainingTarget struct {
	Target elbtypes.TargetDescription
	Until  time.Time
}

// TargetHealthRecord is the last known health-check state of a registered
// target (initial, healthy or unhealthy, with ELBv2's reason), written
// when it changes, so that a restart resumes it instead of starting over.
// TargetGroupARN tells a record of a deleted group from one of a new group
// of the same name.
type TargetHealthRecord struct {
	TargetGroupARN string
	State          string
	Reason         string `json:",omitempty"`
	Description    string `json:",omitempty"`
}

// ListenerRecord is a listener as CreateListener answered it: Port is the
// port asked for (the socket may have fallen back to another one). The
// listener's default rule is named by DefaultRuleID.
type ListenerRecord struct {
	Listener      elbtypes.Listener
	DefaultRuleID string
	Tags          []elbtypes.Tag
}

// ListenerRuleRecord is a non-default listener rule.
type ListenerRuleRecord struct {
	Rule elbtypes.Rule
	Tags []elbtypes.Tag
}
