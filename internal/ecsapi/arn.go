package ecsapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

func (c *Call) arn(resource string) string {
	return "arn:aws:ecs:" + c.Region + ":" + c.Account + ":" + resource
}

func (c *Call) clusterARN(cluster string) string { return c.arn("cluster/" + cluster) }
func (c *Call) serviceARN(cluster, service string) string {
	return c.arn("service/" + cluster + "/" + service)
}
func (c *Call) taskARN(cluster, id string) string { return c.arn("task/" + cluster + "/" + id) }
func (c *Call) taskDefinitionARN(family string, rev int32) string {
	return c.arn("task-definition/" + family + ":" + strconv.Itoa(int(rev)))
}
func (c *Call) serviceDeploymentARN(cluster, service, id string) string {
	return c.arn("service-deployment/" + cluster + "/" + service + "/" + id)
}
func (c *Call) serviceRevisionARN(cluster, service, id string) string {
	return c.arn("service-revision/" + cluster + "/" + service + "/" + id)
}

// parsedARN is an ECS ARN split into its parts.
type parsedARN struct {
	Region, Account string
	Type            string   // cluster, service, task, task-definition, ...
	Path            []string // the resource path after the type
}

func parseARN(s string) (parsedARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return parsedARN{}, false
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || rest == "" {
		return parsedARN{}, false
	}
	return parsedARN{Region: parts[3], Account: parts[4], Type: typ, Path: strings.Split(rest, "/")}, true
}

// mine tells whether an ARN names a resource of this call's region and account.
func (c *Call) mine(a parsedARN) bool { return a.Region == c.Region && a.Account == c.Account }

// clusterName resolves a cluster reference (name or ARN; empty means
// "default") to a name. ok is false for an ARN of another region or account,
// or of another resource type.
func (c *Call) clusterName(ref string) (string, bool) {
	if ref == "" {
		return "default", true
	}
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Type != "cluster" || len(a.Path) != 1 || !c.mine(a) {
			return "", false
		}
		return a.Path[0], true
	}
	return ref, true
}

// newTaskID is a task ID as ECS makes them: 32 hex digits.
func newTaskID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID is a random RFC 4122 version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newDeploymentID is a deployment ID as ECS makes them: ecs-svc/ and 19
// digits.
func newDeploymentID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e18))
	return fmt.Sprintf("ecs-svc/%019d", n.Uint64()+1e18)
}

// newShortID is a 21-character URL-safe ID, like those in service
// deployment ARNs.
func newShortID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 21)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
