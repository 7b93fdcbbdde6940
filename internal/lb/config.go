package lb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TrafficPort is the HealthCheck.Port value that means "the port the target
// was registered with".
const TrafficPort = "traffic-port"

// HealthCheckLimit is ELBv2's range and default of one numeric member of a
// target group's health check (seconds, or a count of checks).
type HealthCheckLimit struct {
	Member   string // the ELBv2 API member it bounds
	Min, Max int32
	Default  int32
}

// The health-check rules of an HTTP target group of an Application Load
// Balancer, defined once: elbapi validates requests and fills in defaults
// with them, [HealthCheck.WithDefaults] and [HealthCheck.Validate] apply
// them to the data plane. The timeout must also be below the interval.
var (
	IntervalLimit           = HealthCheckLimit{Member: "HealthCheckIntervalSeconds", Min: 5, Max: 300, Default: 30}
	TimeoutLimit            = HealthCheckLimit{Member: "HealthCheckTimeoutSeconds", Min: 2, Max: 120, Default: 5}
	HealthyThresholdLimit   = HealthCheckLimit{Member: "HealthyThresholdCount", Min: 2, Max: 10, Default: 5}
	UnhealthyThresholdLimit = HealthCheckLimit{Member: "UnhealthyThresholdCount", Min: 2, Max: 10, Default: 2}
)

// Health-check and attribute defaults that are not numeric limits.
const (
	DefaultHealthCheckPath     = "/"
	MaxHealthCheckPathLength   = 1024
	DefaultMatcher             = "200"
	DefaultDeregistrationDelay = 300 * time.Second
)

// seconds is a limit's value as a duration.
func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

// checkSeconds checks a duration against a limit in whole seconds.
func (l HealthCheckLimit) checkSeconds(what string, d time.Duration) error {
	if d < seconds(l.Min) || d > seconds(l.Max) || d%time.Second != 0 {
		return fmt.Errorf("%s %v must be a whole number of seconds in %d-%d", what, d, l.Min, l.Max)
	}
	return nil
}

// checkCount checks a count against a limit.
func (l HealthCheckLimit) checkCount(what string, n int) error {
	if n < int(l.Min) || n > int(l.Max) {
		return fmt.Errorf("%s %d must be in %d-%d", what, n, l.Min, l.Max)
	}
	return nil
}

// Algorithm is a load_balancing.algorithm.type value.
type Algorithm string

const (
	AlgorithmRoundRobin       Algorithm = "round_robin"
	AlgorithmLeastOutstanding Algorithm = "least_outstanding_requests"
)

// Attribute keys understood by [ParseAttributes].
const (
	AttrDeregistrationDelay = "deregistration_delay.timeout_seconds"
	AttrSlowStart           = "slow_start.duration_seconds"
	AttrAlgorithm           = "load_balancing.algorithm.type"
)

// ignoredAttributes are accepted (and echoed back) but have no effect.
var ignoredAttributes = map[string]bool{
	"stickiness.enabled":                          true,
	"stickiness.type":                             true,
	"stickiness.lb_cookie.duration_seconds":       true,
	"stickiness.app_cookie.cookie_name":           true,
	"stickiness.app_cookie.duration_seconds":      true,
	"load_balancing.cross_zone.enabled":           true,
	"load_balancing.algorithm.anomaly_mitigation": true,
}

// HealthCheck is a target group's health-check configuration. Zero fields
// take the ELBv2 defaults (see [HealthCheck.WithDefaults]).
type HealthCheck struct {
	Protocol           string        // "HTTP" (the only one supported)
	Port               string        // TrafficPort or a port number
	Path               string        // default "/"
	Interval           time.Duration // IntervalLimit
	Timeout            time.Duration // TimeoutLimit, and < Interval
	HealthyThreshold   int           // HealthyThresholdLimit
	UnhealthyThreshold int           // UnhealthyThresholdLimit
	Matcher            string        // "200", "200,202", "200-299"; default "200"
}

// WithDefaults returns hc with every zero field set to its ELBv2 default.
func (hc HealthCheck) WithDefaults() HealthCheck {
	if hc.Protocol == "" {
		hc.Protocol = "HTTP"
	}
	if hc.Port == "" {
		hc.Port = TrafficPort
	}
	if hc.Path == "" {
		hc.Path = DefaultHealthCheckPath
	}
	if hc.Interval == 0 {
		hc.Interval = seconds(IntervalLimit.Default)
	}
	if hc.Timeout == 0 {
		hc.Timeout = seconds(TimeoutLimit.Default)
	}
	if hc.HealthyThreshold == 0 {
		hc.HealthyThreshold = int(HealthyThresholdLimit.Default)
	}
	if hc.UnhealthyThreshold == 0 {
		hc.UnhealthyThreshold = int(UnhealthyThresholdLimit.Default)
	}
	if hc.Matcher == "" {
		hc.Matcher = DefaultMatcher
	}
	return hc
}

