package elbapi

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

func errTGNotFound(arn string) error {
	return errf(targetGroupNotFound, "Target group %q not found.", arn)
}

// getTargetGroup reads the target group arn names.
func (a *API) getTargetGroup(tx *store.Tx, c *call, arn string) (*store.TargetGroupRecord, error) {
	r, err := c.resolve(arn, kindTargetGroup, func() error { return errTGNotFound(arn) })
	if err != nil {
		return nil, err
	}
	var rec store.TargetGroupRecord
	found, err := tx.Get(store.TargetGroups, tgKey(c.Region, r.Name), &rec)
	if err != nil {
		return nil, err
	}
	if !found || aws.ToString(rec.TargetGroup.TargetGroupArn) != arn {
		return nil, errTGNotFound(arn)
	}
	return &rec, nil
}

// healthCheckInput is the health-check members CreateTargetGroup and
// ModifyTargetGroup share.
type healthCheckInput struct {
	Enabled            *bool
	Protocol           types.ProtocolEnum
	Port               *string
	Path               *string
	Interval           *int32
	Timeout            *int32
	HealthyThreshold   *int32
	UnhealthyThreshold *int32
	Matcher            *types.Matcher
}

// applyHealthCheck sets the given health-check members on tg and
// validates the result as ELBv2 does.
func applyHealthCheck(tg *types.TargetGroup, in healthCheckInput) error {
	if in.Enabled != nil && !*in.Enabled {
		return invalid("Health checks cannot be disabled for target groups of target type %s: leave HealthCheckEnabled true.", tg.TargetType)
	}
	if in.Protocol != "" {
		if in.Protocol != types.ProtocolEnumHttp {
			return errf(unsupportedProtocol, "Health check protocol %q is not supported by ecsd: use HTTP.", in.Protocol)
		}
		tg.HealthCheckProtocol = in.Protocol
	}
	if in.Port != nil {
		if *in.Port != lb.TrafficPort {
			if p, err := strconv.Atoi(*in.Port); err != nil || p < 1 || p > 65535 {
				return invalid("HealthCheckPort %q is not valid: use %q or a port in 1-65535.", *in.Port, lb.TrafficPort)
			}
		}
		tg.HealthCheckPort = aws.String(*in.Port)
	}
	if in.Path != nil {
		if !strings.HasPrefix(*in.Path, "/") || len(*in.Path) > lb.MaxHealthCheckPathLength {
			return invalid("HealthCheckPath %q is not valid: it starts with / and has at most %d characters.", *in.Path, lb.MaxHealthCheckPathLength)
		}
		tg.HealthCheckPath = aws.String(*in.Path)
	}
	for _, r := range []struct {
		v     *int32
		limit lb.HealthCheckLimit
		dst   **int32
	}{
		{in.Interval, lb.IntervalLimit, &tg.HealthCheckIntervalSeconds},
		{in.Timeout, lb.TimeoutLimit, &tg.HealthCheckTimeoutSeconds},
		{in.HealthyThreshold, lb.HealthyThresholdLimit, &tg.HealthyThresholdCount},
		{in.UnhealthyThreshold, lb.UnhealthyThresholdLimit, &tg.UnhealthyThresholdCount},
	} {
		if err := inRange(r.limit.Member, r.v, r.limit.Min, r.limit.Max); err != nil {
			return err
		}
		if r.v != nil {
			*r.dst = aws.Int32(*r.v)
		}
	}
	if m := in.Matcher; m != nil {
		if m.GrpcCode != nil {
			return invalid("Matcher GrpcCode is for GRPC target groups, which ecsd does not support: use HttpCode.")
		}
		if m.HttpCode == nil {
			return invalid("Matcher needs HttpCode, such as 200, 200,202 or 200-299.")
		}
		if _, err := lb.ParseMatcher(*m.HttpCode); err != nil {
			return invalid("Matcher HttpCode %q is not valid (%v): use codes in 200-499 such as 200, 200,202 or 200-299.", *m.HttpCode, err)
		}
		tg.Matcher = &types.Matcher{HttpCode: aws.String(*m.HttpCode)}
	}
	if i, t := aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthCheckTimeoutSeconds); t >= i {
		return invalid("Health check timeout '%d' must be smaller than the interval '%d'.", t, i)
	}
	return nil
}

