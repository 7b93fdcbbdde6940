package elbapi

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// The live side: one lb.TargetGroup per stored target group and one
// lb.Listener (a socket) per stored listener, built from the store when
// they are created and again by Recover when ecsd restarts.

// newGroup builds the data-plane target group of rec, with no targets and
// not in use.
func (a *API) newGroup(rec *store.TargetGroupRecord) (*lb.TargetGroup, error) {
	arn := aws.ToString(rec.TargetGroup.TargetGroupArn)
	opts := lb.Options{
		Clock:          a.cfg.Clock,
		Prober:         a.cfg.Prober,
		Logger:         a.log.With("target_group_arn", arn),
		OnHealthChange: func(target string, h lb.TargetHealth) { a.emitHealth(arn, target, h) },
	}
	if f := a.cfg.OnCheck; f != nil {
		opts.OnCheck = func(target string, r lb.ProbeResult, h lb.TargetHealth) { f(arn, target, r, h) }
	}
	g, err := lb.NewTargetGroup(lb.TargetGroupConfig{
		Name:        aws.ToString(rec.TargetGroup.TargetGroupName),
		HealthCheck: healthCheckOf(&rec.TargetGroup),
		Attributes:  appliedAttributes(rec.Attributes),
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("building target group %s: %w", arn, err)
	}
	g.SetInUse(false)
	return g, nil
}

func (a *API) addGroup(arn string, g *lb.TargetGroup) {
	a.liveMu.Lock()
	defer a.liveMu.Unlock()
	a.groups[arn] = g
}

func (a *API) removeGroup(arn string) *lb.TargetGroup {
	a.liveMu.Lock()
	defer a.liveMu.Unlock()
	g := a.groups[arn]
	delete(a.groups, arn)
	return g
}

// group returns the live target group arn names, or nil.
func (a *API) group(arn string) *lb.TargetGroup {
	a.liveMu.RLock()
	defer a.liveMu.RUnlock()
	return a.groups[arn]
}

func (a *API) listener(arn string) *lb.Listener {
	a.liveMu.RLock()
	defer a.liveMu.RUnlock()
	return a.listeners[arn]
}

// setListener makes l the socket of listener arn, closing the one it
// replaces.
func (a *API) setListener(arn string, l *lb.Listener) {
	a.liveMu.Lock()
	old := a.listeners[arn]
	a.listeners[arn] = l
	a.liveMu.Unlock()
	if old != nil && old != l {
		old.Close()
	}
}

// closeListener closes the socket of listener arn.
func (a *API) closeListener(arn string) {
	a.liveMu.Lock()
	l := a.listeners[arn]
	delete(a.listeners, arn)
	a.liveMu.Unlock()
	if l != nil {
		l.Close()
	}
}

// targetAddr is the data-plane address of a target: 127.0.0.1:port for
// the local instance, the address itself for ip targets.
func targetAddr(targetType types.TargetTypeEnum, t types.TargetDescription) string {
	host := "127.0.0.1"
	if targetType == types.TargetTypeEnumIp {
		host = aws.ToString(t.Id)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(aws.ToInt32(t.Port))))
}

// emitHealth passes a target's health change to the OnHealthChange
// callbacks.
func (a *API) emitHealth(tgARN, target string, h lb.TargetHealth) {
	_, p, _ := net.SplitHostPort(target)
	port, _ := strconv.Atoi(p)
	a.healthMu.RLock()
	fns := slices.Clone(a.healthFns)
	a.healthMu.RUnlock()
	for _, f := range fns {
		f(tgARN, port, h)
	}
}

