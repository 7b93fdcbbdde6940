package store

import (
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The ELBv2 buckets. Opening a data directory creates missing buckets, so
// directories written before these existed need no migration.
const (
	LoadBalancers Bucket = "elb-loadbalancers" // region/lbName
	TargetGroups  Bucket = "elb-targetgroups"  // region/tgName
	Listeners     Bucket = "elb-listeners"     // region/lbName/listenerID
	ListenerRules Bucket = "elb-rules"         // region/lbName/listenerID/ruleID
)

var elbBuckets = []Bucket{LoadBalancers, TargetGroups, Listeners, ListenerRules}

// LoadBalancerRecord is an Application Load Balancer as
// DescribeLoadBalancers shows it, with its tags.
type LoadBalancerRecord struct {
	LoadBalancer elbtypes.LoadBalancer
	Tags         []elbtypes.Tag
}

// TargetGroupRecord is a target group as DescribeTargetGroups shows it
// (LoadBalancerArns are derived from the listeners, not stored), with its
// attributes, its registered targets and its tags. Draining targets are
// not stored: they are already deregistered.
type TargetGroupRecord struct {
	TargetGroup elbtypes.TargetGroup
	Attributes  map[string]string // every attribute key, defaults included
	Targets     []elbtypes.TargetDescription
	Tags        []elbtypes.Tag
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