func (a *API) createTargetGroup(c *call, in *elbv2.CreateTargetGroupInput) (*elbv2.CreateTargetGroupOutput, error) {
	tg, err := newTargetGroup(in)
	if err != nil {
		return nil, err
	}
	name := *tg.TargetGroupName
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}

	existed := false
	err = a.cfg.Store.Update(func(tx *store.Tx) error {
		var existing store.TargetGroupRecord
		found, err := tx.Get(store.TargetGroups, tgKey(c.Region, name), &existing)
		if err != nil {
			return err
		}
		if existed = found; found {
			tg.TargetGroupArn = existing.TargetGroup.TargetGroupArn
			if !reflect.DeepEqual(tg, existing.TargetGroup) {
				return errf(duplicateTGName, "A target group named %q already exists with different settings.", name)
			}
			return nil // CreateTargetGroup is idempotent
		}
		tg.TargetGroupArn = aws.String(c.targetGroupARN(name, newID()))
		rec := &store.TargetGroupRecord{TargetGroup: tg, Attributes: defaultAttributes(), Tags: mergeTags(nil, in.Tags)}
		return tx.Put(store.TargetGroups, tgKey(c.Region, name), rec)
	})
	if err != nil {
		return nil, err
	}
	out := tg
	out.LoadBalancerArns = []string{}
	if existed {
		out.LoadBalancerArns = a.loadBalancersOf(c, *tg.TargetGroupArn)
	} else {
		a.log.Info("target group created", "arn", *tg.TargetGroupArn)
	}
	return &elbv2.CreateTargetGroupOutput{TargetGroups: []types.TargetGroup{out}}, nil
}

// newTargetGroup validates CreateTargetGroup's input and returns the
// target group it describes, with ELBv2's defaults, without its ARN.
func newTargetGroup(in *elbv2.CreateTargetGroupInput) (types.TargetGroup, error) {
	if err := required("Name", in.Name != nil); err != nil {
		return types.TargetGroup{}, err
	}
	name := *in.Name
	if err := validName("Target group", name); err != nil {
		return types.TargetGroup{}, err
	}
	targetType, version, ipType, err := checkTargets(in)
	if err != nil {
		return types.TargetGroup{}, err
	}
	vpc := aws.ToString(in.VpcId)
	if vpc == "" {
		vpc = LocalVpcID
	}
	tg := types.TargetGroup{
		TargetGroupName:            aws.String(name),
		Protocol:                   in.Protocol,
		ProtocolVersion:            aws.String(version),
		Port:                       aws.Int32(*in.Port),
		VpcId:                      aws.String(vpc),
		TargetType:                 targetType,
		IpAddressType:              ipType,
		HealthCheckEnabled:         aws.Bool(true),
		HealthCheckProtocol:        types.ProtocolEnumHttp,
		HealthCheckPort:            aws.String(lb.TrafficPort),
		HealthCheckPath:            aws.String(lb.DefaultHealthCheckPath),
		HealthCheckIntervalSeconds: aws.Int32(lb.IntervalLimit.Default),
		HealthCheckTimeoutSeconds:  aws.Int32(lb.TimeoutLimit.Default),
		HealthyThresholdCount:      aws.Int32(lb.HealthyThresholdLimit.Default),
		UnhealthyThresholdCount:    aws.Int32(lb.UnhealthyThresholdLimit.Default),
		Matcher:                    &types.Matcher{HttpCode: aws.String(lb.DefaultMatcher)},
	}
	err = applyHealthCheck(&tg, healthCheckInput{
		Enabled: in.HealthCheckEnabled, Protocol: in.HealthCheckProtocol, Port: in.HealthCheckPort, Path: in.HealthCheckPath,
		Interval: in.HealthCheckIntervalSeconds, Timeout: in.HealthCheckTimeoutSeconds,
		HealthyThreshold: in.HealthyThresholdCount, UnhealthyThreshold: in.UnhealthyThresholdCount, Matcher: in.Matcher,
	})
	return tg, err
}

