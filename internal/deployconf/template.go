package deployconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// render executes src as a Go template with ecspresso's functions, as
// kayac/go-config does (no data: {{ .x }} renders "<no value>").
func render(name string, src []byte, env *environment) ([]byte, []string, error) {
	var warns []string
	funcs := template.FuncMap{
		// go-config: every argument but the last is an environment
		// variable; the first non-empty one wins. The last argument is
		// also tried as a variable name, and is the result when all are
		// empty.
		"env": func(keys ...string) (string, error) {
			if len(keys) == 0 {
				return "", fmt.Errorf(`env needs a variable name: {{ env "NAME" "default" }}`)
			}
			for _, k := range keys {
				if v, _ := env.lookup(k); v != "" {
					return v, nil
				}
			}
			if len(keys) == 1 {
				warns = append(warns, fmt.Sprintf(`{{ env %q }}: %s is not set, and like ecspresso this renders the name itself, %q; give a default ({{ env %q "" }}) or use must_env`, keys[0], keys[0], keys[0], keys[0]))
			}
			return keys[len(keys)-1], nil
		},
		"must_env": func(key string) (string, error) {
			if v, ok := env.lookup(key); ok {
				return v, nil
			}
			return "", fmt.Errorf("environment variable %s is not set; set it, put it in an --envfile, or use {{ env %q \"default\" }}", key, key)
		},
		"json_escape": func(s string) string {
			b, _ := json.Marshal(s)
			return string(b[1 : len(b)-1])
		},
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=default").Parse(string(src))
	if err != nil {
		return nil, nil, templateError(name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		return nil, nil, templateError(name, err)
	}
	return buf.Bytes(), warns, nil
}

var undefinedFunc = regexp.MustCompile(`function "([^"]+)" not defined`)

// pluginFuncs are template functions ecspresso plugins add.
var pluginFuncs = map[string]bool{
	"tfstate": true, "tfstatef": true, "ssm": true, "ssm_list": true,
	"secretsmanager_arn": true, "cfn_output": true, "cfn_export": true,
}

func templateError(name string, err error) error {
	msg := err.Error()
	if m := undefinedFunc.FindStringSubmatch(msg); m != nil {
		fn := m[1]
		if pluginFuncs[fn] || strings.Contains(fn, "tfstate") || strings.HasPrefix(fn, "ssm") {
			return fmt.Errorf("%s: template uses %q, an ecspresso plugin function ecsctl does not support; replace it with a literal value or {{ env \"NAME\" }} / {{ must_env \"NAME\" }}: %w", name, fn, err)
		}
		return fmt.Errorf("%s: template uses unknown function %q; the functions available are env, must_env and json_escape: %w", name, fn, err)
	}
	if strings.Contains(msg, `\"`) || strings.Contains(msg, "unexpected \"\\\\\"") {
		return fmt.Errorf("%s: template error: %w (inside a JSON string write {{ env `NAME` }} with backquotes, not escaped double quotes)", name, err)
	}
	// text/template errors already start with "template: <name>:<line>:...".
	return fmt.Errorf("%s: rendering template failed: %w", name, err)
}
