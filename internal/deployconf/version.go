package deployconf

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// version is a semantic version: numeric segments and a pre-release.
type version struct {
	seg [3]int64
	n   int // segments written (1-3)
	pre string
}

// parseVersion reads "v1", "1.2", "1.2.3", "1.2.3-rc.1", "1.2.3+build".
func parseVersion(s string) (version, error) {
	var v version
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.pre = s[i+1:]
		if v.pre == "" {
			return v, fmt.Errorf("empty pre-release in %q", s)
		}
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 || s == "" {
		return v, fmt.Errorf("%q is not a version like 2.1.0", s)
	}
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return v, fmt.Errorf("%q is not a version like 2.1.0", s)
		}
		v.seg[i] = n
	}
	v.n = len(parts)
	return v, nil
}

func (a version) compare(b version) int {
	for i := range a.seg {
		if c := cmp.Compare(a.seg[i], b.seg[i]); c != 0 {
			return c
		}
	}
	switch {
	case a.pre == b.pre:
		return 0
	case a.pre == "":
		return 1
	case b.pre == "":
		return -1
	}
	return comparePre(a.pre, b.pre)
}

// comparePre orders pre-releases per semver: dot-separated identifiers,
// numeric ones numerically and below alphanumeric ones.
func comparePre(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.ParseInt(as[i], 10, 64)
		bn, berr := strconv.ParseInt(bs[i], 10, 64)
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmp.Compare(an, bn)
		case aerr == nil:
			c = -1
		case berr == nil:
			c = 1
		default:
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// constraint is one comparison of a required_version, in the syntax of
// hashicorp/go-version that ecspresso uses: =, !=, >, >=, <, <=, ~>.
type constraint struct {
	op string
	v  version
}

func parseConstraints(s string) ([]constraint, error) {
	var out []constraint
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		op := ""
		for _, o := range []string{">=", "<=", "!=", "~>", "=", ">", "<"} {
			if strings.HasPrefix(part, o) {
				op = o
				break
			}
		}
		v, err := parseVersion(strings.TrimSpace(part[len(op):]))
		if err != nil {
			return nil, err
		}
		if op == "" {
			op = "="
		}
		out = append(out, constraint{op: op, v: v})
	}
	return out, nil
}

func (k constraint) check(v version) bool {
	// As in go-version, a pre-release only satisfies constraints that
	// name a pre-release of the same major.minor.patch.
	if v.pre != "" && (k.v.pre == "" || v.seg != k.v.seg) {
		return false
	}
	c := v.compare(k.v)
	switch k.op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case "~>":
		// "~> 2.1" allows >= 2.1, < 3; "~> 2.1.3" allows >= 2.1.3, < 2.2;
		// "~> 2" allows >= 2, < 3.
		if c < 0 {
			return false
		}
		last := max(k.v.n-2, 0)
		for i := 0; i <= last; i++ {
			if v.seg[i] != k.v.seg[i] {
				return false
			}
		}
		return true
	}
	return false
}