// checkTargets validates how a new target group reaches its targets:
// target type, protocol and its version, port, IP address type. It
// returns the target type, protocol version and IP address type with
// their defaults.
func checkTargets(in *elbv2.CreateTargetGroupInput) (types.TargetTypeEnum, string, types.TargetGroupIpAddressTypeEnum, error) {
	targetType := in.TargetType
	switch targetType {
	case "":
		targetType = types.TargetTypeEnumInstance
	case types.TargetTypeEnumInstance, types.TargetTypeEnumIp:
	default:
		return "", "", "", errf(invalidConfiguration, "Target type %q is not supported by ecsd: use instance (the local machine, %s) or ip (addresses in 127.0.0.0/8).", targetType, LocalInstanceID)
	}
	switch in.Protocol {
	case "":
		return "", "", "", invalid("A protocol must be specified for target type %s: use HTTP.", targetType)
	case types.ProtocolEnumHttp:
	default:
		return "", "", "", errf(unsupportedProtocol, "Target group protocol %q is not supported by ecsd: use HTTP.", in.Protocol)
	}
	version := aws.ToString(in.ProtocolVersion)
	switch strings.ToUpper(version) {
	case "", "HTTP1":
		version = "HTTP1"
	default:
		return "", "", "", errf(unsupportedProtocol, "ProtocolVersion %q is not supported by ecsd: use HTTP1.", version)
	}
	if in.Port == nil {
		return "", "", "", invalid("A port must be specified for target type %s.", targetType)
	}
	if err := inRange("Port", in.Port, 1, 65535); err != nil {
		return "", "", "", err
	}
	ipType := in.IpAddressType
	switch ipType {
	case "":
		ipType = types.TargetGroupIpAddressTypeEnumIpv4
	case types.TargetGroupIpAddressTypeEnumIpv4:
	default:
		return "", "", "", errf(invalidConfiguration, "IpAddressType %q is not supported by ecsd: targets are IPv4 loopback addresses (ipv4).", ipType)
	}
	if in.TargetControlPort != nil {
		return "", "", "", errf(invalidConfiguration, "TargetControlPort is not supported by ecsd.")
	}
	return targetType, version, ipType, nil
}

// loadBalancersOf lists the load balancers whose listeners use a target
// group.
func (a *API) loadBalancersOf(c *call, tgARN string) []string {
	var lbs []string
	a.cfg.Store.View(func(tx *store.Tx) error {
		refs, err := lbrun.References(tx, c.Region)
		lbs = refs[tgARN]
		return err
	})
	return orEmpty(lbs)
}

