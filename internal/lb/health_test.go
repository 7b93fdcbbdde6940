package lb

import (
	"errors"
	"testing"
	"time"
)

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		spec    string
		match   []int
		nomatch []int
		wantErr bool
	}{
		{spec: "200", match: []int{200}, nomatch: []int{201, 204, 299, 500}},
		{spec: "200,202", match: []int{200, 202}, nomatch: []int{201, 203}},
		{spec: "200-299", match: []int{200, 250, 299}, nomatch: []int{199, 300, 404}},
		{spec: "200, 300-302,404", match: []int{200, 301, 404}, nomatch: []int{201, 303, 403}},
		{spec: "", wantErr: true},
		{spec: "abc", wantErr: true},
		{spec: "100", wantErr: true},
		{spec: "200-600", wantErr: true},
		{spec: "299-200", wantErr: true},
		{spec: "200,", wantErr: true},
	}
	for _, tt := range tests {
		m, err := ParseMatcher(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMatcher(%q) err = %v, wantErr %v", tt.spec, err, tt.wantErr)
			continue
		}
		for _, c := range tt.match {
			if !m.Match(c) {
				t.Errorf("%q should match %d", tt.spec, c)
			}
		}
		for _, c := range tt.nomatch {
			if m.Match(c) {
				t.Errorf("%q should not match %d", tt.spec, c)
			}
		}
	}
}

