// Package demo is `ecsd demo`: the first thing a new user runs. It starts
// a private ecsd (embedded defaults, a temporary data directory), puts a
// 4-task demoapp service behind the built-in load balancer with ecsctl,
// rolls it to v2 while a steady trickle of requests goes through the
// listener, deploys a crashing v3 and lets the deployment circuit breaker
// roll it back, prints a summary with the timings and the traffic seen,
// and cleans everything up.
//
// It talks to its ecsd only through the public APIs (the ECS and ELBv2
// clients of aws-sdk-go-v2, and ecsctl itself), so it is also a worked
// example of driving ecsd.
package demo