// Validate checks hc (after defaults) against ELBv2's limits.
func (hc HealthCheck) Validate() error {
	hc = hc.WithDefaults()
	if !strings.EqualFold(hc.Protocol, "HTTP") {
		return fmt.Errorf("health check protocol %q is not supported (only HTTP)", hc.Protocol)
	}
	if hc.Port != TrafficPort {
		p, err := strconv.Atoi(hc.Port)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("health check port %q must be %q or 1-65535", hc.Port, TrafficPort)
		}
	}
	if !strings.HasPrefix(hc.Path, "/") || len(hc.Path) > MaxHealthCheckPathLength {
		return fmt.Errorf("health check path %q must start with / and be at most %d characters", hc.Path, MaxHealthCheckPathLength)
	}
	if err := IntervalLimit.checkSeconds("health check interval", hc.Interval); err != nil {
		return err
	}
	if err := TimeoutLimit.checkSeconds("health check timeout", hc.Timeout); err != nil {
		return err
	}
	if hc.Timeout >= hc.Interval {
		return fmt.Errorf("health check timeout %v must be smaller than the interval %v", hc.Timeout, hc.Interval)
	}
	if err := HealthyThresholdLimit.checkCount("healthy threshold", hc.HealthyThreshold); err != nil {
		return err
	}
	if err := UnhealthyThresholdLimit.checkCount("unhealthy threshold", hc.UnhealthyThreshold); err != nil {
		return err
	}
	if _, err := ParseMatcher(hc.Matcher); err != nil {
		return err
	}
	return nil
}

// Matcher is a parsed HTTP success-code matcher.
type Matcher struct {
	spec   string
	ranges [][2]int // inclusive
}

// ParseMatcher parses ELBv2's HttpCode forms: "200", "200,202",
// "200-299" and combinations ("200,300-399"). Codes must be in 200-499.
func ParseMatcher(s string) (Matcher, error) {
	m := Matcher{spec: s}
	if strings.TrimSpace(s) == "" {
		return m, fmt.Errorf("matcher is empty")
	}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseCode(lo)
		if err != nil {
			return m, fmt.Errorf("matcher %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseCode(hi); err != nil {
				return m, fmt.Errorf("matcher %q: %w", s, err)
			}
			if b < a {
				return m, fmt.Errorf("matcher %q: range %s is reversed", s, part)
			}
		}
		m.ranges = append(m.ranges, [2]int{a, b})
	}
	return m, nil
}

func parseCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an HTTP code", s)
	}
	if n < 200 || n > 499 {
		return 0, fmt.Errorf("HTTP code %d is outside 200-499", n)
	}
	return n, nil
}

// Match reports whether code is a success.
func (m Matcher) Match(code int) bool {
	for _, r := range m.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// String returns the matcher as written.
func (m Matcher) String() string { return m.spec }

// Attributes are a target group's typed attributes.
type Attributes struct {
	DeregistrationDelay time.Duration // 0–3600 s, default 300 s
	SlowStart           time.Duration // accepted, not applied
	Algorithm           Algorithm
	raw                 map[string]string
}

// DefaultAttributes returns the ELBv2 defaults.
func DefaultAttributes() Attributes {
	return Attributes{DeregistrationDelay: DefaultDeregistrationDelay, Algorithm: AlgorithmRoundRobin}
}

// ParseAttributes applies ELBv2 key/value attributes on top of base.
// Unknown keys are an error; stickiness and cross-zone keys are accepted and
// ignored.
func ParseAttributes(base Attributes, kv map[string]string) (Attributes, error) {
	a := base
	a.raw = maps.Clone(base.raw)
	if a.raw == nil {
		a.raw = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		v := kv[k]
		switch k {
		case AttrDeregistrationDelay:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 3600 {
				return base, fmt.Errorf("attribute %s=%q must be an integer in 0-3600", k, v)
			}
			a.DeregistrationDelay = time.Duration(n) * time.Second
		case AttrSlowStart:
			n, err := strconv.Atoi(v)
			if err != nil || (n != 0 && (n < 30 || n > 900)) {
				return base, fmt.Errorf("attribute %s=%q must be 0 or an integer in 30-900", k, v)
			}
			a.SlowStart = time.Duration(n) * time.Second
		case AttrAlgorithm:
			switch Algorithm(v) {
			case AlgorithmRoundRobin, AlgorithmLeastOutstanding:
				a.Algorithm = Algorithm(v)
			default:
				return base, fmt.Errorf("attribute %s=%q must be %s or %s", k, v, AlgorithmRoundRobin, AlgorithmLeastOutstanding)
			}
		default:
			if !ignoredAttributes[k] {
				return base, fmt.Errorf("attribute %q is not supported", k)
			}
		}
		a.raw[k] = v
	}
	return a, nil
}

// Map returns every attribute as ELBv2 key/value strings (the typed ones
// plus any accepted-but-ignored keys), for DescribeTargetGroupAttributes.
func (a Attributes) Map() map[string]string {
	m := maps.Clone(a.raw)
	if m == nil {
		m = map[string]string{}
	}
	m[AttrDeregistrationDelay] = strconv.Itoa(int(a.DeregistrationDelay / time.Second))
	m[AttrSlowStart] = strconv.Itoa(int(a.SlowStart / time.Second))
	alg := a.Algorithm
	if alg == "" {
		alg = AlgorithmRoundRobin
	}
	m[AttrAlgorithm] = string(alg)
	return m
}
