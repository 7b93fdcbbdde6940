package lbrun

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// How stored ELBv2 records read as data-plane configuration. elbapi
// writes the records; these functions are the one reading of them, used by
// the reconciler and by elbapi's validation.

// LocalInstanceID is the one EC2 instance ecsd has: the local machine, at
// 127.0.0.1. Targets of instance target groups name it.
const LocalInstanceID = "i-0ec5d000000000000"

// HealthCheckOf is the data plane's view of a target group's health check.
func HealthCheckOf(tg *types.TargetGroup) lb.HealthCheck {
	hc := lb.HealthCheck{
		Protocol:           string(tg.HealthCheckProtocol),
		Port:               aws.ToString(tg.HealthCheckPort),
		Path:               aws.ToString(tg.HealthCheckPath),
		Interval:           time.Duration(aws.ToInt32(tg.HealthCheckIntervalSeconds)) * time.Second,
		Timeout:            time.Duration(aws.ToInt32(tg.HealthCheckTimeoutSeconds)) * time.Second,
		HealthyThreshold:   int(aws.ToInt32(tg.HealthyThresholdCount)),
		UnhealthyThreshold: int(aws.ToInt32(tg.UnhealthyThresholdCount)),
	}
	if tg.Matcher != nil {
		hc.Matcher = aws.ToString(tg.Matcher.HttpCode)
	}
	return hc
}

