package elbapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

// maxRulesPerListener is ALB's quota of rules per listener (default rule
// excluded).
const maxRulesPerListener = 100

func errRuleNotFound(arn string) error {
	return errf(ruleNotFound, "Rule %q not found.", arn)
}

// defaultRule is a listener's default rule as DescribeRules shows it.
func defaultRule(l *store.ListenerRecord) types.Rule {
	p, _ := parseARN(aws.ToString(l.Listener.ListenerArn))
	arn := "arn:aws:elasticloadbalancing:" + p.Region + ":" + p.Account + ":listener-rule/app/" + p.Name + "/" + p.ID + "/" + p.ListenerID + "/" + l.DefaultRuleID
	return types.Rule{
		RuleArn:    aws.String(arn),
		Priority:   aws.String("default"),
		IsDefault:  aws.Bool(true),
		Conditions: []types.RuleCondition{},
		Actions:    l.Listener.DefaultActions,
	}
}

// ruleRef is a rule found by ARN: a stored rule (rec set) or a listener's
// default rule (rec nil).
type ruleRef struct {
	listener *store.ListenerRecord
	rec      *store.ListenerRuleRecord
	arn      resourceARN
}

func (r ruleRef) rule() types.Rule {
	if r.rec == nil {
		return defaultRule(r.listener)
	}
	return r.rec.Rule
}

func (a *API) getRule(tx *store.Tx, c *call, arn string) (ruleRef, error) {
	p, err := c.resolve(arn, kindRule, func() error { return errRuleNotFound(arn) })
	if err != nil {
		return ruleRef{}, err
	}
	var l store.ListenerRecord
	found, err := tx.Get(store.Listeners, listenerKey(c.Region, p.Name, p.ListenerID), &l)
	if err != nil {
		return ruleRef{}, err
	}
	if !found || aws.ToString(l.Listener.LoadBalancerArn) != p.loadBalancerARN() {
		return ruleRef{}, errRuleNotFound(arn)
	}
	if p.RuleID == l.DefaultRuleID {
		return ruleRef{listener: &l, arn: p}, nil
	}
	var rec store.ListenerRuleRecord
	found, err = tx.Get(store.ListenerRules, ruleKey(c.Region, p.Name, p.ListenerID, p.RuleID), &rec)
	if err != nil {
		return ruleRef{}, err
	}
	if !found || aws.ToString(rec.Rule.RuleArn) != arn {
		return ruleRef{}, errRuleNotFound(arn)
	}
	return ruleRef{listener: &l, rec: &rec, arn: p}, nil
}

