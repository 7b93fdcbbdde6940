package elbapi

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/lbrun"
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

// register adds targets (already checked) to a target group's stored
// targets; lbrun registers them in the data plane. A target still
// draining is refused.
func (a *API) register(c *call, arn string, targets []types.TargetDescription) error {
	return a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return err
		}
		changed := false
		for _, t := range targets {
			added, err := lbrun.AddTarget(rec, t, c.Now)
			if errors.Is(err, lbrun.ErrTargetDraining) {
				return errf(invalidTarget, "Target %s:%d is still draining from target group %s; register it again when draining ends (deregistration_delay.timeout_seconds).", *t.Id, *t.Port, arn)
			}
			if err != nil {
				return err
			}
			changed = changed || added
		}
		if !changed {
			return nil
		}
		return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
	})
}

// deregister removes targets (already checked) from a target group's
// stored targets, recording their drains; lbrun drains them. A target
// neither registered nor draining is an InvalidTarget error.
func (a *API) deregister(c *call, arn string, targets []types.TargetDescription) error {
	return a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if registered, draining := lbrun.RemoveTarget(rec, t, c.Now); !registered && !draining {
				return errf(invalidTarget, "Target %s:%d is not registered in target group %s.", *t.Id, *t.Port, arn)
			}
		}
		return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
	})
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
		if !slices.ContainsFunc(out, func(x types.TargetDescription) bool { return lbrun.SameTarget(x, ct) }) {
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
	if err := a.deregister(c, *in.TargetGroupArn, targets); err != nil {
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
	arn := *in.TargetGroupArn
	unavailable := &awsproto.Error{Type: "HealthUnavailable", Message: "The health of target group " + arn + " is not available: its data plane is not running.", Status: http.StatusInternalServerError}
	tg := &rec.TargetGroup
	all, ok := a.live.DescribeTargetHealth(arn)
	if !ok {
		return nil, unavailable
	}
	one := func(t types.TargetDescription) []lb.TargetDescription {
		d, _ := a.live.DescribeTargetHealth(arn, lbrun.TargetAddr(tg.TargetType, t))
		return d
	}
	var descs []lb.TargetDescription
	if len(targets) == 0 {
		descs = all
	} else {
		for _, t := range targets {
			if t.Port != nil {
				descs = append(descs, one(t)...)
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
				descs = append(descs, one(t)...)
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
		if i := slices.IndexFunc(rec.Targets, func(x types.TargetDescription) bool { return lbrun.SameTarget(x, t) }); i >= 0 {
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