func (a *API) describeTargetGroups(c *call, in *elbv2.DescribeTargetGroupsInput) (*elbv2.DescribeTargetGroupsOutput, error) {
	given := 0
	for _, set := range []bool{in.LoadBalancerArn != nil, len(in.TargetGroupArns) > 0, len(in.Names) > 0} {
		if set {
			given++
		}
	}
	if given > 1 {
		return nil, invalid("Specify at most one of LoadBalancerArn, TargetGroupArns and Names.")
	}
	var tgs []types.TargetGroup
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		refs, err := lbrun.References(tx, c.Region)
		if err != nil {
			return err
		}
		add := func(rec *store.TargetGroupRecord) {
			tg := rec.TargetGroup
			tg.LoadBalancerArns = orEmpty(slices.Clone(refs[*tg.TargetGroupArn]))
			tgs = append(tgs, tg)
		}
		switch {
		case len(in.TargetGroupArns) > 0:
			for _, arn := range in.TargetGroupArns {
				rec, err := a.getTargetGroup(tx, c, arn)
				if err != nil {
					return err
				}
				add(rec)
			}
		case len(in.Names) > 0:
			for _, name := range in.Names {
				var rec store.TargetGroupRecord
				found, err := tx.Get(store.TargetGroups, tgKey(c.Region, name), &rec)
				if err != nil {
					return err
				}
				if !found {
					return errf(targetGroupNotFound, "Target groups '[%s]' not found.", name)
				}
				add(&rec)
			}
		default:
			var lbARN string
			if in.LoadBalancerArn != nil {
				if _, _, err := a.getLoadBalancer(tx, c, *in.LoadBalancerArn); err != nil {
					return err
				}
				lbARN = *in.LoadBalancerArn
			}
			return store.Each(tx, store.TargetGroups, store.Prefix(c.Region), func(_ string, rec *store.TargetGroupRecord) error {
				if lbARN == "" || slices.Contains(refs[*rec.TargetGroup.TargetGroupArn], lbARN) {
					add(rec)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tgs, func(x, y types.TargetGroup) int { return strings.Compare(*x.TargetGroupName, *y.TargetGroupName) })
	tgs = slices.CompactFunc(tgs, func(x, y types.TargetGroup) bool { return *x.TargetGroupArn == *y.TargetGroupArn })
	page, next, err := paginate(tgs, func(t types.TargetGroup) string { return *t.TargetGroupName }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeTargetGroupsOutput{TargetGroups: orEmpty(page), NextMarker: next}, nil
}

func (a *API) modifyTargetGroup(c *call, in *elbv2.ModifyTargetGroupInput) (*elbv2.ModifyTargetGroupOutput, error) {
	if err := required("TargetGroupArn", in.TargetGroupArn != nil); err != nil {
		return nil, err
	}
	var tg types.TargetGroup
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, *in.TargetGroupArn)
		if err != nil {
			return err
		}
		if err := applyHealthCheck(&rec.TargetGroup, healthCheckInput{
			Enabled: in.HealthCheckEnabled, Protocol: in.HealthCheckProtocol, Port: in.HealthCheckPort, Path: in.HealthCheckPath,
			Interval: in.HealthCheckIntervalSeconds, Timeout: in.HealthCheckTimeoutSeconds,
			HealthyThreshold: in.HealthyThresholdCount, UnhealthyThreshold: in.UnhealthyThresholdCount, Matcher: in.Matcher,
		}); err != nil {
			return err
		}
		tg = rec.TargetGroup
		return tx.Put(store.TargetGroups, tgKey(c.Region, *tg.TargetGroupName), rec)
	})
	if err != nil {
		return nil, err
	}
	tg.LoadBalancerArns = a.loadBalancersOf(c, *tg.TargetGroupArn)
	return &elbv2.ModifyTargetGroupOutput{TargetGroups: []types.TargetGroup{tg}}, nil
}

func (a *API) deleteTargetGroup(c *call, in *elbv2.DeleteTargetGroupInput) (*elbv2.DeleteTargetGroupOutput, error) {
	if err := required("TargetGroupArn", in.TargetGroupArn != nil); err != nil {
		return nil, err
	}
	arn := *in.TargetGroupArn
	deleted := false
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if awsCode(err) == targetGroupNotFound {
			return nil // deleting a deleted target group succeeds, as in AWS
		}
		if err != nil {
			return err
		}
		refs, err := lbrun.References(tx, c.Region)
		if err != nil {
			return err
		}
		if lbs := refs[arn]; len(lbs) > 0 {
			return errf(resourceInUse, "Target group %q is currently in use by a listener or a rule of %s: remove it from their actions first.", arn, strings.Join(lbs, ", "))
		}
		deleted = true
		return tx.Delete(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName))
	})
	if err != nil {
		return nil, err
	}
	if deleted {
		a.log.Info("target group deleted", "arn", arn)
	}
	return &elbv2.DeleteTargetGroupOutput{}, nil
}

