package elbapi

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/store"
)

// localHostedZoneID is the CanonicalHostedZoneId ecsd reports: there is no
// Route 53 zone behind a local load balancer.
const localHostedZoneID = "Z0ECSD0LOCAL00"

// dnsName is a load balancer's DNS name: NAME-NUMBER.REGION.elb.localhost,
// shaped like AWS's NAME-NUMBER.REGION.elb.amazonaws.com. Names under
// .localhost resolve to 127.0.0.1 in curl and browsers (RFC 6761), where
// the load balancer's listeners are; the listener's port comes from
// DescribeListeners.
func dnsName(region, name, id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s-%d.%s.elb.localhost", strings.ToLower(name), h.Sum32(), region)
}

func errLBNotFound(arn string) error {
	return errf(loadBalancerNotFound, "Load balancer %q not found.", arn)
}

func required(member string, set bool) error {
	if !set {
		return invalid("%s is required.", member)
	}
	return nil
}

func (a *API) createLoadBalancer(c *call, in *elbv2.CreateLoadBalancerInput) (*elbv2.CreateLoadBalancerOutput, error) {
	if err := required("Name", in.Name != nil); err != nil {
		return nil, err
	}
	name := *in.Name
	if err := validName("Load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(name), "internal-") {
		return nil, invalid("Load balancer name %q is not valid: it must not begin with \"internal-\".", name)
	}
	lbType := in.Type
	switch lbType {
	case "":
		lbType = types.LoadBalancerTypeEnumApplication
	case types.LoadBalancerTypeEnumApplication:
	default:
		return nil, errf(invalidConfiguration, "ecsd runs Application Load Balancers only: use Type application (or leave it out), not %q.", lbType)
	}
	scheme := in.Scheme
	switch scheme {
	case "":
		scheme = types.LoadBalancerSchemeEnumInternetFacing
	case types.LoadBalancerSchemeEnumInternetFacing, types.LoadBalancerSchemeEnumInternal:
	default:
		return nil, invalid("Scheme %q is not valid: use internet-facing or internal.", scheme)
	}
	ipType := in.IpAddressType
	switch ipType {
	case "":
		ipType = types.IpAddressTypeIpv4
	case types.IpAddressTypeIpv4:
	default:
		return nil, errf(invalidConfiguration, "ecsd load balancers listen on 127.0.0.1: use IpAddressType ipv4, not %q.", ipType)
	}
	if in.CustomerOwnedIpv4Pool != nil || in.IpamPools != nil || in.EnablePrefixForIpv6SourceNat != "" {
		return nil, errf(invalidConfiguration, "CustomerOwnedIpv4Pool, IpamPools and EnablePrefixForIpv6SourceNat are not supported by ecsd: its load balancers listen on 127.0.0.1.")
	}
	if len(in.Subnets) > 0 && len(in.SubnetMappings) > 0 {
		return nil, invalid("Specify Subnets or SubnetMappings, not both.")
	}
	subnets := slices.Clone(in.Subnets)
	for _, m := range in.SubnetMappings {
		if m.AllocationId != nil || m.PrivateIPv4Address != nil || m.IPv6Address != nil || m.SourceNatIpv6Prefix != nil {
			return nil, errf(invalidConfiguration, "Subnet mappings with addresses are for Network Load Balancers, which ecsd does not run.")
		}
		subnets = append(subnets, aws.ToString(m.SubnetId))
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}

	var out types.LoadBalancer
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		var existing store.LoadBalancerRecord
		found, err := tx.Get(store.LoadBalancers, lbKey(c.Region, name), &existing)
		if err != nil {
			return err
		}
		if found {
			e := existing.LoadBalancer
			if e.Type != lbType || e.Scheme != scheme || e.IpAddressType != ipType {
				return errf(duplicateLBName, "A load balancer named %q already exists with a different type, scheme or IP address type.", name)
			}
			out = e // CreateLoadBalancer is idempotent
			return nil
		}
		id := newID()
		azs := make([]types.AvailabilityZone, 0, len(subnets))
		for i, s := range subnets {
			azs = append(azs, types.AvailabilityZone{SubnetId: aws.String(s), ZoneName: aws.String(fmt.Sprintf("%s%c", c.Region, 'a'+i%26))})
		}
		out = types.LoadBalancer{
			LoadBalancerArn:       aws.String(c.loadBalancerARN(name, id)),
			LoadBalancerName:      aws.String(name),
			DNSName:               aws.String(dnsName(c.Region, name, id)),
			CanonicalHostedZoneId: aws.String(localHostedZoneID),
			CreatedTime:           aws.Time(c.Now),
			Scheme:                scheme,
			Type:                  lbType,
			IpAddressType:         ipType,
			VpcId:                 aws.String(LocalVpcID),
			State:                 &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActive},
			AvailabilityZones:     azs,
			SecurityGroups:        slices.Clone(in.SecurityGroups),
		}
		return tx.Put(store.LoadBalancers, lbKey(c.Region, name), &store.LoadBalancerRecord{LoadBalancer: out, Tags: mergeTags(nil, in.Tags)})
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("load balancer created", "arn", aws.ToString(out.LoadBalancerArn), "dns_name", aws.ToString(out.DNSName))
	return &elbv2.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{out}}, nil
}

