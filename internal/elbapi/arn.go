package elbapi

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/ecsd/ecsd/internal/store"
)

// Resource kinds, as they appear in ARNs.
const (
	kindLoadBalancer = "loadbalancer"
	kindTargetGroup  = "targetgroup"
	kindListener     = "listener"
	kindRule         = "listener-rule"
)

// resourceARN is a parsed ELBv2 ARN:
//
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/LB/LBID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/TG/TGID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/LB/LBID/LID
//	arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/LB/LBID/LID/RID
type resourceARN struct {
	Region, Account string
	Kind            string
	Name            string // load balancer or target group name
	ID              string // load balancer or target group ID
	ListenerID      string
	RuleID          string
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *call) arnPrefix() string {
	return "arn:aws:elasticloadbalancing:" + c.Region + ":" + c.Account + ":"
}

func (c *call) loadBalancerARN(name, id string) string {
	return c.arnPrefix() + "loadbalancer/app/" + name + "/" + id
}

func (c *call) targetGroupARN(name, id string) string {
	return c.arnPrefix() + "targetgroup/" + name + "/" + id
}

func (c *call) listenerARN(lbName, lbID, lid string) string {
	return c.arnPrefix() + "listener/app/" + lbName + "/" + lbID + "/" + lid
}

func (c *call) ruleARN(lbName, lbID, lid, rid string) string {
	return c.arnPrefix() + "listener-rule/app/" + lbName + "/" + lbID + "/" + lid + "/" + rid
}

// parseARN parses an ELBv2 ARN; ok is false when it is not one.
func parseARN(s string) (a resourceARN, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "elasticloadbalancing" || parts[3] == "" || parts[4] == "" {
		return a, false
	}
	a.Region, a.Account = parts[3], parts[4]
	p := strings.Split(parts[5], "/")
	for _, seg := range p {
		if seg == "" {
			return a, false
		}
	}
	a.Kind = p[0]
	switch {
	case a.Kind == kindTargetGroup && len(p) == 3:
		a.Name, a.ID = p[1], p[2]
	case a.Kind == kindLoadBalancer && len(p) == 4 && p[1] == "app":
		a.Name, a.ID = p[2], p[3]
	case a.Kind == kindListener && len(p) == 5 && p[1] == "app":
		a.Name, a.ID, a.ListenerID = p[2], p[3], p[4]
	case a.Kind == kindRule && len(p) == 6 && p[1] == "app":
		a.Name, a.ID, a.ListenerID, a.RuleID = p[2], p[3], p[4], p[5]
	default:
		return a, false
	}
	return a, true
}

// Store keys.
func lbKey(region, name string) string { return store.Key(region, name) }
func tgKey(region, name string) string { return store.Key(region, name) }
func listenerKey(region, lbName, lid string) string {
	return store.Key(region, lbName, lid)
}
func ruleKey(region, lbName, lid, rid string) string {
	return store.Key(region, lbName, lid, rid)
}

// loadBalancerARN is the ARN of the load balancer a listener or rule ARN
// belongs to.
func (r resourceARN) loadBalancerARN() string {
	return "arn:aws:elasticloadbalancing:" + r.Region + ":" + r.Account + ":loadbalancer/app/" + r.Name + "/" + r.ID
}
