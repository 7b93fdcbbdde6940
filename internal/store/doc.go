// Package store is ecsd's durable state: an embedded bbolt database holding
// every cluster, task definition, service, task and service deployment, and
// every ELBv2 load balancer, target group, listener and rule, one bucket per
// kind, partitioned by region.
//
// Vocabulary:
//   - Tx: one transaction. Every API call runs in exactly one (Update for
//     writes, View for reads), so a call happens completely or not at all,
//     and a committed write is on disk (bbolt fsyncs) before the call answers
//     (unless the store was opened with Options.NoSync, for tests). A panic
//     inside a transaction (bbolt's on a damaged page, a memory fault on a
//     truncated file, or the caller's) comes back as a *PanicError.
//   - Read cache: a View decodes each record once per distinct stored bytes
//     and shares the result with every View reader, so records read in a
//     View are read-only, slices and pointers included; records read in an
//     Update are private.
//   - Key: "region/..." paths, ordered, so a region's or a cluster's records
//     are one prefix scan.
//   - Records are the aws-sdk-go-v2 ECS and ELBv2 types (the wire model)
//     plus the few fields ecsd keeps for itself (records.go: the scheduler's
//     memory, task marks, a service's clientToken), stored as JSON. The
//     store owns these types and imports no package of ecsd.
//   - Schema version: the meta bucket records it; Open migrates older data
//     directories forward and refuses newer ones.
//   - Damaged: Open checks an existing database file (its size against its
//     pages, every page read, bbolt's consistency check) and refuses a
//     truncated or corrupt one with ErrDamaged and what to do.
//   - Change: after a write commits, subscribers (the reconcilers:
//     controller, taskrun, lbrun) learn which keys it touched.
package store
