// Package server is ecsd's HTTP front door: one endpoint that accepts every
// AWS protocol request ecsd answers, bounds its size, reads the caller's
// region from the SigV4 credential scope, dispatches the request to the
// service that owns it, and writes the answer or the AWS error shape.
//
// Two protocols share the endpoint:
//   - JSON 1.1 (ECS, Application Auto Scaling): the X-Amz-Target header names the service by its
//     prefix and the operation; errors are JSON.
//   - AWS Query (ELBv2): no X-Amz-Target, a form-encoded body whose Version
//     parameter names the service (2015-12-01 is ELBv2) and whose Action
//     names the operation; answers and errors are XML.
package server
