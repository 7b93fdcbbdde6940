package elbapi

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

func errListenerNotFound(arn string) error {
	return errf(listenerNotFound, "Listener %q not found.", arn)
}

// getListener reads the listener arn names.
func (a *API) getListener(tx *store.Tx, c *call, arn string) (*store.ListenerRecord, resourceARN, error) {
	r, err := c.resolve(arn, kindListener, func() error { return errListenerNotFound(arn) })
	if err != nil {
		return nil, r, err
	}
	var rec store.ListenerRecord
	found, err := tx.Get(store.Listeners, listenerKey(c.Region, r.Name, r.ListenerID), &rec)
	if err != nil {
		return nil, r, err
	}
	if !found || aws.ToString(rec.Listener.ListenerArn) != arn {
		return nil, r, errListenerNotFound(arn)
	}
	return &rec, r, nil
}

// checkListenerProtocol validates the protocol members of a listener:
// ecsd listeners are plain HTTP.
func checkListenerProtocol(protocol types.ProtocolEnum, certs []types.Certificate, sslPolicy *string, alpn []string, mtls *types.MutualAuthenticationAttributes) error {
	switch protocol {
	case "", types.ProtocolEnumHttp:
	case types.ProtocolEnumHttps:
		return errf(unsupportedProtocol, "HTTPS listeners are not supported by ecsd (it has no certificates): use HTTP.")
	default:
		return errf(unsupportedProtocol, "Listener protocol %q is not supported by ecsd: Application Load Balancer listeners are HTTP.", protocol)
	}
	if len(certs) > 0 || sslPolicy != nil || len(alpn) > 0 || mtls != nil {
		return errf(invalidConfiguration, "Certificates, SslPolicy, AlpnPolicy and MutualAuthentication are for HTTPS listeners; ecsd listeners are HTTP.")
	}
	return nil
}

// listenersOf reads the listeners of a load balancer, by listener ID.
func listenersOf(tx *store.Tx, region, lbName string) ([]*store.ListenerRecord, error) {
	var out []*store.ListenerRecord
	err := store.Each(tx, store.Listeners, store.Prefix(region, lbName), func(_ string, rec *store.ListenerRecord) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// reserve binds the port of listener arn now (see lbrun.Reserve), so that
// a port that cannot be bound fails the call before anything is stored.
func (a *API) reserve(arn string, port int32) error {
	if err := a.live.Reserve(arn, int(port)); err != nil {
		return errf(invalidConfiguration, "Port %d is not available on 127.0.0.1, where ecsd's load balancer listeners listen (%v): %s.", port, errors.Unwrap(err), lbrun.PortAdvice(err))
	}
	return nil
}

func (a *API) createListener(c *call, in *elbv2.CreateListenerInput) (*elbv2.CreateListenerOutput, error) {
	if err := required("LoadBalancerArn", in.LoadBalancerArn != nil); err != nil {
		return nil, err
	}
	if err := checkListenerProtocol(in.Protocol, in.Certificates, in.SslPolicy, in.AlpnPolicy, in.MutualAuthentication); err != nil {
		return nil, err
	}
	if in.Port == nil {
		return nil, invalid("A listener port must be specified.")
	}
	if err := inRange("Port", in.Port, 1, 65535); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	var (
		out      *store.ListenerRecord
		reserved string
	)
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		lbRec, r, err := a.getLoadBalancer(tx, c, *in.LoadBalancerArn)
		if err != nil {
			return err
		}
		refs, err := lbrun.References(tx, c.Region)
		if err != nil {
			return err
		}
		actions, err := a.checkActions(tx, c, *in.LoadBalancerArn, in.DefaultActions, refs)
		if err != nil {
			return err
		}
		existing, err := listenersOf(tx, c.Region, r.Name)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if aws.ToInt32(e.Listener.Port) != *in.Port {
				continue
			}
			if reflect.DeepEqual(e.Listener.DefaultActions, actions) {
				out = e // CreateListener is idempotent
				return nil
			}
			return errf(duplicateListener, "A listener already exists on port %d of load balancer %q.", *in.Port, *in.LoadBalancerArn)
		}
		lid := newID()
		rec := &store.ListenerRecord{
			Listener: types.Listener{
				ListenerArn:     aws.String(c.listenerARN(r.Name, r.ID, lid)),
				LoadBalancerArn: lbRec.LoadBalancer.LoadBalancerArn,
				Port:            aws.Int32(*in.Port),
				Protocol:        types.ProtocolEnumHttp,
				DefaultActions:  actions,
			},
			DefaultRuleID: newID(),
			Tags:          mergeTags(nil, in.Tags),
		}
		if err := a.reserve(*rec.Listener.ListenerArn, *in.Port); err != nil {
			return err
		}
		reserved = *rec.Listener.ListenerArn
		out = rec
		return tx.Put(store.Listeners, listenerKey(c.Region, r.Name, lid), rec)
	})
	if err != nil {
		if reserved != "" {
			a.live.Release(reserved)
		}
		return nil, err
	}
	if reserved != "" {
		a.log.Info("listener created", "arn", reserved, "port", *in.Port)
	}
	return &elbv2.CreateListenerOutput{Listeners: []types.Listener{out.Listener}}, nil
}

