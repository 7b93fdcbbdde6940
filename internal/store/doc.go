// Package store is ecsd's durable state: an embedded bbolt database holding
// every cluster, task definition, service, task and service deployment, and
// every ELBv2 load balancer, target group, listener and rule, one bucket per
// kind, partitioned by region.
//
// Vocabulary:
//   - Tx: one transaction. Every API call runs in exactly one (Update for
//     writes, View for reads), so a call happens completely or not at all,
//     and a committed write is on disk (bbolt fsyncs) before the call answers.
//   - Key: "region/..." paths, ordered, so a region's or a cluster's records
//     are one prefix scan.
//   - Records are the aws-sdk-go-v2 ECS and ELBv2 types (the wire model)
//     plus the few fields ecsd keeps for itself (records.go: the scheduler's
//     memory, task marks, a service's clientToken), stored as JSON. The
//     store owns these types and imports no package of ecsd.
//   - Schema version: the meta bucket records it; Open migrates older data
//     directories forward and refuses newer ones.
//   - Change: after a write commits, subscribers (the controllers) learn which
//     keys it touched.
package store
