package elbapi

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/store"
)

// Condition fields ecsd evaluates.
const (
	fieldPathPattern = "path-pattern"
	fieldHostHeader  = "host-header"
)

var fixedResponseContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// checkActions validates the actions of a listener or rule of load
// balancer lbARN and returns them as ELBv2 shows them: a forward action
// with one target group carries both TargetGroupArn and ForwardConfig.
// refs maps target groups to the load balancers that use them.
func (a *API) checkActions(tx *store.Tx, c *call, lbARN string, actions []types.Action, refs map[string][]string) ([]types.Action, error) {
	if err := checkActionTypes(actions); err != nil {
		return nil, err
	}
	act := actions[0]
	if err := inRange("Order", act.Order, 1, 50000); err != nil {
		return nil, err
	}
	order := act.Order
	if order == nil {
		order = aws.Int32(1)
	}
	if act.AuthenticateCognitoConfig != nil || act.AuthenticateOidcConfig != nil || act.RedirectConfig != nil || act.JwtValidationConfig != nil {
		return nil, invalid("A %s action takes no authenticate, redirect or JWT configuration.", act.Type)
	}
	if act.Type == types.ActionTypeEnumFixedResponse {
		out, err := checkFixedResponse(act)
		if err != nil {
			return nil, err
		}
		out.Order = order
		return []types.Action{out}, nil
	}
	tuples, stickiness, err := checkForward(act)
	if err != nil {
		return nil, err
	}
	if err := a.checkForwardTargets(tx, c, lbARN, tuples, refs); err != nil {
		return nil, err
	}
	out := types.Action{Type: act.Type, Order: order, ForwardConfig: &types.ForwardActionConfig{TargetGroups: tuples, TargetGroupStickinessConfig: stickiness}}
	if len(tuples) == 1 {
		out.TargetGroupArn = aws.String(*tuples[0].TargetGroupArn)
	}
	return []types.Action{out}, nil
}

// checkActionTypes checks that there is exactly one action, of a type
// ecsd runs.
func checkActionTypes(actions []types.Action) error {
	if len(actions) == 0 {
		return invalid("At least one action is required: a forward or fixed-response action.")
	}
	for _, act := range actions {
		switch act.Type {
		case types.ActionTypeEnumForward, types.ActionTypeEnumFixedResponse:
		case types.ActionTypeEnumRedirect, types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumAuthenticateCognito, types.ActionTypeEnumJwtValidation:
			return errf(invalidAction, "Action type %q is not supported by ecsd: use forward or fixed-response.", act.Type)
		case "":
			return invalid("An action needs a Type: forward or fixed-response.")
		default:
			return invalid("Action type %q is not valid: use forward or fixed-response.", act.Type)
		}
	}
	if len(actions) > 1 {
		return errf(invalidAction, "%d actions given: ecsd rules and listeners take exactly one forward or fixed-response action.", len(actions))
	}
	return nil
}

// checkFixedResponse validates a fixed-response action and returns it as
// ELBv2 shows it (without its Order).
func checkFixedResponse(act types.Action) (types.Action, error) {
	fr := act.FixedResponseConfig
	if fr == nil {
		return types.Action{}, invalid("A fixed-response action needs FixedResponseConfig with a StatusCode.")
	}
	if act.TargetGroupArn != nil || act.ForwardConfig != nil {
		return types.Action{}, invalid("A fixed-response action takes no TargetGroupArn or ForwardConfig.")
	}
	code := aws.ToString(fr.StatusCode)
	if len(code) != 3 || !strings.ContainsRune("245", rune(code[0])) || !isDigits(code) {
		return types.Action{}, invalid("Fixed response StatusCode %q is not valid: use a 2XX, 4XX or 5XX code.", code)
	}
	if ct := aws.ToString(fr.ContentType); fr.ContentType != nil && !slices.Contains(fixedResponseContentTypes, ct) {
		return types.Action{}, invalid("Fixed response ContentType %q is not valid: use %s.", ct, strings.Join(fixedResponseContentTypes, ", "))
	}
	if len(aws.ToString(fr.MessageBody)) > 1024 {
		return types.Action{}, invalid("Fixed response MessageBody is longer than 1024 characters.")
	}
	return types.Action{Type: act.Type, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String(code), ContentType: fr.ContentType, MessageBody: fr.MessageBody,
	}}, nil
}