// Target group attributes: every key an Application Load Balancer's
// instance or ip target group has, with its default. The first three are
// applied by the data plane; the others are validated, stored and shown
// but have no effect in ecsd.
var attributeDefaults = map[string]string{
	lb.AttrDeregistrationDelay:                                                       "300",
	lb.AttrSlowStart:                                                                 "0",
	lb.AttrAlgorithm:                                                                 string(lb.AlgorithmRoundRobin),
	"load_balancing.algorithm.anomaly_mitigation":                                    "off",
	"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
	"stickiness.enabled":                                                             "false",
	"stickiness.type":                                                                "lb_cookie",
	"stickiness.lb_cookie.duration_seconds":                                          "86400",
	"stickiness.app_cookie.cookie_name":                                              "",
	"stickiness.app_cookie.duration_seconds":                                         "86400",
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

func defaultAttributes() map[string]string { return maps.Clone(attributeDefaults) }

// validateAttribute checks one key/value as ELBv2 does.
func validateAttribute(k, v string) error {
	intIn := func(lo, hi int) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return invalid("Attribute %s=%q is not valid: use an integer in %d-%d.", k, v, lo, hi)
		}
		return nil
	}
	oneOf := func(vals ...string) error {
		if !slices.Contains(vals, v) {
			return invalid("Attribute %s=%q is not valid: use %s.", k, v, strings.Join(vals, " or "))
		}
		return nil
	}
	offOr := func(lo, hi int) error {
		if v == "off" {
			return nil
		}
		if intIn(lo, hi) != nil {
			return invalid("Attribute %s=%q is not valid: use off or an integer in %d-%d.", k, v, lo, hi)
		}
		return nil
	}
	switch k {
	case lb.AttrDeregistrationDelay:
		return intIn(0, 3600)
	case lb.AttrSlowStart:
		if v != "0" && intIn(30, 900) != nil {
			return invalid("Attribute %s=%q is not valid: use 0 (off) or an integer in 30-900.", k, v)
		}
	case lb.AttrAlgorithm:
		if v == "weighted_random" {
			return errf(invalidConfiguration, "Attribute %s=weighted_random is not supported by ecsd: use round_robin or least_outstanding_requests.", k)
		}
		return oneOf(string(lb.AlgorithmRoundRobin), string(lb.AlgorithmLeastOutstanding))
	case "load_balancing.algorithm.anomaly_mitigation":
		if v == "on" {
			return errf(invalidConfiguration, "Attribute %s=on needs load_balancing.algorithm.type weighted_random, which ecsd does not support.", k)
		}
		return oneOf("off")
	case "load_balancing.cross_zone.enabled":
		return oneOf("true", "false", "use_load_balancer_configuration")
	case "stickiness.enabled":
		return oneOf("true", "false")
	case "stickiness.type":
		return oneOf("lb_cookie", "app_cookie")
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
		return intIn(1, 604800)
	case "stickiness.app_cookie.cookie_name":
		if len(v) > 256 {
			return invalid("Attribute %s is longer than 256 characters.", k)
		}
	case "target_group_health.dns_failover.minimum_healthy_targets.count",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":
		return offOr(1, 1000000)
	case "target_group_health.dns_failover.minimum_healthy_targets.percentage",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage":
		return offOr(1, 100)
	default:
		return invalid("%q is not a target group attribute of an Application Load Balancer. Valid keys: %s.", k, strings.Join(slices.Sorted(maps.Keys(attributeDefaults)), ", "))
	}
	return nil
}

func attributeList(attrs map[string]string) []types.TargetGroupAttribute {
	out := make([]types.TargetGroupAttribute, 0, len(attrs))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		out = append(out, types.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(attrs[k])})
	}
	return out
}

func (a *API) describeTargetGroupAttributes(c *call, in *elbv2.DescribeTargetGroupAttributesInput) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
	if err := required("TargetGroupArn", in.TargetGroupArn != nil); err != nil {
		return nil, err
	}
	var attrs map[string]string
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, *in.TargetGroupArn)
		if err != nil {
			return err
		}
		attrs = rec.Attributes
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeTargetGroupAttributesOutput{Attributes: attributeList(attrs)}, nil
}

func (a *API) modifyTargetGroupAttributes(c *call, in *elbv2.ModifyTargetGroupAttributesInput) (*elbv2.ModifyTargetGroupAttributesOutput, error) {
	if err := required("TargetGroupArn", in.TargetGroupArn != nil); err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, invalid("Attributes is required: give at least one Key and Value.")
	}
	changes := map[string]string{}
	for _, at := range in.Attributes {
		k, v := aws.ToString(at.Key), aws.ToString(at.Value)
		if err := validateAttribute(k, v); err != nil {
			return nil, err
		}
		if _, dup := changes[k]; dup {
			return nil, invalid("Attribute %q is given twice.", k)
		}
		changes[k] = v
	}
	var attrs map[string]string
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, *in.TargetGroupArn)
		if err != nil {
			return err
		}
		attrs = rec.Attributes
		if attrs == nil {
			attrs = defaultAttributes()
		}
		maps.Copy(attrs, changes)
		if _, err := lb.ParseAttributes(lb.DefaultAttributes(), lbrun.AppliedAttributes(attrs)); err != nil {
			return invalid("The attributes are not valid: %v.", err)
		}
		rec.Attributes = attrs
		return tx.Put(store.TargetGroups, tgKey(c.Region, *rec.TargetGroup.TargetGroupName), rec)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.ModifyTargetGroupAttributesOutput{Attributes: attributeList(attrs)}, nil
}
