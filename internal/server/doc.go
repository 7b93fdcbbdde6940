// Package server is ecsd's HTTP front door: one endpoint that accepts every
// AWS protocol request ecsd answers, bounds its size, reads the caller's
// region from the SigV4 credential scope, dispatches on X-Amz-Target to the
// service that owns the target prefix, and writes the answer or the AWS error
// shape.
package server