// AppliedAttributes picks the target group attributes the data plane
// applies (the others are stored and described only).
func AppliedAttributes(attrs map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{lb.AttrDeregistrationDelay, lb.AttrSlowStart, lb.AttrAlgorithm} {
		if v, ok := attrs[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TargetAddr is the data-plane address of a stored target: 127.0.0.1:port
// for the local instance, the address itself for ip targets.
func TargetAddr(targetType types.TargetTypeEnum, t types.TargetDescription) string {
	host := "127.0.0.1"
	if targetType == types.TargetTypeEnumIp {
		host = aws.ToString(t.Id)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(aws.ToInt32(t.Port))))
}

// LocalTarget is the target at 127.0.0.1:port in a group of targetType:
// Id 127.0.0.1 in an ip group, LocalInstanceID in an instance group.
func LocalTarget(targetType types.TargetTypeEnum, port int) types.TargetDescription {
	id := "127.0.0.1"
	if targetType == types.TargetTypeEnumInstance {
		id = LocalInstanceID
	}
	return types.TargetDescription{Id: aws.String(id), Port: aws.Int32(int32(port))}
}

// SameTarget says whether two stored targets are the same Id and port.
func SameTarget(a, b types.TargetDescription) bool {
	return aws.ToString(a.Id) == aws.ToString(b.Id) && aws.ToInt32(a.Port) == aws.ToInt32(b.Port)
}

// ErrTargetDraining is returned when a target is registered while it is
// still draining from the group.
var ErrTargetDraining = lb.ErrTargetDraining

// AddTarget registers t in rec (the API's RegisterTargets and the ECS
// contract both call it inside their store transaction). It reports
// whether rec changed; a target still draining (its drain ends after now)
// is ErrTargetDraining. A drain that has ended by now but is still recorded
// is dropped.
func AddTarget(rec *store.TargetGroupRecord, t types.TargetDescription, now time.Time) (bool, error) {
	changed := false
	if i := slices.IndexFunc(rec.Draining, func(d store.DrainingTarget) bool { return SameTarget(d.Target, t) }); i >= 0 {
		if rec.Draining[i].Until.After(now) {
			return false, ErrTargetDraining
		}
		rec.Draining = slices.Delete(rec.Draining, i, i+1)
		changed = true
	}
	if slices.ContainsFunc(rec.Targets, func(x types.TargetDescription) bool { return SameTarget(x, t) }) {
		return changed, nil
	}
	rec.Targets = append(rec.Targets, t)
	return true, nil
}

// RemoveTarget deregisters t from rec: it leaves Targets and drains until
// now plus the group's deregistration delay. registered says it was
// registered (rec changed); draining that it was already draining.
func RemoveTarget(rec *store.TargetGroupRecord, t types.TargetDescription, now time.Time) (registered, draining bool) {
	if i := slices.IndexFunc(rec.Targets, func(x types.TargetDescription) bool { return SameTarget(x, t) }); i >= 0 {
		rec.Targets = slices.Delete(rec.Targets, i, i+1)
		rec.Draining = slices.DeleteFunc(rec.Draining, func(d store.DrainingTarget) bool { return SameTarget(d.Target, t) })
		rec.Draining = append(rec.Draining, store.DrainingTarget{Target: t, Until: now.Add(DeregistrationDelay(rec))})
		return true, false
	}
	draining = slices.ContainsFunc(rec.Draining, func(d store.DrainingTarget) bool { return SameTarget(d.Target, t) && d.Until.After(now) })
	return false, draining
}

// DeregistrationDelay is the group's deregistration_delay.timeout_seconds.
func DeregistrationDelay(rec *store.TargetGroupRecord) time.Duration {
	attrs, err := lb.ParseAttributes(lb.DefaultAttributes(), AppliedAttributes(rec.Attributes))
	if err != nil {
		return lb.DefaultDeregistrationDelay
	}
	return attrs.DeregistrationDelay
}

// ActionTargetGroups lists the target groups actions forward to.
func ActionTargetGroups(actions []types.Action) []string {
	var arns []string
	for _, act := range actions {
		if act.TargetGroupArn != nil {
			arns = append(arns, *act.TargetGroupArn)
		}
		if act.ForwardConfig != nil {
			for _, t := range act.ForwardConfig.TargetGroups {
				if t.TargetGroupArn != nil && !slices.Contains(arns, *t.TargetGroupArn) {
					arns = append(arns, *t.TargetGroupArn)
				}
			}
		}
	}
	return arns
}

// References maps each target group ARN of a region to the load balancers
// whose listeners or rules forward to it (sorted). A rule's key extends
// its listener's key (region/lb/listener/rule).
func References(tx *store.Tx, region string) (map[string][]string, error) {
	refs := map[string][]string{}
	add := func(lbARN string, actions []types.Action) {
		for _, tg := range ActionTargetGroups(actions) {
			if !slices.Contains(refs[tg], lbARN) {
				refs[tg] = append(refs[tg], lbARN)
			}
		}
	}
	lbOf := map[string]string{} // listener key → load balancer ARN
	err := tx.Scan(store.Listeners, store.Prefix(region), "", func(key string, raw []byte) error {
		var l store.ListenerRecord
		if err := tx.Decode(store.Listeners, key, raw, &l); err != nil {
			return err
		}
		lbOf[key] = aws.ToString(l.Listener.LoadBalancerArn)
		add(lbOf[key], l.Listener.DefaultActions)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Scan(store.ListenerRules, store.Prefix(region), "", func(key string, raw []byte) error {
		var r store.ListenerRuleRecord
		if err := tx.Decode(store.ListenerRules, key, raw, &r); err != nil {
			return err
		}
		if lbARN, ok := lbOf[parentKey(key)]; ok {
			add(lbARN, r.Rule.Actions)
		}
		return nil
	})
	for _, v := range refs {
		slices.Sort(v)
	}
	return refs, err
}

// parentKey is a store key without its last element.
func parentKey(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i]
	}
	return ""
}

// groupKey is the store key (region/name) of the target group an ARN
// names: arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID.
// The record found there must carry the same ARN (account and ID).
func groupKey(arn string) (key, region string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "elasticloadbalancing" && parts[3] != "" {
		if p := strings.Split(parts[5], "/"); len(p) == 3 && p[0] == "targetgroup" && p[1] != "" && p[2] != "" {
			return store.Key(parts[3], p[1]), parts[3], nil
		}
	}
	return "", "", fmt.Errorf("%q is not a target group ARN", arn)
}

// healthKey is the store key of a target's last known health.
func healthKey(groupKey, addr string) string { return groupKey + "/" + addr }
