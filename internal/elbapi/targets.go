package elbapi

import (
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

var loopback = &net.IPNet{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}

// checkTarget validates a target of group tg and fills in its port (the
// group's when not given). Ids: the local instance for instance groups,
// an IPv4 address in 127.0.0.0/8 for ip groups. A nil Port stays nil when
// keepPort is set (DescribeTargetHealth: every port of the Id).
func checkTarget(tg *types.TargetGroup, t types.TargetDescription, keepPort bool) (types.TargetDescription, error) {
	arn := aws.ToString(tg.TargetGroupArn)
	if t.Id == nil || *t.Id == "" {
		return t, invalid("Each target needs an Id.")
	}
	id := *t.Id
	switch tg.TargetType {
	case types.TargetTypeEnumInstance:
		if id != LocalInstanceID {
			return t, errf(invalidTarget, "Target %q is not valid in target group %s (target type instance): ecsd has one instance, %s (the local machine, 127.0.0.1); register it with the port your service listens on.", id, arn, LocalInstanceID)
		}
	case types.TargetTypeEnumIp:
		ip := net.ParseIP(id)
		if ip == nil || ip.To4() == nil || !loopback.Contains(ip) {
			return t, errf(invalidTarget, "Target %q is not valid in target group %s (target type ip): ecsd is loopback-only; register an IPv4 address in 127.0.0.0/8 such as 127.0.0.1.", id, arn)
		}
		id = ip.To4().String()
	}
	if t.QuicServerId != nil {
		return t, invalid("QuicServerId is for QUIC target groups, which ecsd does not support.")
	}
	out := types.TargetDescription{Id: aws.String(id), AvailabilityZone: t.AvailabilityZone}
	switch {
	case t.Port != nil:
		if err := inRange("Port", t.Port, 1, 65535); err != nil {
			return t, err
		}
		out.Port = aws.Int32(*t.Port)
	case !keepPort:
		out.Port = aws.Int32(aws.ToInt32(tg.Port))
	}
	return out, nil
}

func sameTarget(a, b types.TargetDescription) bool {
	return aws.ToString(a.Id) == aws.ToString(b.Id) && aws.ToInt32(a.Port) == aws.ToInt32(b.Port)
}

// describeState is the live health of one address; unused with
// Target.NotRegistered when there is no live group.
func describeState(g *lb.TargetGroup, addr string) lb.TargetHealth {
	if g == nil {
		return lb.TargetHealth{State: lb.StateUnused, Reason: lb.ReasonNotRegistered}
	}
	return g.DescribeTargetHealth(addr)[0].Health
}

// register adds targets (already checked) to a target group, in the
// store and in the data plane.
func (a *API) register(c *call, arn string, targets []types.TargetDescription) error {
	var add []string
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return err
		}
		g := a.group(arn)
		for _, t := range targets {
			addr := targetAddr(rec.TargetGroup.TargetType, t)
			if describeState(g, addr).State == lb.StateDraining {
				return errf(invalidTarget, "Target %s:%d is still draining from target group %s; register it again when draining ends (deregistration_delay.timeout_seconds).", *t.Id, *t.Port, arn)
			}
			if !slices.ContainsFunc(rec.Targets, func(x types.TargetDescription) bool { return sameTarget(x, t) }) {
				rec.Targets = append(rec.Targets, t)
				add = append(add, addr)
			}
		}
		if len(add) == 0 {
			return nil
		}
		return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
	})
	if err != nil {
		return err
	}
	if g := a.group(arn); g != nil && len(add) > 0 {
		if err := g.Register(add...); err != nil {
			a.log.Error("registering stored targets in the data plane failed", "target_group", arn, "error", err)
		}
	}
	return nil
}

// deregister removes targets (already checked) from a target group and
// starts draining them. strict: a target neither registered nor draining
// is an InvalidTarget error; otherwise it is skipped. It returns the
// channels that close when each target has drained.
func (a *API) deregister(c *call, arn string, targets []types.TargetDescription, strict bool) ([]<-chan struct{}, error) {
	var drain []string
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return err
		}
		g := a.group(arn)
		for _, t := range targets {
			addr := targetAddr(rec.TargetGroup.TargetType, t)
			i := slices.IndexFunc(rec.Targets, func(x types.TargetDescription) bool { return sameTarget(x, t) })
			switch {
			case i >= 0:
				rec.Targets = slices.Delete(rec.Targets, i, i+1)
				drain = append(drain, addr)
			case describeState(g, addr).State == lb.StateDraining:
				drain = append(drain, addr) // already draining: same channel
			case strict:
				return errf(invalidTarget, "Target %s:%d is not registered in target group %s.", *t.Id, *t.Port, arn)
			}
		}
		return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
	})
	if err != nil {
		return nil, err
	}
	var done []<-chan struct{}
	if g := a.group(arn); g != nil {
		for _, addr := range drain {
			ch, err := g.Deregister(addr)
			if err != nil {
				a.log.Error("deregistering a target in the data plane failed", "target_group", arn, "target", addr, "error", err)
				continue
			}
			done = append(done, ch)
		}
	}
	return done, nil
}

