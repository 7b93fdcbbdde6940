package elbapi

import (
	"context"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/store"
)

// The API version and XML namespace of ELBv2 requests and responses.
const (
	Version      = "2015-12-01"
	XMLNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// LocalInstanceID is the one EC2 instance ecsd has: the local machine, at
// 127.0.0.1. Targets of instance target groups name it.
const LocalInstanceID = lbrun.LocalInstanceID

// LocalVpcID is the VPC ecsd reports for load balancers and target groups
// created without one.
const LocalVpcID = "vpc-0ec5d000000000000"

// Config wires an API.
type Config struct {
	Store     *store.Store
	AccountID string
	// Live is the load-balancer reconciler over the same store: it runs
	// what the API stores and answers the data-plane reads
	// (DescribeTargetHealth, why a listener does not serve).
	Live   *lbrun.Runner
	Clock  clock.Clock  // request times and drain deadlines; default clock.Real()
	Logger *slog.Logger // default slog.Default()
}

// API answers ELBv2 operations: it decodes and validates them and stores
// the result; the live load balancers are lbrun's.
type API struct {
	cfg  Config
	live *lbrun.Runner
	log  *slog.Logger
	ops  map[string]handler
	all  map[string]bool // every operation of the ELBv2 model
}

// call is one request's context.
type call struct {
	Region  string
	Account string
	Now     time.Time
}

type handler func(c *call, params url.Values) (any, error)

// New returns the API over cfg.Store and cfg.Live.
func New(cfg Config) *API {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &API{cfg: cfg, live: cfg.Live, log: cfg.Logger, all: modelOperations()}
	a.ops = map[string]handler{
		"CreateLoadBalancer":            op(a.createLoadBalancer),
		"DescribeLoadBalancers":         op(a.describeLoadBalancers),
		"DeleteLoadBalancer":            op(a.deleteLoadBalancer),
		"CreateTargetGroup":             op(a.createTargetGroup),
		"DescribeTargetGroups":          op(a.describeTargetGroups),
		"ModifyTargetGroup":             op(a.modifyTargetGroup),
		"DeleteTargetGroup":             op(a.deleteTargetGroup),
		"DescribeTargetGroupAttributes": op(a.describeTargetGroupAttributes),
		"ModifyTargetGroupAttributes":   op(a.modifyTargetGroupAttributes),
		"RegisterTargets":               op(a.registerTargets),
		"DeregisterTargets":             op(a.deregisterTargets),
		"DescribeTargetHealth":          op(a.describeTargetHealth),
		"CreateListener":                op(a.createListener),
		"DescribeListeners":             op(a.describeListeners),
		"ModifyListener":                op(a.modifyListener),
		"DeleteListener":                op(a.deleteListener),
		"CreateRule":                    op(a.createRule),
		"DescribeRules":                 op(a.describeRules),
		"ModifyRule":                    op(a.modifyRule),
		"DeleteRule":                    op(a.deleteRule),
		"SetRulePriorities":             op(a.setRulePriorities),
		"AddTags":                       op(a.addTags),
		"RemoveTags":                    op(a.removeTags),
		"DescribeTags":                  op(a.describeTags),
	}
	return a
}

// XMLNamespace is the xmlns of ELBv2 responses.
func (a *API) XMLNamespace() string { return XMLNamespace }

// Operations lists the ELBv2 operations ecsd implements.
func (a *API) Operations() []string {
	names := make([]string, 0, len(a.ops))
	for n := range a.ops {
		names = append(names, n)
	}
	return names
}

// HandleQuery runs an ELBv2 action with its form parameters in region and
// returns the SDK output value to encode. An action that changes state
// answers once lbrun has applied it to the data plane (Sync).
func (a *API) HandleQuery(ctx context.Context, region, action string, params url.Values) (any, error) {
	h, ok := a.ops[action]
	if !ok {
		if a.all[action] {
			return nil, errf(unsupportedByECSD, "ecsd does not support the Elastic Load Balancing v2 operation %s. It supports: %s.", action, strings.Join(sortedOps(a.ops), ", "))
		}
		return nil, errf(awsproto.InvalidAction, "%s is not an action of Elastic Load Balancing v2 (API version %s).", action, Version)
	}
	c := &call{Region: region, Account: a.cfg.AccountID, Now: a.cfg.Clock.Now().UTC().Truncate(time.Millisecond)}
	out, err := h(c, params)
	if err == nil && !strings.HasPrefix(action, "Describe") {
		a.live.Sync()
	}
	return out, err
}

// op adapts a typed operation to a handler: decode, then run.
func op[In, Out any](f func(c *call, in *In) (*Out, error)) handler {
	return func(c *call, params url.Values) (any, error) {
		in := new(In)
		if err := awsproto.DecodeQuery(params, in, awsproto.QueryDecodeOptions{}); err != nil {
			return nil, err
		}
		out, err := f(c, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

func sortedOps(ops map[string]handler) []string {
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// modelOperations names every operation of the ELBv2 API, read off the
// SDK client's methods (each takes a *<Op>Input).
func modelOperations() map[string]bool {
	ops := map[string]bool{}
	t := reflect.TypeFor[*elbv2.Client]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			ops[m.Name] = true
		}
	}
	return ops
}

// resolve parses an ARN to its parts, checking that it names a resource
// of kind in this call's account and region; otherwise the error notFound
// builds (or a ValidationError for something that is not an ELBv2 ARN).
func (c *call) resolve(arn, kind string, notFound func() error) (resourceARN, error) {
	r, ok := parseARN(arn)
	if !ok || r.Kind != kind {
		return r, invalid("%q is not a valid %s ARN.", arn, kindName(kind))
	}
	if r.Region != c.Region || r.Account != c.Account {
		return r, notFound()
	}
	return r, nil
}

func kindName(kind string) string {
	switch kind {
	case kindLoadBalancer:
		return "load balancer"
	case kindTargetGroup:
		return "target group"
	case kindRule:
		return "rule"
	}
	return kind
}