func TestHealthCheckValidate(t *testing.T) {
	tests := []struct {
		name string
		hc   HealthCheck
		ok   bool
	}{
		{"defaults", HealthCheck{}, true},
		{"numeric port", HealthCheck{Port: "8081"}, true},
		{"bad port", HealthCheck{Port: "http"}, false},
		{"https", HealthCheck{Protocol: "HTTPS"}, false},
		{"path without slash", HealthCheck{Path: "health"}, false},
		{"interval too short", HealthCheck{Interval: 4 * time.Second, Timeout: 2 * time.Second}, false},
		{"timeout not below interval", HealthCheck{Interval: 5 * time.Second, Timeout: 5 * time.Second}, false},
		{"fast", HealthCheck{Interval: 5 * time.Second, Timeout: 4 * time.Second, HealthyThreshold: 2}, true},
		{"threshold 1", HealthCheck{HealthyThreshold: 1}, false},
		{"threshold 11", HealthCheck{UnhealthyThreshold: 11}, false},
		{"matcher range", HealthCheck{Matcher: "200-399"}, true},
		{"bad matcher", HealthCheck{Matcher: "2xx"}, false},
	}
	for _, tt := range tests {
		if err := tt.hc.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestParseAttributes(t *testing.T) {
	a, err := ParseAttributes(DefaultAttributes(), nil)
	if err != nil || a.DeregistrationDelay != 300*time.Second || a.Algorithm != AlgorithmRoundRobin {
		t.Fatalf("defaults = %+v, %v", a, err)
	}
	a, err = ParseAttributes(DefaultAttributes(), map[string]string{
		AttrDeregistrationDelay: "0", AttrSlowStart: "30", AttrAlgorithm: "least_outstanding_requests",
		"stickiness.enabled": "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.DeregistrationDelay != 0 || a.SlowStart != 30*time.Second || a.Algorithm != AlgorithmLeastOutstanding {
		t.Fatalf("parsed = %+v", a)
	}
	if m := a.Map(); m["stickiness.enabled"] != "false" || m[AttrDeregistrationDelay] != "0" {
		t.Fatalf("Map() = %v", m)
	}
	for _, kv := range []map[string]string{
		{AttrDeregistrationDelay: "3601"},
		{AttrDeregistrationDelay: "-1"},
		{AttrDeregistrationDelay: "x"},
		{AttrSlowStart: "10"},
		{AttrAlgorithm: "random"},
		{"no.such.key": "1"},
	} {
		if _, err := ParseAttributes(DefaultAttributes(), kv); err == nil {
			t.Errorf("ParseAttributes(%v) accepted", kv)
		}
	}
}

// Probe results used by the state-machine tables.
var (
	ok200   = ProbeResult{StatusCode: 200}
	ok204   = ProbeResult{StatusCode: 204}
	bad503  = ProbeResult{StatusCode: 503}
	timeout = ProbeResult{TimedOut: true}
	refused = ProbeResult{Err: errors.New("connection refused")}
)

func TestHealthMachine(t *testing.T) {
	type step struct {
		in     ProbeResult
		state  HealthState
		reason ReasonCode
	}
	tests := []struct {
		name  string
		hc    HealthCheck
		steps []step
	}{
		{
			name: "defaults: five passes to healthy",
			steps: []step{
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateHealthy, ""},
			},
		},
		{
			name: "defaults: two failures from initial to unhealthy",
			steps: []step{
				{bad503, StateInitial, ReasonInitialHealthChecking},
				{bad503, StateUnhealthy, ReasonResponseCodeMismatch},
			},
		},
		{
			name: "a failure resets the success count",
			hc:   HealthCheck{HealthyThreshold: 3},
			steps: []step{
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{bad503, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateHealthy, ""},
			},
		},
		{
			name: "healthy survives failures below the threshold",
			hc:   HealthCheck{HealthyThreshold: 2, UnhealthyThreshold: 3},
			steps: []step{
				{ok200, StateInitial, ReasonInitialHealthChecking},
				{ok200, StateHealthy, ""},
				{bad503, StateHealthy, ""},
				{timeout, StateHealthy, ""},
				{ok200, StateHealthy, ""},
				{bad503, StateHealthy, ""},
				{bad503, StateHealthy, ""},
				{timeout, StateUnhealthy, ReasonTimeout},
			},
		},
		{
			name: "unhealthy reason follows the latest failure, recovery needs the healthy threshold",
			hc:   HealthCheck{HealthyThreshold: 2},
			steps: []step{
				{refused, StateInitial, ReasonInitialHealthChecking},
				{refused, StateUnhealthy, ReasonFailedHealthChecks},
				{timeout, StateUnhealthy, ReasonTimeout},
				{bad503, StateUnhealthy, ReasonResponseCodeMismatch},
				{ok200, StateUnhealthy, ReasonResponseCodeMismatch},
				{ok200, StateHealthy, ""},
			},
		},
		{
			name: "matcher range 200-299 accepts 204",
			hc:   HealthCheck{HealthyThreshold: 2, Matcher: "200-299"},
			steps: []step{
				{ok204, StateInitial, ReasonInitialHealthChecking},
				{ok204, StateHealthy, ""},
			},
		},
		{
			name: "matcher 200 rejects 204",
			hc:   HealthCheck{Matcher: "200"},
			steps: []step{
				{ok204, StateInitial, ReasonInitialHealthChecking},
				{ok204, StateUnhealthy, ReasonResponseCodeMismatch},
			},
		},
		{
			name: "matcher list 200,202 rejects 201",
			hc:   HealthCheck{Matcher: "200,202", HealthyThreshold: 2, UnhealthyThreshold: 2},
			steps: []step{
				{ProbeResult{StatusCode: 202}, StateInitial, ReasonInitialHealthChecking},
				{ProbeResult{StatusCode: 201}, StateInitial, ReasonInitialHealthChecking},
				{ProbeResult{StatusCode: 201}, StateUnhealthy, ReasonResponseCodeMismatch},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewHealthMachine(tt.hc)
			if h := m.Health(); h.State != StateInitial || h.Reason != ReasonRegistrationInProgress {
				t.Fatalf("new machine = %+v", h)
			}
			for i, s := range tt.steps {
				h, _ := m.Observe(s.in)
				if h.State != s.state || h.Reason != s.reason {
					t.Fatalf("step %d (%+v): got %s/%s, want %s/%s", i+1, s.in, h.State, h.Reason, s.state, s.reason)
				}
				if (h.Reason == "") != (h.Description == "") {
					t.Fatalf("step %d: reason %q with description %q", i+1, h.Reason, h.Description)
				}
			}
		})
	}
}

func TestHealthMachineDescriptions(t *testing.T) {
	m := NewHealthMachine(HealthCheck{})
	m.Observe(bad503)
	h, changed := m.Observe(bad503)
	if !changed || h.Description != "Health checks failed with these codes: [503]" {
		t.Fatalf("got %+v changed=%v", h, changed)
	}
	if _, changed := m.Observe(timeout); changed {
		t.Fatal("unhealthy→unhealthy reported as a change")
	}
	if h := m.Health(); h.Description != "Request timed out" {
		t.Fatalf("got %+v", h)
	}
}
