package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// hostPolicy decides which Host headers name this ecsd: loopback names
// always, the listen address, and the allowed hosts. Refusing every other
// name keeps DNS rebinding out: a web page whose own name an attacker
// re-points at 127.0.0.1 still sends that name as its Host.
type hostPolicy struct {
	listen     string          // the listen address, for messages
	listenHost string          // its host, normalized
	local      map[string]bool // when listening on every address: this machine's IP addresses
	exact      map[string]bool // allowed names
	suffixes   []string        // allowed ".domain" suffixes (from "*.domain")
	anyHost    bool            // "*" is allowed
}

func newHostPolicy(listen string, allowed []string) (hostPolicy, error) {
	p := hostPolicy{listen: listen, exact: map[string]bool{}}
	host := listen
	if h, _, err := net.SplitHostPort(listen); err == nil {
		host = h
	}
	p.listenHost = normalizeHost(host)
	if ip := net.ParseIP(p.listenHost); p.listenHost == "" || ip != nil && ip.IsUnspecified() {
		// Listening on every address: each of this machine's addresses is
		// the listen address.
		p.local = map[string]bool{}
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				p.local[n.IP.String()] = true
			}
		}
	}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "":
		case a == "*":
			p.anyHost = true
		case strings.ContainsAny(a, "/ ") || strings.Count(a, ":") == 1:
			return hostPolicy{}, fmt.Errorf("allowed host %q: give a host name or IP address, without scheme or port", a)
		case strings.HasPrefix(a, "*."):
			p.suffixes = append(p.suffixes, a[1:])
		default:
			p.exact[normalizeHost(a)] = true
		}
	}
	return p, nil
}

// normalizeHost lower-cases a host name and drops IPv6 brackets and a
// trailing dot.
func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.Trim(strings.ToLower(h), "[]"), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

// check refuses a Host header that does not name this ecsd.
func (p hostPolicy) check(hostHeader string) *awsproto.Error {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	name := normalizeHost(host)
	if name == "" || p.anyHost || p.allowed(name) {
		return nil
	}
	return &awsproto.Error{Type: awsproto.AccessDeniedException, Status: http.StatusForbidden, Message: fmt.Sprintf(
		"Host %q does not name this ecsd: it answers requests addressed to its listen address (%s) or to a loopback name (localhost, 127.0.0.1, [::1]), "+
			"so that a web page cannot reach it by re-pointing its own DNS name (DNS rebinding). "+
			"To reach ecsd by this name, start it with --allowed-hosts %s (env ECSD_ALLOWED_HOSTS).",
		hostHeader, p.listen, host)}
}

func (p hostPolicy) allowed(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") || name == p.listenHost || p.exact[name] {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && (ip.IsLoopback() || p.local[ip.String()]) {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}