// rulesOf reads the non-default rules of a listener.
func rulesOf(tx *store.Tx, region string, l resourceARN) ([]*store.ListenerRuleRecord, error) {
	var out []*store.ListenerRuleRecord
	err := store.Each(tx, store.ListenerRules, store.Prefix(region, l.Name, l.ListenerID), func(_ string, rec *store.ListenerRuleRecord) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

func priorityOf(r types.Rule) int {
	p, _ := strconv.Atoi(aws.ToString(r.Priority))
	return p
}

// ruleSortKey orders rules by priority, the default rule last.
func ruleSortKey(r types.Rule) string {
	if aws.ToBool(r.IsDefault) {
		return "99999/" + aws.ToString(r.RuleArn)
	}
	return fmt.Sprintf("%05d/%s", priorityOf(r), aws.ToString(r.RuleArn))
}

func (a *API) createRule(c *call, in *elbv2.CreateRuleInput) (*elbv2.CreateRuleOutput, error) {
	if err := required("ListenerArn", in.ListenerArn != nil); err != nil {
		return nil, err
	}
	if err := required("Priority", in.Priority != nil); err != nil {
		return nil, err
	}
	if err := inRange("Priority", in.Priority, 1, 50000); err != nil {
		return nil, err
	}
	if len(in.Transforms) > 0 {
		return nil, errf(invalidConfiguration, "Rule transforms (host header and URL rewrites) are not supported by ecsd.")
	}
	conds, err := checkConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	var rule types.Rule
	err = a.cfg.Store.Update(func(tx *store.Tx) error {
		l, p, err := a.getListener(tx, c, *in.ListenerArn)
		if err != nil {
			return err
		}
		refs, err := lbrun.References(tx, c.Region)
		if err != nil {
			return err
		}
		actions, err := a.checkActions(tx, c, aws.ToString(l.Listener.LoadBalancerArn), in.Actions, refs)
		if err != nil {
			return err
		}
		existing, err := rulesOf(tx, c.Region, p)
		if err != nil {
			return err
		}
		if len(existing) >= maxRulesPerListener {
			return errf("TooManyRules", "Listener %q already has %d rules, the most it can have.", *in.ListenerArn, maxRulesPerListener)
		}
		for _, e := range existing {
			if priorityOf(e.Rule) == int(*in.Priority) {
				return errf(priorityInUse, "Priority '%d' is currently in use by rule %s.", *in.Priority, aws.ToString(e.Rule.RuleArn))
			}
		}
		rid := newID()
		rule = types.Rule{
			RuleArn:    aws.String(c.ruleARN(p.Name, p.ID, p.ListenerID, rid)),
			Priority:   aws.String(strconv.Itoa(int(*in.Priority))),
			IsDefault:  aws.Bool(false),
			Conditions: conds,
			Actions:    actions,
		}
		return tx.Put(store.ListenerRules, ruleKey(c.Region, p.Name, p.ListenerID, rid), &store.ListenerRuleRecord{Rule: rule, Tags: mergeTags(nil, in.Tags)})
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.CreateRuleOutput{Rules: []types.Rule{rule}}, nil
}

func (a *API) describeRules(c *call, in *elbv2.DescribeRulesInput) (*elbv2.DescribeRulesOutput, error) {
	if (in.ListenerArn == nil) == (len(in.RuleArns) == 0) {
		return nil, invalid("Specify either ListenerArn or RuleArns.")
	}
	var rules []types.Rule
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		if in.ListenerArn != nil {
			l, p, err := a.getListener(tx, c, *in.ListenerArn)
			if err != nil {
				return err
			}
			recs, err := rulesOf(tx, c.Region, p)
			if err != nil {
				return err
			}
			for _, r := range recs {
				rules = append(rules, r.Rule)
			}
			rules = append(rules, defaultRule(l))
			return nil
		}
		for _, arn := range in.RuleArns {
			ref, err := a.getRule(tx, c, arn)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(rules, func(r types.Rule) bool { return *r.RuleArn == arn }) {
				rules = append(rules, ref.rule())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rules, func(x, y types.Rule) int { return compare(ruleSortKey(x), ruleSortKey(y)) })
	page, next, err := paginate(rules, ruleSortKey, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeRulesOutput{Rules: orEmpty(page), NextMarker: next}, nil
}

func (a *API) modifyRule(c *call, in *elbv2.ModifyRuleInput) (*elbv2.ModifyRuleOutput, error) {
	if err := required("RuleArn", in.RuleArn != nil); err != nil {
		return nil, err
	}
	if len(in.Transforms) > 0 {
		return nil, errf(invalidConfiguration, "Rule transforms (host header and URL rewrites) are not supported by ecsd.")
	}
	var conds []types.RuleCondition
	if in.Conditions != nil {
		var err error
		if conds, err = checkConditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	var rule types.Rule
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		ref, err := a.getRule(tx, c, *in.RuleArn)
		if err != nil {
			return err
		}
		if ref.rec == nil {
			return errf(operationNotPermitted, "Rule %q is a default rule: change the listener's default actions with ModifyListener.", *in.RuleArn)
		}
		rule = ref.rec.Rule
		if conds != nil {
			rule.Conditions = conds
		}
		if in.Actions != nil {
			refs, err := lbrun.References(tx, c.Region)
			if err != nil {
				return err
			}
			if rule.Actions, err = a.checkActions(tx, c, aws.ToString(ref.listener.Listener.LoadBalancerArn), in.Actions, refs); err != nil {
				return err
			}
		}
		ref.rec.Rule = rule
		return tx.Put(store.ListenerRules, ruleKey(c.Region, ref.arn.Name, ref.arn.ListenerID, ref.arn.RuleID), ref.rec)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.ModifyRuleOutput{Rules: []types.Rule{rule}}, nil
}

func (a *API) deleteRule(c *call, in *elbv2.DeleteRuleInput) (*elbv2.DeleteRuleOutput, error) {
	if err := required("RuleArn", in.RuleArn != nil); err != nil {
		return nil, err
	}
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		ref, err := a.getRule(tx, c, *in.RuleArn)
		if err != nil {
			return err
		}
		if ref.rec == nil {
			return errf(operationNotPermitted, "Rule %q is a default rule, which cannot be deleted: delete the listener instead.", *in.RuleArn)
		}
		return tx.Delete(store.ListenerRules, ruleKey(c.Region, ref.arn.Name, ref.arn.ListenerID, ref.arn.RuleID))
	})
	if err != nil {
		return nil, err
	}
	return &elbv2.DeleteRuleOutput{}, nil
}

func (a *API) setRulePriorities(c *call, in *elbv2.SetRulePrioritiesInput) (*elbv2.SetRulePrioritiesOutput, error) {
	if len(in.RulePriorities) == 0 {
		return nil, invalid("RulePriorities is required: give at least one RuleArn and Priority.")
	}
	want := map[string]int32{}
	for _, rp := range in.RulePriorities {
		if rp.RuleArn == nil || rp.Priority == nil {
			return nil, invalid("Each rule priority needs a RuleArn and a Priority.")
		}
		if err := inRange("Priority", rp.Priority, 1, 50000); err != nil {
			return nil, err
		}
		if _, dup := want[*rp.RuleArn]; dup {
			return nil, invalid("Rule %q is given twice.", *rp.RuleArn)
		}
		want[*rp.RuleArn] = *rp.Priority
	}
	var changed []types.Rule
	err := a.cfg.Store.Update(func(tx *store.Tx) error {
		// Group the changes by listener, checking every rule first.
		byListener := map[string]*store.ListenerRecord{}
		for _, rp := range in.RulePriorities {
			ref, err := a.getRule(tx, c, *rp.RuleArn)
			if err != nil {
				return err
			}
			if ref.rec == nil {
				return errf(operationNotPermitted, "Rule %q is a default rule, whose priority cannot be set.", *rp.RuleArn)
			}
			byListener[aws.ToString(ref.listener.Listener.ListenerArn)] = ref.listener
		}
		for _, larn := range slices.Sorted(maps.Keys(byListener)) {
			p, _ := parseARN(larn)
			recs, err := rulesOf(tx, c.Region, p)
			if err != nil {
				return err
			}
			used := map[int32]string{}
			for _, rec := range recs {
				arn := aws.ToString(rec.Rule.RuleArn)
				prio := int32(priorityOf(rec.Rule))
				if np, ok := want[arn]; ok {
					prio = np
					rec.Rule.Priority = aws.String(strconv.Itoa(int(np)))
					changed = append(changed, rec.Rule)
					rp, _ := parseARN(arn)
					if err := tx.Put(store.ListenerRules, ruleKey(c.Region, rp.Name, rp.ListenerID, rp.RuleID), rec); err != nil {
						return err
					}
				}
				if other, taken := used[prio]; taken {
					return errf(priorityInUse, "Priority '%d' would be used by both %s and %s.", prio, other, arn)
				}
				used[prio] = arn
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(changed, func(x, y types.Rule) int { return compare(ruleSortKey(x), ruleSortKey(y)) })
	return &elbv2.SetRulePrioritiesOutput{Rules: changed}, nil
}
