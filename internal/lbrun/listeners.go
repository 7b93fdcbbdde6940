package lbrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/lb"
)

// Bind retries of a listener whose port is taken: 1 s, doubling, at most
// this long apart.
const maxBindBackoff = 30 * time.Second

// listener is the live side of a stored listener.
type listener struct {
	arn, lbARN string
	port       int          // the stored port: the only one it ever listens on
	l          *lb.Listener // nil while the port cannot be bound
	sig        string       // the stored routes l serves
	err        error        // why the port cannot be bound (guarded by Runner.liveMu)
	failures   int          // consecutive failed binds
	retry      clock.Timer
}

func (l *listener) close(ctx context.Context) {
	if l.retry != nil {
		l.retry.Stop()
	}
	if l.l != nil {
		if err := l.l.Shutdown(ctx); err != nil {
			l.l.Close()
		}
	}
}

// syncListeners brings the live listeners to the snapshot: sockets for new
// listeners (or a changed port), the stored rules, closed sockets for
// deleted listeners.
func (r *Runner) syncListeners(st *snapshot) {
	for arn, sl := range st.listeners {
		l := r.listeners[arn]
		if l == nil {
			l = &listener{arn: arn, lbARN: aws.ToString(sl.rec.Listener.LoadBalancerArn)}
			r.liveMu.Lock()
			r.listeners[arn] = l
			r.liveMu.Unlock()
		}
		rules, def, sig, err := r.routes(sl)
		if err != nil {
			r.log.Error("a stored listener's rules cannot be applied", "listener_arn", arn, "error", err)
			continue
		}
		if port := int(aws.ToInt32(sl.rec.Listener.Port)); port != l.port {
			old := l.l
			r.liveMu.Lock()
			l.port, l.l, l.failures = port, nil, 0
			r.liveMu.Unlock()
			r.bind(l, rules, def, sig)
			if old != nil {
				old.Close()
			}
			continue
		}
		if l.l == nil {
			r.bind(l, rules, def, sig)
			continue
		}
		if sig != l.sig {
			if err := l.l.Router().SetRules(rules, def); err != nil {
				r.log.Error("applying listener rules failed", "listener_arn", arn, "error", err)
				continue
			}
			l.sig = sig
		}
	}
	for arn, l := range r.listeners {
		if _, ok := st.listeners[arn]; !ok {
			r.liveMu.Lock()
			delete(r.listeners, arn)
			r.liveMu.Unlock()
			l.close(canceled)
			r.log.Info("listener closed", "listener_arn", arn, "port", l.port)
		}
	}
}

// canceled is a done context: close at once.
var canceled = func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx }()

// bind opens the listener's socket on its stored port (the socket
// CreateListener or ModifyListener reserved, else a new one) and serves
// its routes. A port that cannot be bound stays the listener's port: the
// failure is logged with what to do, reported by ListenerError, and
// retried with back-off until the port is free.
func (r *Runner) bind(l *listener, rules []lb.Rule, def lb.Action, sig string) {
	ln := r.takeReservation(l.arn, l.port)
	var err error
	if ln == nil {
		ln, err = lb.Bind("", l.port)
	}
	var srv *lb.Listener
	if err == nil {
		srv, err = lb.Serve(ln, lb.ListenerConfig{Rules: rules, DefaultAction: def,
			Router: lb.RouterOptions{Transport: r.cfg.Transport}, Logger: r.log.With("listener_arn", l.arn)})
	}
	if l.retry != nil {
		l.retry.Stop()
		l.retry = nil
	}
	if err != nil {
		changed := l.err == nil || l.err.Error() != err.Error()
		r.liveMu.Lock()
		l.err = err
		l.failures++
		r.liveMu.Unlock()
		delay := min(time.Second<<min(l.failures-1, 5), maxBindBackoff)
		if changed {
			r.log.Error("a listener cannot listen on its port; it keeps the port and ecsd retries until the port is free",
				"listener_arn", l.arn, "port", l.port, "error", err, "fix", restartAdvice(err), "retry_in", delay)
		} else {
			r.log.Debug("listener port still unavailable", "listener_arn", l.arn, "port", l.port, "error", err, "retry_in", delay)
		}
		l.retry = r.kickAfter(delay)
		return
	}
	if l.failures > 0 {
		r.log.Info("listener listening again on its port", "listener_arn", l.arn, "port", l.port, "failed_attempts", l.failures)
	}
	r.liveMu.Lock()
	l.l, l.sig, l.err, l.failures = srv, sig, nil, 0
	r.liveMu.Unlock()
	r.log.Info("listener listening", "listener_arn", l.arn, "url", srv.URL())
}