// openListener opens the socket of a stored listener on port (falling
// back to a free one when it is taken), serving its rules.
func (a *API) openListener(tx *store.Tx, region string, rec *store.ListenerRecord, port int) (*lb.Listener, error) {
	rules, def, err := a.routes(tx, region, rec, nil)
	if err != nil {
		return nil, err
	}
	arn := aws.ToString(rec.Listener.ListenerArn)
	l, err := lb.Listen(lb.ListenerConfig{
		Port:          port,
		Rules:         rules,
		DefaultAction: def,
		Router:        lb.RouterOptions{Transport: a.cfg.Transport},
		Logger:        a.log.With("listener_arn", arn),
	})
	if err != nil {
		return nil, fmt.Errorf("opening listener %s: %w", arn, err)
	}
	return l, nil
}

// routes builds a listener's data-plane rules and default action from the
// store. override, when set, replaces the stored rule of the same ARN (nil
// Rule: left out), so a change can be checked before it is stored.
func (a *API) routes(tx *store.Tx, region string, rec *store.ListenerRecord, override map[string]*types.Rule) ([]lb.Rule, lb.Action, error) {
	def, err := a.dataAction(rec.Listener.DefaultActions)
	if err != nil {
		return nil, nil, err
	}
	p, _ := parseARN(aws.ToString(rec.Listener.ListenerArn))
	var rules []lb.Rule
	seen := map[string]bool{}
	add := func(r *types.Rule) error {
		if r == nil {
			return nil
		}
		prio, err := strconv.Atoi(aws.ToString(r.Priority))
		if err != nil {
			return fmt.Errorf("rule %s has priority %q", aws.ToString(r.RuleArn), aws.ToString(r.Priority))
		}
		act, err := a.dataAction(r.Actions)
		if err != nil {
			return err
		}
		rules = append(rules, lb.Rule{Priority: prio, Conditions: dataConditions(r.Conditions), Action: act})
		return nil
	}
	err = store.Each(tx, store.ListenerRules, store.Prefix(region, p.Name, p.ListenerID), func(_ string, r *store.ListenerRuleRecord) error {
		arn := aws.ToString(r.Rule.RuleArn)
		seen[arn] = true
		if o, ok := override[arn]; ok {
			return add(o)
		}
		return add(&r.Rule)
	})
	if err != nil {
		return nil, nil, err
	}
	for arn, r := range override {
		if !seen[arn] {
			if err := add(r); err != nil {
				return nil, nil, err
			}
		}
	}
	return rules, def, nil
}

// dataAction is the data-plane action of a (validated) action list: its
// one forward or fixed-response action.
func (a *API) dataAction(actions []types.Action) (lb.Action, error) {
	if len(actions) != 1 {
		return nil, fmt.Errorf("%d actions where ecsd expects one", len(actions))
	}
	act := actions[0]
	switch act.Type {
	case types.ActionTypeEnumFixedResponse:
		fr := act.FixedResponseConfig
		code, _ := strconv.Atoi(aws.ToString(fr.StatusCode))
		return lb.FixedResponse{StatusCode: code, ContentType: aws.ToString(fr.ContentType), Body: aws.ToString(fr.MessageBody)}, nil
	case types.ActionTypeEnumForward:
		var groups []lb.WeightedTargetGroup
		for _, t := range act.ForwardConfig.TargetGroups {
			g := a.group(aws.ToString(t.TargetGroupArn))
			if g == nil {
				return nil, fmt.Errorf("target group %s has no live data plane", aws.ToString(t.TargetGroupArn))
			}
			groups = append(groups, lb.WeightedTargetGroup{Group: g, Weight: int(aws.ToInt32(t.Weight))})
		}
		return lb.NewForward(groups...)
	}
	return nil, fmt.Errorf("action type %q has no data plane", act.Type)
}

func dataConditions(conds []types.RuleCondition) []lb.Condition {
	out := make([]lb.Condition, 0, len(conds))
	for _, c := range conds {
		switch aws.ToString(c.Field) {
		case fieldPathPattern:
			out = append(out, lb.PathPattern(slices.Clone(c.PathPatternConfig.Values)))
		case fieldHostHeader:
			out = append(out, lb.HostHeader(slices.Clone(c.HostHeaderConfig.Values)))
		}
	}
	return out
}