func (a *API) readTargetGroup(c *call, arn string) (*store.TargetGroupRecord, error) {
	var rec *store.TargetGroupRecord
	err := a.cfg.Store.View(func(tx *store.Tx) (err error) {
		rec, err = a.getTargetGroup(tx, c, arn)
		return err
	})
	return rec, err
}

func (a *API) checkTargets(c *call, arn *string, targets []types.TargetDescription, keepPort bool) (*store.TargetGroupRecord, []types.TargetDescription, error) {
	if err := required("TargetGroupArn", arn != nil); err != nil {
		return nil, nil, err
	}
	rec, err := a.readTargetGroup(c, *arn)
	if err != nil {
		return nil, nil, err
	}
	out := make([]types.TargetDescription, 0, len(targets))
	for _, t := range targets {
		ct, err := checkTarget(&rec.TargetGroup, t, keepPort)
		if err != nil {
			return nil, nil, err
		}
		if !slices.ContainsFunc(out, func(x types.TargetDescription) bool { return sameTarget(x, ct) }) {
			out = append(out, ct)
		}
	}
	return rec, out, nil
}

func (a *API) registerTargets(c *call, in *elbv2.RegisterTargetsInput) (*elbv2.RegisterTargetsOutput, error) {
	if len(in.Targets) == 0 {
		return nil, invalid("Targets is required: give at least one target Id (and Port).")
	}
	_, targets, err := a.checkTargets(c, in.TargetGroupArn, in.Targets, false)
	if err != nil {
		return nil, err
	}
	if err := a.register(c, *in.TargetGroupArn, targets); err != nil {
		return nil, err
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

func (a *API) deregisterTargets(c *call, in *elbv2.DeregisterTargetsInput) (*elbv2.DeregisterTargetsOutput, error) {
	if len(in.Targets) == 0 {
		return nil, invalid("Targets is required: give at least one target Id (and Port).")
	}
	_, targets, err := a.checkTargets(c, in.TargetGroupArn, in.Targets, false)
	if err != nil {
		return nil, err
	}
	if _, err := a.deregister(c, *in.TargetGroupArn, targets, true); err != nil {
		return nil, err
	}
	return &elbv2.DeregisterTargetsOutput{}, nil
}

func (a *API) describeTargetHealth(c *call, in *elbv2.DescribeTargetHealthInput) (*elbv2.DescribeTargetHealthOutput, error) {
	rec, targets, err := a.checkTargets(c, in.TargetGroupArn, in.Targets, true)
	if err != nil {
		return nil, err
	}
	for _, inc := range in.Include {
		if inc != types.DescribeTargetHealthInputIncludeEnumAnomaly && inc != types.DescribeTargetHealthInputIncludeEnumAll {
			return nil, invalid("Include %q is not valid: use AnomalyDetection or All.", inc)
		}
	}
	g := a.group(*in.TargetGroupArn)
	if g == nil {
		return nil, &awsproto.Error{Type: "HealthUnavailable", Message: "The health of target group " + *in.TargetGroupArn + " is not available: its data plane is not running.", Status: http.StatusInternalServerError}
	}
	tg := &rec.TargetGroup
	all := g.DescribeTargetHealth()
	var descs []lb.TargetDescription
	if len(targets) == 0 {
		descs = all
	} else {
		for _, t := range targets {
			if t.Port != nil {
				descs = append(descs, g.DescribeTargetHealth(targetAddr(tg.TargetType, t))...)
				continue
			}
			// No port: every registration of the Id.
			n := len(descs)
			for _, d := range all {
				if aws.ToString(targetOf(tg, d.Target).Id) == *t.Id {
					descs = append(descs, d)
				}
			}
			if len(descs) == n {
				t.Port = tg.Port
				descs = append(descs, g.DescribeTargetHealth(targetAddr(tg.TargetType, t))...)
			}
		}
	}
	out := make([]types.TargetHealthDescription, 0, len(descs))
	for _, d := range descs {
		t := targetOf(tg, d.Target)
		th := &types.TargetHealth{State: types.TargetHealthStateEnum(d.Health.State), Reason: types.TargetHealthReasonEnum(d.Health.Reason)}
		if d.Health.Description != "" {
			th.Description = aws.String(d.Health.Description)
		}
		if i := slices.IndexFunc(rec.Targets, func(x types.TargetDescription) bool { return sameTarget(x, t) }); i >= 0 {
			t.AvailabilityZone = rec.Targets[i].AvailabilityZone
		}
		out = append(out, types.TargetHealthDescription{Target: &t, HealthCheckPort: aws.String(d.HealthCheckPort), TargetHealth: th})
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: out}, nil
}

// targetOf turns a data-plane address back into the target's Id and Port.
func targetOf(tg *types.TargetGroup, addr string) types.TargetDescription {
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	id := host
	if tg.TargetType == types.TargetTypeEnumInstance {
		id = LocalInstanceID
	}
	return types.TargetDescription{Id: aws.String(id), Port: aws.Int32(int32(port))}
}
