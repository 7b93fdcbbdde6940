// Package elbapi answers the Elastic Load Balancing v2 API (AWS Query
// protocol, version 2015-12-01) on ecsd's endpoint: it decodes and
// validates each operation and stores the result (buckets
// elb-loadbalancers, elb-targetgroups, elb-listeners, elb-rules). It owns
// no goroutine and no socket: internal/lbrun runs what is stored (every
// target group a live lb.TargetGroup with health checks and draining,
// every listener a real socket on 127.0.0.1 routing by its rules) and
// answers the data-plane reads (DescribeTargetHealth, a listener that
// cannot listen).
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
//   - A listener listens on 127.0.0.1:Port and on no other port.
//     CreateListener and ModifyListener (a new Port) bind the port before
//     they store anything (lbrun.Reserve): a port another program holds,
//     another load balancer's listener in this ecsd has, or that is
//     privileged fails the call with InvalidConfigurationRequest naming
//     the port and what to do. A stored listener whose port is taken when
//     ecsd starts keeps its port in DescribeListeners; lbrun logs the
//     error with the fix and retries with back-off, and
//     DescribeLoadBalancers shows its load balancer active_impaired with
//     the reason until the listener listens.
//   - A load balancer's DNSName is NAME-NUMBER.REGION.elb.localhost:
//     .localhost names resolve to 127.0.0.1 in curl and browsers, so
//     http://DNSNAME:LISTENERPORT/ reaches the listener.
//   - Target group attributes: deregistration_delay.timeout_seconds,
//     slow_start.duration_seconds (stored; lb does not ramp yet) and
//     load_balancing.algorithm.type (round_robin, least_outstanding_requests)
//     are applied; the other ALB keys (stickiness.*, cross_zone,
//     anomaly_mitigation, target_group_health.*) are validated, stored and
//     described with their defaults but have no effect.
//   - DeregisterTargets stores the drain with its deadline (now +
//     deregistration_delay.timeout_seconds) in the target group record;
//     a draining target cannot be registered again until its drain ends.
//     Drains and each target's last known health survive a restart (see
//     lbrun).
//
// The ECS side (service load balancing) uses lbrun's contract, which
// stores targets with the same rule (lbrun.AddTarget, lbrun.RemoveTarget).
//
// Concurrency: each operation validates and writes in one store
// transaction, so bad input changes nothing; an operation that changed
// state then waits for lbrun to apply it (lbrun.Runner.Sync) before it
// answers, so what it answered is what serves.
package elbapi
