package lb

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Condition is a rule condition. Values within one condition are ORed; the
// conditions of a rule are ANDed.
type Condition interface {
	Match(r *http.Request) bool
}

var (
	_ Condition = PathPattern(nil)
	_ Condition = HostHeader(nil)
)

// PathPattern matches the request path (case-sensitive, query excluded)
// against ELBv2 patterns: '*' matches any run of characters, '?' exactly
// one.
type PathPattern []string

// Match implements [Condition].
func (p PathPattern) Match(r *http.Request) bool {
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	for _, pat := range p {
		if wildcardMatch(pat, path) {
			return true
		}
	}
	return false
}

// HostHeader matches the Host header without its port, case-insensitively,
// with the same wildcards as [PathPattern].
type HostHeader []string

// Match implements [Condition].
func (h HostHeader) Match(r *http.Request) bool {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.ToLower(host)
	for _, pat := range h {
		if wildcardMatch(strings.ToLower(pat), host) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pat, where '*' matches any
// sequence (including empty) and '?' any single byte. Iterative with
// backtracking to the last star: O(len(pat)*len(s)) worst case.
func wildcardMatch(pat, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && (pat[p] == '?' || pat[p] == s[i]):
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// Action is what a rule (or the default) does with a request.
type Action interface{ action() }

// WeightedTargetGroup is one entry of a forward action.
type WeightedTargetGroup struct {
	Group  *TargetGroup
	Weight int // 0–999; 0 receives nothing
}

// Forward sends requests to target groups in proportion to their weights,
// by smooth weighted round robin: over any sum-of-weights consecutive
// requests each group gets exactly its weight, interleaved. Build it with
// [NewForward].
type Forward struct {
	groups []WeightedTargetGroup
	total  int
	mu     sync.Mutex
	cur    []int
}

func (*Forward) action() {}

// NewForward validates weights and returns a forward action. A single
// group may be given with weight 0, meaning 1 (ELBv2 TargetGroupArn form).
func NewForward(groups ...WeightedTargetGroup) (*Forward, error) {
	if len(groups) == 0 || len(groups) > 5 {
		return nil, fmt.Errorf("forward action needs 1-5 target groups, got %d", len(groups))
	}
	f := &Forward{groups: slices.Clone(groups), cur: make([]int, len(groups))}
	if len(groups) == 1 && groups[0].Weight == 0 {
		f.groups[0].Weight = 1
	}
	for _, g := range f.groups {
		if g.Group == nil {
			return nil, fmt.Errorf("forward action has a nil target group")
		}
		if g.Weight < 0 || g.Weight > 999 {
			return nil, fmt.Errorf("forward weight %d for %s must be in 0-999", g.Weight, g.Group.Name())
		}
		f.total += g.Weight
	}
	return f, nil
}

// Groups returns the weighted groups.
func (f *Forward) Groups() []WeightedTargetGroup { return slices.Clone(f.groups) }

// pick returns the next group, nil when every weight is 0.
func (f *Forward) pick() *TargetGroup {
	if len(f.groups) == 1 {
		return f.groups[0].Group
	}
	if f.total == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	best := -1
	for i, g := range f.groups {
		f.cur[i] += g.Weight
		if g.Weight > 0 && (best < 0 || f.cur[i] > f.cur[best]) {
			best = i
		}
	}
	f.cur[best] -= f.total
	return f.groups[best].Group
}

// FixedResponse answers without a target.
type FixedResponse struct {
	StatusCode  int
	ContentType string // default text/plain; charset=utf-8
	Body        string
}

func (FixedResponse) action() {}

// Rule is a listener rule.
type Rule struct {
	Priority   int // 1–50000, unique per listener; lower is evaluated first
	Conditions []Condition
	Action     Action
}

func (r Rule) match(req *http.Request) bool {
	for _, c := range r.Conditions {
		if !c.Match(req) {
			return false
		}
	}
	return true
}

// routeTable is an immutable, sorted rule set.
type routeTable struct {
	rules []Rule
	def   Action
}

func newRouteTable(rules []Rule, def Action) (*routeTable, error) {
	if def == nil {
		return nil, fmt.Errorf("listener needs a default action")
	}
	rs := slices.Clone(rules)
	slices.SortStableFunc(rs, func(a, b Rule) int { return a.Priority - b.Priority })
	for i, r := range rs {
		if r.Priority < 1 || r.Priority > 50000 {
			return nil, fmt.Errorf("rule priority %d must be in 1-50000", r.Priority)
		}
		if i > 0 && rs[i-1].Priority == r.Priority {
			return nil, fmt.Errorf("rule priority %d is used twice", r.Priority)
		}
		if r.Action == nil {
			return nil, fmt.Errorf("rule %d has no action", r.Priority)
		}
		if len(r.Conditions) == 0 {
			return nil, fmt.Errorf("rule %d has no conditions", r.Priority)
		}
	}
	return &routeTable{rules: rs, def: def}, nil
}

func (rt *routeTable) route(req *http.Request) Action {
	for _, r := range rt.rules {
		if r.match(req) {
			return r.Action
		}
	}
	return rt.def
}
