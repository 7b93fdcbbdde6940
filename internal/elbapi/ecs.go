package elbapi

import (
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/lb"
	"github.com/ecsd/ecsd/internal/store"
)

// The contract ECS services use: a service's tasks are targets at
// 127.0.0.1:port of the target groups in its loadBalancers.

// TargetGroupInfo describes a target group for ECS's CreateService
// validation.
type TargetGroupInfo struct {
	ARN, Name, TargetType string
	Port                  int32
	LoadBalancerARNs      []string // load balancers whose listeners forward to it
}

// callFor is the call context of a contract method: the region and
// account come from the ARN.
func (a *API) callFor(arn string) (*call, bool) {
	p, ok := parseARN(arn)
	if !ok || p.Kind != kindTargetGroup || p.Account != a.cfg.AccountID {
		return nil, false
	}
	return &call{Region: p.Region, Account: p.Account, Now: a.cfg.Clock.Now().UTC().Truncate(time.Millisecond)}, true
}

// TargetGroup describes the target group arn (whose region is the ARN's);
// false when there is none.
func (a *API) TargetGroup(arn string) (TargetGroupInfo, bool) {
	c, ok := a.callFor(arn)
	if !ok {
		return TargetGroupInfo{}, false
	}
	var info TargetGroupInfo
	err := a.cfg.Store.View(func(tx *store.Tx) error {
		rec, err := a.getTargetGroup(tx, c, arn)
		if err != nil {
			return err
		}
		refs, err := references(tx, c.Region)
		if err != nil {
			return err
		}
		tg := rec.TargetGroup
		info = TargetGroupInfo{ARN: arn, Name: aws.ToString(tg.TargetGroupName), TargetType: string(tg.TargetType),
			Port: aws.ToInt32(tg.Port), LoadBalancerARNs: append([]string(nil), refs[arn]...)}
		return nil
	})
	return info, err == nil
}

// localTarget is the target at 127.0.0.1:port in a group of targetType.
func localTarget(targetType types.TargetTypeEnum, port int) types.TargetDescription {
	id := "127.0.0.1"
	if targetType == types.TargetTypeEnumInstance {
		id = LocalInstanceID
	}
	return types.TargetDescription{Id: aws.String(id), Port: aws.Int32(int32(port))}
}

func (a *API) checkLocalTarget(c *call, tgARN string, port int) (types.TargetDescription, error) {
	if port < 1 || port > 65535 {
		return types.TargetDescription{}, invalid("Port %d is out of range: use 1-65535.", port)
	}
	rec, err := a.readTargetGroup(c, tgARN)
	if err != nil {
		return types.TargetDescription{}, err
	}
	return localTarget(rec.TargetGroup.TargetType, port), nil
}

// RegisterTarget registers 127.0.0.1:port in the target group (Id
// 127.0.0.1 in an ip group, LocalInstanceID in an instance group), stored
// like RegisterTargets. Registering a registered target does nothing; one
// still draining is an InvalidTarget error.
func (a *API) RegisterTarget(tgARN string, port int) error {
	c, ok := a.callFor(tgARN)
	if !ok {
		return errTGNotFound(tgARN)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.checkLocalTarget(c, tgARN, port)
	if err != nil {
		return err
	}
	return a.register(c, tgARN, []types.TargetDescription{t})
}

// closed is an already-closed channel.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// DeregisterTarget deregisters 127.0.0.1:port and starts draining it; the
// channel closes when draining ends (its in-flight requests finished, or
// deregistration_delay.timeout_seconds passed). A target that is not
// registered gives an already-closed channel and no error; a draining one
// gives its draining channel.
func (a *API) DeregisterTarget(tgARN string, port int) (<-chan struct{}, error) {
	c, ok := a.callFor(tgARN)
	if !ok {
		return nil, errTGNotFound(tgARN)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.checkLocalTarget(c, tgARN, port)
	if err != nil {
		return nil, err
	}
	done, err := a.deregister(c, tgARN, []types.TargetDescription{t}, false)
	if err != nil {
		return nil, err
	}
	if len(done) == 0 {
		return closed, nil
	}
	return done[0], nil
}

// TargetHealth reports the health of 127.0.0.1:port in the target group
// as DescribeTargetHealth does (unused with Target.NotInUse while no
// listener forwards to the group; draining after deregistration); false
// when the group or the target is unknown.
func (a *API) TargetHealth(tgARN string, port int) (lb.TargetHealth, bool) {
	g := a.group(tgARN)
	if g == nil {
		return lb.TargetHealth{}, false
	}
	h := g.DescribeTargetHealth(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))[0].Health
	if h.Reason == lb.ReasonNotRegistered {
		return h, false
	}
	return h, true
}

// OnHealthChange registers f to be called on every target state change
// (initial → healthy, → unhealthy, → draining, ...) with the target group
// ARN and the target's port. Register callbacks before Recover. f runs on
// the data plane's goroutines: it must not block, and must not call
// RegisterTarget or DeregisterTarget itself (queue the work instead).
func (a *API) OnHealthChange(f func(tgARN string, port int, h lb.TargetHealth)) {
	a.healthMu.Lock()
	defer a.healthMu.Unlock()
	a.healthFns = append(a.healthFns, f)
}
