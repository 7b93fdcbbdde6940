// Package server is ecsd's HTTP front door: the request Guard that every
// endpoint ecsd serves sits behind, and the Handler of the AWS APIs, which
// reads the caller's region from the SigV4 credential scope, dispatches a
// request to the service that owns it, and writes the answer or the AWS
// error shape.
//
// Two protocols share the AWS API endpoint:
//   - JSON 1.1 (ECS, Application Auto Scaling, ...): the X-Amz-Target header names the service by its
//     prefix and the operation; errors are JSON.
//   - AWS Query (ELBv2): no X-Amz-Target, a form-encoded body whose Version
//     parameter names the service (2015-12-01 is ELBv2) and whose Action
//     names the operation; answers and errors are XML.
//
// # Threat model
//
// ecsd runs commands: a RunTask or CreateService starts any command line,
// or any container, as the user running ecsd. Whoever can get a request
// answered by ecsd can therefore run code on this machine. The Guard keeps
// these callers out:
//
//   - Web pages. A browser on this machine can reach 127.0.0.1, and a page
//     from any site can make it send requests there. Two ways are closed:
//     cross-site requests (a form post, a fetch) carry an Origin that is
//     not ecsd's own, or Sec-Fetch-Site cross-site/same-site, and are
//     refused; DNS rebinding (the page's own name re-pointed at 127.0.0.1,
//     so its requests count as same-origin) carries the page's name as
//     Host, and only Hosts that name this ecsd are answered: loopback names
//     (localhost, *.localhost, 127.0.0.0/8, [::1]), the listen address (and
//     this machine's addresses when it listens on all of them) and the
//     --allowed-hosts. AWS SDKs and the aws CLI send no Origin and address
//     ecsd by the endpoint URL they were given, so they pass.
//   - Unsigned requests. Every AWS API request must carry an AWS Signature
//     Version 4, as AWS requires: well-formed, its region a region name, its
//     X-Amz-Date within 15 minutes, X-Amz-Content-Sha256 (if sent) the
//     body's hash. Without configured credentials any access key is
//     accepted and the signature itself cannot be checked; that keeps out
//     only what cannot sign (browsers, curl without --aws-sigv4), and is
//     meant for a loopback listener on a single-user machine.
//   - Other local users and the network. With credentials configured
//     (--credentials), only requests signed by one of them are answered:
//     the Guard re-signs the request with the key's secret, using the SDK's
//     own signer, and compares. Requests still travel in plain HTTP, so a
//     listener beyond loopback is announced with a warning at start.
//   - Resource exhaustion by slow or large requests: headers must arrive
//     within the server's ReadHeaderTimeout, a body within BodyTimeout and
//     MaxBodyBytes; idle keep-alive connections stay open for reuse.
//   - Leaks and crashes: a failure inside ecsd is answered as a
//     ServerException that gives only a request ID (the log has the whole
//     error, which may name files); a panicking handler is answered with a
//     500 and logged with its stack, and ecsd keeps serving.
//
// Out of scope: confidentiality on the wire (no TLS), per-operation
// permissions (every accepted key may do everything, as ecsd has no IAM),
// and the load balancer listeners, which serve the tasks' own traffic.
//
// # Reusing the Guard
//
// cmd/ecsd/guard.go turns ecsd's flags into a GuardConfig (and warns at
// start when the endpoint is exposed); the assembly (internal/ecsd) puts
// every endpoint it serves behind the Guard. Each endpoint is wrapped with
// Guard.Protect and an Endpoint saying how to answer refusals; the Host,
// cross-site, body, request ID and panic rules apply to all. The AWS API
// uses Handler.Endpoint (SigV4 required, AWS error shapes). An endpoint
// that is not an AWS API (a dashboard, /metrics, hook callbacks) passes
// Endpoint{WriteError: ...} with SigV4 false, and must add its own
// authentication if it can change anything: the Host and cross-site rules
// keep browsers of other sites out, not local programs.
// Handlers read the request ID with RequestID(ctx) and should answer
// internal failures with InternalError(id), logging the cause.
//
// Vocabulary: a request is refused when the Guard answers it without
// calling the endpoint; the request ID is the X-Amzn-RequestId header.
package server
