package deployconf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// environment resolves template variables: envfile values first, then the
// lookup function.
type environment struct {
	files   map[string]string
	lookup0 func(string) (string, bool)
}

func newEnvironment(lookup func(string) (string, bool), envFiles []string) (*environment, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	e := &environment{files: map[string]string{}, lookup0: lookup}
	for _, f := range envFiles {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading envfile: %w", err)
		}
		vars, err := parseEnvFile(f, src)
		if err != nil {
			return nil, err
		}
		for k, v := range vars {
			e.files[k] = v
		}
	}
	return e, nil
}

func (e *environment) lookup(name string) (string, bool) {
	if v, ok := e.files[name]; ok {
		return v, true
	}
	return e.lookup0(name)
}

// parseEnvFile reads KEY=VALUE lines: blank lines and # comments are
// skipped, an "export " prefix is allowed, a value may be 'single quoted'
// (literal) or "double quoted" (with \n, \t, \", \\ escapes); an unquoted
// value ends at " #".
func parseEnvFile(name string, src []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvName(key) {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE with KEY made of letters, digits and _, got %q", name, n, sc.Text())
		}
		val = strings.TrimSpace(val)
		switch {
		case len(val) >= 2 && val[0] == '\'' && strings.LastIndexByte(val, '\'') > 0:
			end := strings.LastIndexByte(val, '\'')
			if rest := strings.TrimSpace(val[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
				return nil, fmt.Errorf("%s:%d: unexpected text %q after the quoted value of %s", name, n, rest, key)
			}
			val = val[1:end]
		case len(val) >= 1 && val[0] == '"':
			s, rest, err := unquoteDouble(val[1:])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: value of %s: %v", name, n, key, err)
			}
			if rest = strings.TrimSpace(rest); rest != "" && !strings.HasPrefix(rest, "#") {
				return nil, fmt.Errorf("%s:%d: unexpected text %q after the quoted value of %s", name, n, rest, key)
			}
			val = s
		default:
			if i := strings.Index(val, " #"); i >= 0 {
				val = strings.TrimSpace(val[:i])
			}
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading envfile %s: %w", name, err)
	}
	return out, nil
}

func unquoteDouble(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("unterminated escape")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("missing closing double quote")
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}
