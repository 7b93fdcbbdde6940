package elbapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// The API version and XML namespace of ELBv2 requests and responses.
const (
	Version      = "2015-12-01"
	XMLNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// LocalInstanceID is the one EC2 instance ecsd has: the local machine, at
// 127.0.0.1. Targets of instance target groups name it.
const LocalInstanceID = "i-0ec5d000000000000"

// LocalVpcID is the VPC ecsd reports for load balancers and target groups
// created without one.
const LocalVpcID = "vpc-0ec5d000000000000"

// Config wires an API.
type Config struct {
	Store     *store.Store
	AccountID string
	Clock     clock.Clock  // health checks and draining; default clock.Real()
	Logger    *slog.Logger // default slog.Default()
	// Prober performs health checks; default an HTTP GET ([lb.HTTPProber]).
	Prober lb.Prober
	// Transport carries listener traffic to targets; default lb's shared
	// transport.
	Transport http.RoundTripper
	// OnCheck, when set, observes every health check: the target group
	// ARN, the target (host:port), the result and the target's health
	// after it.
	OnCheck func(tgARN, target string, r lb.ProbeResult, h lb.TargetHealth)
}

// API answers ELBv2 operations and owns the live load-balancer objects
// (target groups and listener sockets) built from the stored state.
type API struct {
	cfg Config
	log *slog.Logger
	ops map[string]handler
	all map[string]bool // every operation of the ELBv2 model

	// mu serialises the operations that change state, so that the store
	// and the live objects change together.
	mu sync.Mutex

	liveMu    sync.RWMutex
	groups    map[string]*lb.TargetGroup // by target group ARN
	listeners map[string]*lb.Listener    // by listener ARN

	healthMu  sync.RWMutex
	healthFns []func(tgARN string, port int, h lb.TargetHealth)
}

// call is one request's context.
type call struct {
	Region  string
	Account string
	Now     time.Time
}

type handler func(c *call, params url.Values) (any, error)

// New returns the API over cfg.Store. Call Recover to bring back the load
// balancers of an earlier run, and Close when done.
func New(cfg Config) *API {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &API{
		cfg:       cfg,
		log:       cfg.Logger,
		all:       modelOperations(),
		groups:    map[string]*lb.TargetGroup{},
		listeners: map[string]*lb.Listener{},
	}
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
// returns the SDK output value to encode.
func (a *API) HandleQuery(ctx context.Context, region, action string, params url.Values) (any, error) {
	h, ok := a.ops[action]
	if !ok {
		if a.all[action] {
			return nil, errf(unsupportedByECSD, "ecsd does not support the Elastic Load Balancing v2 operation %s. It supports: %s.", action, strings.Join(sortedOps(a.ops), ", "))
		}
		return nil, errf(awsproto.InvalidAction, "%s is not an action of Elastic Load Balancing v2 (API version %s).", action, Version)
	}
	c := &call{Region: region, Account: a.cfg.AccountID, Now: a.cfg.Clock.Now().UTC().Truncate(time.Millisecond)}
	a.mu.Lock()
	defer a.mu.Unlock()
	return h(c, params)
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