// refreshListener re-reads a listener's rules into its socket's router.
func (a *API) refreshListener(region, arn string) error {
	l := a.listener(arn)
	if l == nil {
		return nil
	}
	return a.cfg.Store.View(func(tx *store.Tx) error {
		p, _ := parseARN(arn)
		var rec store.ListenerRecord
		found, err := tx.Get(store.Listeners, listenerKey(region, p.Name, p.ListenerID), &rec)
		if err != nil || !found {
			return err
		}
		rules, def, err := a.routes(tx, region, &rec, nil)
		if err != nil {
			return err
		}
		return l.Router().SetRules(rules, def)
	})
}

// refreshInUse marks each live target group of region in use when a
// listener or rule forwards to it (targets of the others are unused,
// Target.NotInUse).
func (a *API) refreshInUse(region string) {
	var refs map[string][]string
	err := a.cfg.Store.View(func(tx *store.Tx) (err error) {
		refs, err = references(tx, region)
		return err
	})
	if err != nil {
		a.log.Error("reading which target groups are in use failed", "region", region, "error", err)
		return
	}
	a.liveMu.RLock()
	defer a.liveMu.RUnlock()
	for arn, g := range a.groups {
		if p, ok := parseARN(arn); ok && p.Region == region {
			g.SetInUse(len(refs[arn]) > 0)
		}
	}
}

// Recover builds the live target groups (re-registering their targets)
// and reopens the listeners of every stored load balancer: after a
// restart, load balancers serve again on the ports they asked for (or a
// free port when one is taken, with a warning). Register OnHealthChange
// callbacks before calling it.
func (a *API) Recover() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	regions := map[string]bool{}
	var groups, listeners int
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		err := store.Each(tx, store.TargetGroups, "", func(_ string, rec *store.TargetGroupRecord) error {
			g, err := a.newGroup(rec)
			if err != nil {
				return err
			}
			arn := aws.ToString(rec.TargetGroup.TargetGroupArn)
			addrs := make([]string, 0, len(rec.Targets))
			for _, t := range rec.Targets {
				addrs = append(addrs, targetAddr(rec.TargetGroup.TargetType, t))
			}
			if err := g.Register(addrs...); err != nil {
				g.Close()
				return fmt.Errorf("re-registering the targets of %s: %w", arn, err)
			}
			a.addGroup(arn, g)
			if p, ok := parseARN(arn); ok {
				regions[p.Region] = true
			}
			groups++
			return nil
		})
		if err != nil {
			return err
		}
		return store.Each(tx, store.Listeners, "", func(key string, rec *store.ListenerRecord) error {
			arn := aws.ToString(rec.Listener.ListenerArn)
			p, ok := parseARN(arn)
			if !ok {
				return fmt.Errorf("stored listener %s has a malformed ARN", key)
			}
			l, err := a.openListener(tx, p.Region, rec, int(aws.ToInt32(rec.Listener.Port)))
			if err != nil {
				// One listener that cannot listen does not keep ecsd down;
				// ModifyListener or DeleteListener can fix it.
				a.log.Error("cannot reopen listener", "listener_arn", arn, "error", err)
				return nil
			}
			a.setListener(arn, l)
			regions[p.Region] = true
			listeners++
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("recovering load balancers: %w", err)
	}
	for r := range regions {
		a.refreshInUse(r)
	}
	if groups+listeners > 0 {
		a.log.Info("load balancers recovered", "target_groups", groups, "listeners", listeners)
	}
	return nil
}

// Close closes every listener socket and stops every target group's
// health checks (targets still draining are cut off).
func (a *API) Close() {
	a.liveMu.Lock()
	listeners, groups := a.listeners, a.groups
	a.listeners, a.groups = map[string]*lb.Listener{}, map[string]*lb.TargetGroup{}
	a.liveMu.Unlock()
	for _, l := range listeners {
		l.Close()
	}
	for _, g := range groups {
		g.Close()
	}
}