// getLoadBalancer reads the load balancer arn names.
func (a *API) getLoadBalancer(tx *store.Tx, c *call, arn string) (*store.LoadBalancerRecord, resourceARN, error) {
	r, err := c.resolve(arn, kindLoadBalancer, func() error { return errLBNotFound(arn) })
	if err != nil {
		return nil, r, err
	}
	var rec store.LoadBalancerRecord
	found, err := tx.Get(store.LoadBalancers, lbKey(c.Region, r.Name), &rec)
	if err != nil {
		return nil, r, err
	}
	if !found || aws.ToString(rec.LoadBalancer.LoadBalancerArn) != arn {
		return nil, r, errLBNotFound(arn)
	}
	return &rec, r, nil
}

func (a *API) describeLoadBalancers(c *call, in *elbv2.DescribeLoadBalancersInput) (*elbv2.DescribeLoadBalancersOutput, error) {
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, invalid("Specify LoadBalancerArns or Names, not both.")
	}
	if len(in.LoadBalancerArns) > 20 || len(in.Names) > 20 {
		return nil, invalid("At most 20 load balancers can be described by ARN or name at once.")
	}
	var lbs []types.LoadBalancer
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		switch {
		case len(in.LoadBalancerArns) > 0:
			for _, arn := range in.LoadBalancerArns {
				rec, _, err := a.getLoadBalancer(tx, c, arn)
				if err != nil {
					return err
				}
				lbs = append(lbs, rec.LoadBalancer)
			}
		case len(in.Names) > 0:
			for _, name := range in.Names {
				var rec store.LoadBalancerRecord
				found, err := tx.Get(store.LoadBalancers, lbKey(c.Region, name), &rec)
				if err != nil {
					return err
				}
				if !found {
					return errf(loadBalancerNotFound, "Load balancers '[%s]' not found.", name)
				}
				lbs = append(lbs, rec.LoadBalancer)
			}
		default:
			return store.Each(tx, store.LoadBalancers, store.Prefix(c.Region), func(_ string, rec *store.LoadBalancerRecord) error {
				lbs = append(lbs, rec.LoadBalancer)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(lbs, func(x, y types.LoadBalancer) int { return strings.Compare(*x.LoadBalancerName, *y.LoadBalancerName) })
	lbs = slices.CompactFunc(lbs, func(x, y types.LoadBalancer) bool { return *x.LoadBalancerArn == *y.LoadBalancerArn })
	page, next, err := paginate(lbs, func(l types.LoadBalancer) string { return *l.LoadBalancerName }, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	for i := range page {
		page[i].State = a.state(page[i])
	}
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: orEmpty(page), NextMarker: next}, nil
}

func (a *API) deleteLoadBalancer(c *call, in *elbv2.DeleteLoadBalancerInput) (*elbv2.DeleteLoadBalancerOutput, error) {
	if err := required("LoadBalancerArn", in.LoadBalancerArn != nil); err != nil {
		return nil, err
	}
	arn := *in.LoadBalancerArn
	var listeners []string
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		_, r, err := a.getLoadBalancer(tx, c, arn)
		if err != nil {
			if awsCode(err) == loadBalancerNotFound {
				return nil // deleting a deleted load balancer succeeds, as in AWS
			}
			return err
		}
		// Its listeners and their rules go with it.
		var keys []string
		if err := store.Each(tx, store.Listeners, store.Prefix(c.Region, r.Name), func(key string, l *store.ListenerRecord) error {
			listeners = append(listeners, aws.ToString(l.Listener.ListenerArn))
			keys = append(keys, key)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(store.Listeners, k); err != nil {
				return err
			}
		}
		if err := deleteAll(tx, store.ListenerRules, store.Prefix(c.Region, r.Name)); err != nil {
			return err
		}
		return tx.Delete(store.LoadBalancers, lbKey(c.Region, r.Name))
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("load balancer deleted", "arn", arn, "listeners", len(listeners))
	return &elbv2.DeleteLoadBalancerOutput{}, nil
}

// state is a load balancer's state as described: active_impaired, saying
// why, while one of its listeners cannot listen on its port (lbrun retries).
func (a *API) state(l types.LoadBalancer) *types.LoadBalancerState {
	problems := a.live.Impairments(aws.ToString(l.LoadBalancerArn))
	if len(problems) == 0 {
		return l.State
	}
	return &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActiveImpaired, Reason: aws.String(strings.Join(problems, " "))}
}

// deleteAll deletes every key of b under prefix.
func deleteAll(tx *store.Tx, b store.Bucket, prefix string) error {
	var keys []string
	if err := tx.Scan(b, prefix, "", func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(b, k); err != nil {
			return err
		}
	}
	return nil
}
