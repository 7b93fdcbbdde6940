package lb

import "fmt"

// HealthState is an ELBv2 TargetHealth.State.
type HealthState string

const (
	StateInitial   HealthState = "initial"
	StateHealthy   HealthState = "healthy"
	StateUnhealthy HealthState = "unhealthy"
	StateUnused    HealthState = "unused"
	StateDraining  HealthState = "draining"
)

// ReasonCode is an ELBv2 TargetHealth.Reason.
type ReasonCode string

const (
	ReasonRegistrationInProgress   ReasonCode = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    ReasonCode = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     ReasonCode = "Target.ResponseCodeMismatch"
	ReasonTimeout                  ReasonCode = "Target.Timeout"
	ReasonFailedHealthChecks       ReasonCode = "Target.FailedHealthChecks"
	ReasonDeregistrationInProgress ReasonCode = "Target.DeregistrationInProgress"
	ReasonNotRegistered            ReasonCode = "Target.NotRegistered"
	ReasonNotInUse                 ReasonCode = "Target.NotInUse"
)

// Descriptions as DescribeTargetHealth words them.
const (
	descRegistrationInProgress = "Target registration is in progress"
	descInitialHealthChecking  = "Initial health checks in progress"
	descTimeout                = "Request timed out"
	descFailedHealthChecks     = "Health checks failed"
	descDeregistration         = "Target deregistration is in progress"
	descNotRegistered          = "Target is not registered to the target group"
	descNotInUse               = "Target group is not configured to receive traffic from the load balancer"
)

// TargetHealth is one target's health as DescribeTargetHealth reports it.
// Reason and Description are empty when the target is healthy.
type TargetHealth struct {
	State       HealthState
	Reason      ReasonCode
	Description string
}

// DrainingHealth is the health of a deregistered target while it drains.
func DrainingHealth() TargetHealth {
	return TargetHealth{StateDraining, ReasonDeregistrationInProgress, descDeregistration}
}

// ProbeResult is the outcome of one health check.
type ProbeResult struct {
	StatusCode int   // HTTP status, when a response arrived
	TimedOut   bool  // no response within the health-check timeout
	Err        error // connection or protocol failure (ignored if TimedOut)
}

// HealthMachine is the pure health-check state machine of one target.
// It starts initial (Elb.RegistrationInProgress); Observe feeds it probe
// results. ELB counts consecutive results: HealthyThreshold successes in a
// row make a non-healthy target healthy, UnhealthyThreshold failures in a
// row make a non-unhealthy target unhealthy; a success resets the failure
// count and vice versa. While initial and below both thresholds the reason
// is Elb.InitialHealthChecking; once unhealthy the reason tracks the latest
// failure. It is not safe for concurrent use.
type HealthMachine struct {
	healthyThreshold   int
	unhealthyThreshold int
	matcher            Matcher

	health    TargetHealth
	successes int // consecutive
	failures  int // consecutive
}

// NewHealthMachine returns a machine in the initial state. hc is taken with
// defaults; an invalid matcher falls back to "200" (validate hc first).
func NewHealthMachine(hc HealthCheck) *HealthMachine {
	hc = hc.WithDefaults()
	m, err := ParseMatcher(hc.Matcher)
	if err != nil {
		m, _ = ParseMatcher(DefaultMatcher)
	}
	return &HealthMachine{
		healthyThreshold:   hc.HealthyThreshold,
		unhealthyThreshold: hc.UnhealthyThreshold,
		matcher:            m,
		health:             TargetHealth{StateInitial, ReasonRegistrationInProgress, descRegistrationInProgress},
	}
}

// resume sets the machine's state to a target's last known health (after
// a restart), with no consecutive results counted yet.
func (m *HealthMachine) resume(h TargetHealth) {
	switch h.State {
	case StateHealthy:
		m.health = TargetHealth{State: StateHealthy}
	case StateUnhealthy:
		m.health = h
	}
}

// Health returns the current health.
func (m *HealthMachine) Health() TargetHealth { return m.health }

// Observe applies one probe result and returns the new health and whether
// the state changed.
func (m *HealthMachine) Observe(r ProbeResult) (TargetHealth, bool) {
	prev := m.health.State
	ok, reason, desc := m.classify(r)
	if ok {
		m.successes++
		m.failures = 0
		switch {
		case m.health.State != StateHealthy && m.successes >= m.healthyThreshold:
			m.health = TargetHealth{State: StateHealthy}
		case m.health.State == StateInitial:
			m.health = TargetHealth{StateInitial, ReasonInitialHealthChecking, descInitialHealthChecking}
		}
	} else {
		m.failures++
		m.successes = 0
		switch {
		case m.health.State != StateUnhealthy && m.failures >= m.unhealthyThreshold,
			m.health.State == StateUnhealthy:
			m.health = TargetHealth{StateUnhealthy, reason, desc}
		case m.health.State == StateInitial:
			m.health = TargetHealth{StateInitial, ReasonInitialHealthChecking, descInitialHealthChecking}
		}
	}
	return m.health, m.health.State != prev
}

func (m *HealthMachine) classify(r ProbeResult) (ok bool, reason ReasonCode, desc string) {
	switch {
	case r.TimedOut:
		return false, ReasonTimeout, descTimeout
	case r.Err != nil:
		return false, ReasonFailedHealthChecks, descFailedHealthChecks
	case !m.matcher.Match(r.StatusCode):
		return false, ReasonResponseCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", r.StatusCode)
	}
	return true, "", ""
}