func (a *API) describeListeners(c *call, in *elbv2.DescribeListenersInput) (*elbv2.DescribeListenersOutput, error) {
	if (in.LoadBalancerArn == nil) == (len(in.ListenerArns) == 0) {
		return nil, invalid("Specify either LoadBalancerArn or ListenerArns.")
	}
	var recs []*store.ListenerRecord
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		if in.LoadBalancerArn != nil {
			_, r, err := a.getLoadBalancer(tx, c, *in.LoadBalancerArn)
			if err != nil {
				return err
			}
			recs, err = listenersOf(tx, c.Region, r.Name)
			return err
		}
		for _, arn := range in.ListenerArns {
			rec, _, err := a.getListener(tx, c, arn)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(recs, func(x *store.ListenerRecord) bool { return *x.Listener.ListenerArn == arn }) {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key := func(r *store.ListenerRecord) string {
		return fmt.Sprintf("%05d/%s", aws.ToInt32(r.Listener.Port), aws.ToString(r.Listener.ListenerArn))
	}
	slices.SortFunc(recs, func(x, y *store.ListenerRecord) int { return compare(key(x), key(y)) })
	page, next, err := paginate(recs, key, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	ls := make([]types.Listener, 0, len(page))
	for _, r := range page {
		ls = append(ls, r.Listener)
	}
	return &elbv2.DescribeListenersOutput{Listeners: ls, NextMarker: next}, nil
}

func (a *API) modifyListener(c *call, in *elbv2.ModifyListenerInput) (*elbv2.ModifyListenerOutput, error) {
	if err := required("ListenerArn", in.ListenerArn != nil); err != nil {
		return nil, err
	}
	if err := checkListenerProtocol(in.Protocol, in.Certificates, in.SslPolicy, in.AlpnPolicy, in.MutualAuthentication); err != nil {
		return nil, err
	}
	if err := inRange("Port", in.Port, 1, 65535); err != nil {
		return nil, err
	}
	arn := *in.ListenerArn
	var (
		out      *store.ListenerRecord
		reserved bool
	)
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		rec, r, err := a.getListener(tx, c, arn)
		if err != nil {
			return err
		}
		lbARN := aws.ToString(rec.Listener.LoadBalancerArn)
		if in.DefaultActions != nil {
			refs, err := lbrun.References(tx, c.Region)
			if err != nil {
				return err
			}
			if rec.Listener.DefaultActions, err = a.checkActions(tx, c, lbARN, in.DefaultActions, refs); err != nil {
				return err
			}
		}
		portChanged := in.Port != nil && *in.Port != aws.ToInt32(rec.Listener.Port)
		if portChanged {
			others, err := listenersOf(tx, c.Region, r.Name)
			if err != nil {
				return err
			}
			for _, o := range others {
				if aws.ToInt32(o.Listener.Port) == *in.Port {
					return errf(duplicateListener, "A listener already exists on port %d of load balancer %q.", *in.Port, lbARN)
				}
			}
			if err := a.reserve(arn, *in.Port); err != nil {
				return err
			}
			reserved = true
			rec.Listener.Port = aws.Int32(*in.Port)
		}
		out = rec
		return tx.Put(store.Listeners, listenerKey(c.Region, r.Name, r.ListenerID), rec)
	})
	if err != nil {
		if reserved {
			a.live.Release(arn)
		}
		return nil, err
	}
	return &elbv2.ModifyListenerOutput{Listeners: []types.Listener{out.Listener}}, nil
}

func (a *API) deleteListener(c *call, in *elbv2.DeleteListenerInput) (*elbv2.DeleteListenerOutput, error) {
	if err := required("ListenerArn", in.ListenerArn != nil); err != nil {
		return nil, err
	}
	arn := *in.ListenerArn
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		_, r, err := a.getListener(tx, c, arn)
		if err != nil {
			return err
		}
		if err := deleteAll(tx, store.ListenerRules, store.Prefix(c.Region, r.Name, r.ListenerID)); err != nil {
			return err
		}
		return tx.Delete(store.Listeners, listenerKey(c.Region, r.Name, r.ListenerID))
	})
	if err != nil {
		return nil, err
	}
	a.log.Info("listener deleted", "arn", arn)
	return &elbv2.DeleteListenerOutput{}, nil
}