// routes builds a stored listener's data-plane rules and default action,
// and a signature of what they were built from.
func (r *Runner) routes(sl storedListener) ([]lb.Rule, lb.Action, string, error) {
	def, err := r.dataAction(sl.rec.Listener.DefaultActions)
	if err != nil {
		return nil, nil, "", err
	}
	rules := make([]lb.Rule, 0, len(sl.rules))
	for _, rule := range sl.rules {
		prio, err := strconv.Atoi(aws.ToString(rule.Priority))
		if err != nil {
			return nil, nil, "", fmt.Errorf("rule %s has priority %q", aws.ToString(rule.RuleArn), aws.ToString(rule.Priority))
		}
		act, err := r.dataAction(rule.Actions)
		if err != nil {
			return nil, nil, "", err
		}
		rules = append(rules, lb.Rule{Priority: prio, Conditions: dataConditions(rule.Conditions), Action: act})
	}
	sig, err := json.Marshal(struct {
		Default []types.Action
		Rules   []types.Rule
	}{sl.rec.Listener.DefaultActions, sl.rules})
	return rules, def, string(sig), err
}

// dataAction is the data-plane action of a (validated) action list: its
// one forward or fixed-response action.
func (r *Runner) dataAction(actions []types.Action) (lb.Action, error) {
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
			g := r.groups[aws.ToString(t.TargetGroupArn)]
			if g == nil {
				return nil, fmt.Errorf("target group %s has no live data plane", aws.ToString(t.TargetGroupArn))
			}
			groups = append(groups, lb.WeightedTargetGroup{Group: g.tg, Weight: int(aws.ToInt32(t.Weight))})
		}
		return lb.NewForward(groups...)
	}
	return nil, fmt.Errorf("action type %q has no data plane", act.Type)
}

func dataConditions(conds []types.RuleCondition) []lb.Condition {
	out := make([]lb.Condition, 0, len(conds))
	for _, c := range conds {
		switch aws.ToString(c.Field) {
		case "path-pattern":
			out = append(out, lb.PathPattern(slices.Clone(c.PathPatternConfig.Values)))
		case "host-header":
			out = append(out, lb.HostHeader(slices.Clone(c.HostHeaderConfig.Values)))
		}
	}
	return out
}

// Port reservations: CreateListener and ModifyListener must fail when
// their port cannot be bound, before anything is stored. elbapi binds the
// port with Reserve inside its store transaction; the pass that follows
// the commit serves the listener on that very socket. When the
// transaction fails, elbapi calls Release.

// heldPort is the cause of a port taken by another listener of this ecsd.
type heldPort struct{ listenerARN string }

func (h *heldPort) Error() string {
	return "listener " + h.listenerARN + " of this ecsd is on that port"
}

func (h *heldPort) Is(target error) bool { return target == lb.ErrPortInUse }

