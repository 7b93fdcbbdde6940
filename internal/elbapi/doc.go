// Package elbapi answers the Elastic Load Balancing v2 API (AWS Query
// protocol, version 2015-12-01) on ecsd's endpoint and runs what it
// describes: every target group is a live lb.TargetGroup (health checks,
// draining) and every listener a real socket on 127.0.0.1 (lb.Listener)
// routing by its rules. State is durable in the store (buckets
// elb-loadbalancers, elb-targetgroups, elb-listeners, elb-rules);
// Recover rebuilds the live objects after a restart and Close shuts them.
//
// Supported: Application Load Balancers (Create/Describe/DeleteLoadBalancer),
// HTTP target groups of type instance or ip with every health-check member
// (Create/Describe/Modify/DeleteTargetGroup, Describe/ModifyTargetGroupAttributes),
// targets (Register/DeregisterTargets, DescribeTargetHealth), HTTP
// listeners (Create/Describe/Modify/DeleteListener), rules with
// path-pattern and host-header conditions and forward (weighted) or
// fixed-response actions (Create/Describe/Modify/DeleteRule,
// SetRulePriorities) and tags (Add/Remove/DescribeTags). Every other ELBv2
// operation answers UnsupportedFeatureException naming itself.
//
// Vocabulary and local choices:
//   - ecsd has one machine. An instance target is LocalInstanceID
//     (i-0ec5d000000000000), meaning 127.0.0.1; an ip target is an IPv4
//     address in 127.0.0.0/8. Anything else is InvalidTarget.
//   - A listener binds 127.0.0.1:Port. When the port is taken (or
//     privileged) it binds a free port instead, logs a warning, and
//     DescribeListeners reports the port it really got; the store keeps
//     the requested one, which Recover asks for again.
//   - A load balancer's DNSName is NAME-NUMBER.REGION.elb.localhost:
//     .localhost names resolve to 127.0.0.1 in curl and browsers, so
//     http://DNSNAME:LISTENERPORT/ reaches the listener.
//   - Target group attributes: deregistration_delay.timeout_seconds,
//     slow_start.duration_seconds (stored; lb does not ramp yet) and
//     load_balancing.algorithm.type (round_robin, least_outstanding_requests)
//     are applied; the other ALB keys (stickiness.*, cross_zone,
//     anomaly_mitigation, target_group_health.*) are validated, stored and
//     described with their defaults but have no effect.
//   - Draining targets are not stored: after a restart a target that was
//     draining is simply gone.
//
// Contract for the ECS side (service load balancing):
//
//	TargetGroup(arn) (TargetGroupInfo, bool)            // CreateService validation
//	RegisterTarget(tgARN, port) error                    // 127.0.0.1:port, stored like RegisterTargets
//	DeregisterTarget(tgARN, port) (<-chan struct{}, error) // starts draining; closes when drained
//	TargetHealth(tgARN, port) (lb.TargetHealth, bool)
//	OnHealthChange(func(tgARN string, port int, h lb.TargetHealth)) // every state change, incl. draining
//
// The target group ARN carries the region. Register OnHealthChange
// callbacks before Recover; they run on data-plane goroutines and must not
// block or call RegisterTarget/DeregisterTarget.
//
// Concurrency: operations that change state run one at a time (a mutex
// around the store transaction and the live change), so the store and the
// data plane never disagree; bad input is rejected before anything
// changes.
package elbapi
