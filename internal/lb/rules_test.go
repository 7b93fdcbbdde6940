package lb

import (
	"net/http/httptest"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"/api/*", "/api/users", true},
		{"/api/*", "/api/", true},
		{"/api/*", "/api", false},
		{"/api/*", "/apix/users", false},
		{"/img/*.png", "/img/a/b.png", true},
		{"/img/*.png", "/img/a.jpg", false},
		{"/v?/x", "/v1/x", true},
		{"/v?/x", "/v10/x", false},
		{"*", "", true},
		{"/", "/", true},
		{"/a*b*c", "/aXbYbZc", true},
		{"/a*b*c", "/aXbYbZ", false},
		{"/API/*", "/api/x", false}, // path patterns are case-sensitive
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func TestRouteTable(t *testing.T) {
	api, web, admin, def := FixedResponse{Body: "api"}, FixedResponse{Body: "web"}, FixedResponse{Body: "admin"}, FixedResponse{Body: "default"}
	rt, err := newRouteTable([]Rule{
		{Priority: 20, Conditions: []Condition{PathPattern{"/api/*"}}, Action: api},
		{Priority: 10, Conditions: []Condition{HostHeader{"admin.example.com"}, PathPattern{"/api/*", "/admin*"}}, Action: admin},
		{Priority: 30, Conditions: []Condition{HostHeader{"*.example.com"}}, Action: web},
	}, def)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, path, want string
	}{
		{"admin.example.com", "/api/x", "admin"},      // priority 10 before 20
		{"ADMIN.Example.com:8080", "/admin", "admin"}, // host case-insensitive, port ignored
		{"admin.example.com", "/other", "web"},        // AND of conditions fails, falls to 30
		{"localhost", "/api/x", "api"},
		{"www.example.com", "/", "web"},
		{"example.com", "/", "default"},
		{"localhost", "/api?x=/api/", "default"}, // query is not part of the path
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
		if got := rt.route(r).(FixedResponse).Body; got != tt.want {
			t.Errorf("%s%s routed to %s, want %s", tt.host, tt.path, got, tt.want)
		}
	}
	for _, bad := range [][]Rule{
		{{Priority: 1, Conditions: []Condition{PathPattern{"/"}}, Action: api}, {Priority: 1, Conditions: []Condition{PathPattern{"/"}}, Action: api}},
		{{Priority: 0, Conditions: []Condition{PathPattern{"/"}}, Action: api}},
		{{Priority: 1, Action: api}},
		{{Priority: 1, Conditions: []Condition{PathPattern{"/"}}}},
	} {
		if _, err := newRouteTable(bad, def); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := newRouteTable(nil, nil); err == nil {
		t.Error("accepted a listener without default action")
	}
}

func TestForwardWeights(t *testing.T) {
	mk := func(name string) *TargetGroup {
		tg, err := NewTargetGroup(TargetGroupConfig{Name: name}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	blue, green, off := mk("blue"), mk("green"), mk("off")
	f, err := NewForward(WeightedTargetGroup{blue, 9}, WeightedTargetGroup{green, 1}, WeightedTargetGroup{off, 0})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for i := range 1000 {
		n[f.pick().Name()]++
		if i == 9 && n["green"] != 1 {
			t.Fatalf("first 10 picks: %v, want exactly 1 green", n)
		}
	}
	if n["blue"] != 900 || n["green"] != 100 || n["off"] != 0 {
		t.Fatalf("1000 picks: %v, want 900/100/0", n)
	}
	zero, _ := NewForward(WeightedTargetGroup{blue, 0}, WeightedTargetGroup{green, 0})
	if zero.pick() != nil {
		t.Fatal("all-zero weights picked a group")
	}
	single, _ := NewForward(WeightedTargetGroup{Group: blue})
	if single.pick() != blue {
		t.Fatal("single group with weight 0 means weight 1")
	}
	for _, bad := range [][]WeightedTargetGroup{nil, {{blue, 1000}}, {{blue, -1}}, {{nil, 1}}} {
		if _, err := NewForward(bad...); err == nil {
			t.Errorf("NewForward(%v) accepted", bad)
		}
	}
}