// checkForward validates a forward action's target groups (TargetGroupArn
// or ForwardConfig) and stickiness, and returns them with their defaults
// (weight 1, stickiness off).
func checkForward(act types.Action) ([]types.TargetGroupTuple, *types.TargetGroupStickinessConfig, error) {
	if act.FixedResponseConfig != nil {
		return nil, nil, invalid("A forward action takes no FixedResponseConfig.")
	}
	stickiness := &types.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}
	fc := act.ForwardConfig
	switch {
	case fc == nil && act.TargetGroupArn != nil:
		return []types.TargetGroupTuple{{TargetGroupArn: aws.String(*act.TargetGroupArn), Weight: aws.Int32(1)}}, stickiness, nil
	case fc == nil:
		return nil, nil, invalid("A forward action needs TargetGroupArn or ForwardConfig.TargetGroups.")
	}
	tuples, err := checkForwardTargetGroups(fc.TargetGroups)
	if err != nil {
		return nil, nil, err
	}
	if s := fc.TargetGroupStickinessConfig; s != nil {
		stickiness = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(aws.ToBool(s.Enabled))}
		if aws.ToBool(s.Enabled) {
			if s.DurationSeconds == nil {
				return nil, nil, invalid("Target group stickiness needs DurationSeconds (1-604800) when enabled.")
			}
			if err := inRange("DurationSeconds", s.DurationSeconds, 1, 604800); err != nil {
				return nil, nil, err
			}
			stickiness.DurationSeconds = aws.Int32(*s.DurationSeconds)
		}
	}
	if act.TargetGroupArn != nil && (len(tuples) != 1 || *tuples[0].TargetGroupArn != *act.TargetGroupArn) {
		return nil, nil, invalid("TargetGroupArn and ForwardConfig together must name the same single target group; use ForwardConfig alone for several.")
	}
	return tuples, stickiness, nil
}

// checkForwardTargetGroups validates ForwardConfig's weighted target
// groups: 1-5 of them, each once, weights 0-999 (1 when not given).
func checkForwardTargetGroups(groups []types.TargetGroupTuple) ([]types.TargetGroupTuple, error) {
	if len(groups) == 0 || len(groups) > 5 {
		return nil, invalid("ForwardConfig needs 1-5 TargetGroups, not %d.", len(groups))
	}
	var tuples []types.TargetGroupTuple
	for _, t := range groups {
		if t.TargetGroupArn == nil {
			return nil, invalid("Each ForwardConfig target group needs a TargetGroupArn.")
		}
		if err := inRange("Weight", t.Weight, 0, 999); err != nil {
			return nil, err
		}
		w := t.Weight
		if w == nil {
			w = aws.Int32(1)
		}
		if slices.ContainsFunc(tuples, func(x types.TargetGroupTuple) bool { return *x.TargetGroupArn == *t.TargetGroupArn }) {
			return nil, invalid("Target group %q is given twice in ForwardConfig.", *t.TargetGroupArn)
		}
		tuples = append(tuples, types.TargetGroupTuple{TargetGroupArn: aws.String(*t.TargetGroupArn), Weight: aws.Int32(*w)})
	}
	return tuples, nil
}