// Reserve binds port on 127.0.0.1 for listener arn now, or says why it
// cannot (a *lb.PortError: taken by another program or another listener
// of this ecsd, or privileged). A reservation is used by the pass that
// finds listener arn stored with that port.
func (r *Runner) Reserve(arn string, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r.liveMu.RLock()
	for _, l := range r.listeners {
		if l.arn != arn && l.port == port {
			r.liveMu.RUnlock()
			return &lb.PortError{Addr: addr, Port: port, Cause: &heldPort{l.arn}}
		}
	}
	r.liveMu.RUnlock()
	ln, err := lb.Bind("", port)
	if err != nil {
		return err
	}
	r.resMu.Lock()
	defer r.resMu.Unlock()
	if old := r.reserved[arn]; old != nil {
		old.Close()
	}
	r.reserved[arn] = ln
	return nil
}

// Release gives up listener arn's reservation (its change was not stored).
func (r *Runner) Release(arn string) {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	if ln := r.reserved[arn]; ln != nil {
		ln.Close()
		delete(r.reserved, arn)
	}
}

func (r *Runner) takeReservation(arn string, port int) net.Listener {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	ln := r.reserved[arn]
	if ln == nil || ln.Addr().(*net.TCPAddr).Port != port {
		return nil
	}
	delete(r.reserved, arn)
	return ln
}

// PortAdvice says what to do about a port a new listener cannot bind
// (an error from Reserve).
func PortAdvice(err error) string {
	var pe *lb.PortError
	if !errors.As(err, &pe) {
		return "choose another port"
	}
	var held *heldPort
	switch {
	case errors.As(err, &held):
		return "choose another port, or delete that listener or move it with ModifyListener first"
	case errors.Is(err, lb.ErrPortInUse):
		return fmt.Sprintf("choose another port, or stop the program that listens on it (ss -ltnp 'sport = :%d' or lsof -i :%d names it)", pe.Port, pe.Port)
	case errors.Is(err, lb.ErrPortPrivileged):
		return fmt.Sprintf("choose a port of 1024 or above, or let ecsd bind low ports (sudo setcap cap_net_bind_service=+ep on the ecsd binary, or sysctl net.ipv4.ip_unprivileged_port_start=%d)", pe.Port)
	}
	return "choose another port"
}

// restartAdvice says what to do about a stored listener whose port is not
// available (taken while ecsd was down).
func restartAdvice(err error) string {
	var pe *lb.PortError
	port := 0
	if errors.As(err, &pe) {
		port = pe.Port
	}
	var held *heldPort
	switch {
	case errors.As(err, &held):
		return "delete one of the two listeners or move it with ModifyListener"
	case errors.Is(err, lb.ErrPortPrivileged):
		return fmt.Sprintf("move the listener to a port of 1024 or above with ModifyListener, or let ecsd bind low ports (sudo setcap cap_net_bind_service=+ep on the ecsd binary, or sysctl net.ipv4.ip_unprivileged_port_start=%d)", port)
	}
	return fmt.Sprintf("stop the program that listens on it (ss -ltnp 'sport = :%d' or lsof -i :%d names it), or move the listener with ModifyListener; until then the listener keeps its port and ecsd retries it with back-off", port, port)
}

// cause is why a port cannot be bound, without the address.
func cause(err error) error {
	var pe *lb.PortError
	if errors.As(err, &pe) {
		return pe.Cause
	}
	return err
}

// ListenerError says why listener arn does not serve on its port (nil
// when it does, or when there is no such listener).
func (r *Runner) ListenerError(arn string) error {
	r.liveMu.RLock()
	defer r.liveMu.RUnlock()
	if l := r.listeners[arn]; l != nil {
		return l.err
	}
	return nil
}

// Impairments describes the listeners of load balancer lbARN that cannot
// serve on their ports, sorted; none when all serve.
func (r *Runner) Impairments(lbARN string) []string {
	r.liveMu.RLock()
	defer r.liveMu.RUnlock()
	var out []string
	for _, l := range r.listeners {
		if l.lbARN == lbARN && l.err != nil {
			out = append(out, fmt.Sprintf("The listener on port %d cannot listen: %v. To fix it, %s.", l.port, cause(l.err), restartAdvice(l.err)))
		}
	}
	slices.Sort(out)
	return out
}
