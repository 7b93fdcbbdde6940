package ecsmodel

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
)

// deploymentIDPrefix starts every deployment ID.
const deploymentIDPrefix = "ecs-svc/"

// NewTaskID is a task ID as ECS makes them: 32 hex digits.
func NewTaskID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewUUID is a random RFC 4122 version 4 UUID.
func NewUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// NewDeploymentID is a deployment ID as ECS makes them: ecs-svc/ and 19
// digits.
func NewDeploymentID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e18))
	return fmt.Sprintf("%s%019d", deploymentIDPrefix, n.Uint64()+1e18)
}

// NewShortID is a 21-character URL-safe ID, like those in service
// deployment ARNs.
func NewShortID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 21)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