// checkForwardTargets checks that the target groups a forward action of
// load balancer lbARN names exist, are HTTP, and are used by no other load
// balancer (refs).
func (a *API) checkForwardTargets(tx *store.Tx, c *call, lbARN string, tuples []types.TargetGroupTuple, refs map[string][]string) error {
	for _, t := range tuples {
		rec, err := a.getTargetGroup(tx, c, *t.TargetGroupArn)
		if err != nil {
			return err
		}
		if rec.TargetGroup.Protocol != types.ProtocolEnumHttp {
			return errf("IncompatibleProtocols", "Target group %q uses %s; HTTP listeners forward to HTTP target groups.", *t.TargetGroupArn, rec.TargetGroup.Protocol)
		}
		for _, other := range refs[*t.TargetGroupArn] {
			if other != lbARN {
				return errf(tgAssociationLimit, "The following target groups cannot be associated with more than one load balancer: %s (used by %s).", *t.TargetGroupArn, other)
			}
		}
	}
	return nil
}

// checkConditions validates a rule's conditions and returns them as ELBv2
// shows them: both the Values and the *Config form.
func checkConditions(conds []types.RuleCondition) ([]types.RuleCondition, error) {
	if len(conds) == 0 {
		return nil, invalid("A rule needs at least one condition: path-pattern or host-header.")
	}
	var out []types.RuleCondition
	total := 0
	for _, cd := range conds {
		field := aws.ToString(cd.Field)
		var cfgVals []string
		var cfgRegex []string
		hasCfg := false
		switch field {
		case fieldPathPattern:
			if cd.HostHeaderConfig != nil {
				return nil, invalid("A path-pattern condition takes PathPatternConfig, not HostHeaderConfig.")
			}
			if c := cd.PathPatternConfig; c != nil {
				hasCfg, cfgVals, cfgRegex = true, c.Values, c.RegexValues
			}
		case fieldHostHeader:
			if cd.PathPatternConfig != nil {
				return nil, invalid("A host-header condition takes HostHeaderConfig, not PathPatternConfig.")
			}
			if c := cd.HostHeaderConfig; c != nil {
				hasCfg, cfgVals, cfgRegex = true, c.Values, c.RegexValues
			}
		case "http-header", "http-request-method", "query-string", "source-ip":
			return nil, errf(invalidConfiguration, "Condition field %q is not supported by ecsd: use path-pattern or host-header.", field)
		case "":
			return nil, invalid("A condition needs a Field: path-pattern or host-header.")
		default:
			return nil, invalid("Condition field %q is not valid: use path-pattern or host-header.", field)
		}
		if cd.HttpHeaderConfig != nil || cd.HttpRequestMethodConfig != nil || cd.QueryStringConfig != nil || cd.SourceIpConfig != nil {
			return nil, invalid("A %s condition takes only Values or its own %s configuration.", field, field)
		}
		if len(cd.RegexValues) > 0 || len(cfgRegex) > 0 {
			return nil, errf(invalidConfiguration, "Regular-expression conditions (RegexValues) are not supported by ecsd: use wildcard Values (* and ?).")
		}
		if len(cd.Values) > 0 && hasCfg {
			return nil, invalid("A %s condition takes Values or its Config, not both.", field)
		}
		vals := cd.Values
		if hasCfg {
			vals = cfgVals
		}
		if len(vals) == 0 {
			return nil, invalid("A %s condition needs at least one value.", field)
		}
		for _, v := range vals {
			if len(v) < 1 || len(v) > 128 {
				return nil, invalid("Condition value %q is not valid: use 1-128 characters.", v)
			}
		}
		if slices.ContainsFunc(out, func(x types.RuleCondition) bool { return *x.Field == field }) {
			return nil, invalid("The %s condition is given twice; put all its values in one condition.", field)
		}
		total += len(vals)
		n := types.RuleCondition{Field: aws.String(field), Values: slices.Clone(vals)}
		if field == fieldPathPattern {
			n.PathPatternConfig = &types.PathPatternConditionConfig{Values: slices.Clone(vals)}
		} else {
			n.HostHeaderConfig = &types.HostHeaderConditionConfig{Values: slices.Clone(vals)}
		}
		out = append(out, n)
	}
	if total > 5 {
		return nil, invalid("A rule has at most 5 condition values; %d given.", total)
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
