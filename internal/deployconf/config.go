package deployconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied by Load, as in ecspresso.
const (
	DefaultCluster = "default"
	DefaultTimeout = 10 * time.Minute
)

// Options tune Load.
type Options struct {
	// ExtStr and ExtCode are Jsonnet external variables (std.extVar),
	// like ecspresso's --ext-str and --ext-code.
	ExtStr  map[string]string
	ExtCode map[string]string
	// Env looks up an environment variable; os.LookupEnv when nil.
	Env func(name string) (string, bool)
	// EnvFiles are read in order before any template is rendered; their
	// KEY=VALUE lines override Env (a later file overrides an earlier one).
	// Relative paths are relative to the working directory.
	EnvFiles []string
	// Warn receives the warnings found while loading the config file. When
	// nil they are only kept in Config.Warnings.
	Warn func(msg string)
}

// Config is a loaded ecspresso-style config.
type Config struct {
	// Path is the config file as given to Load; Dir its directory.
	Path string
	Dir  string

	Region  string
	Cluster string
	Service string
	// ServiceDefinitionPath and TaskDefinitionPath are resolved against Dir
	// (absolute paths are kept). Either may be empty.
	ServiceDefinitionPath string
	TaskDefinitionPath    string
	Timeout               time.Duration
	RequiredVersion       string

	// Extra holds every key ecsctl does not use (plugins, appspec, ...),
	// as decoded from the file.
	Extra map[string]any
	// Warnings lists what Load reported through Options.Warn.
	Warnings []string

	env         *environment
	onWarn      func(string) // Options.Warn
	extStr      map[string]string
	extCode     map[string]string
	constraints []constraint
}

// Config file keys ecspresso knows but ecsctl ignores.
var ignoredKeys = map[string]string{
	"plugins":        "ecspresso plugins (tfstate, ssm, secretsmanager, cloudformation) are not supported by ecsctl",
	"appspec":        "CodeDeploy AppSpec hooks are not supported by ecsctl",
	"codedeploy":     "CodeDeploy deployments are not supported by ecsctl",
	"filter_command": "ecsctl has no interactive filter; the key is ignored",
	"ignore":         "ecsctl diff does not apply ignore rules; the key is ignored",
}

// Load reads the config file at path. See the package documentation for
// the file formats and keys.
func Load(path string, opts Options) (*Config, error) {
	env, err := newEnvironment(opts.Env, opts.EnvFiles)
	if err != nil {
		return nil, err
	}
	c := &Config{
		Path:    path,
		Dir:     filepath.Dir(path),
		env:     env,
		extStr:  opts.ExtStr,
		extCode: opts.ExtCode,
		onWarn:  opts.Warn,
	}
	doc, err := c.document()
	if err != nil {
		return nil, err
	}
	if err := c.readKeys(doc); err != nil {
		return nil, err
	}
	if c.Cluster == "" {
		c.Cluster = DefaultCluster
	}
	if c.Region == "" {
		c.Region, _ = env.lookup("AWS_REGION")
	}
	for _, p := range []*string{&c.ServiceDefinitionPath, &c.TaskDefinitionPath} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	if c.RequiredVersion != "" {
		if c.constraints, err = parseConstraints(c.RequiredVersion); err != nil {
			return nil, fmt.Errorf("%s: required_version %q is not a valid version constraint: %v; write it like \">= 2.0.0\" or \">= 2.1, < 3\"", path, c.RequiredVersion, err)
		}
	}
	return c, nil
}

// warn records a warning about the file (Warnings) and reports it
// (Options.Warn).
func (c *Config) warn(format string, args ...any) {
	msg := c.Path + ": " + fmt.Sprintf(format, args...)
	c.Warnings = append(c.Warnings, msg)
	if c.onWarn != nil {
		c.onWarn(msg)
	}
}

// document reads the file as its format says, templates rendered: the
// top-level object, empty for an empty file.
func (c *Config) document() (map[string]any, error) {
	path := c.Path
	var doc map[string]any
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yml", ".yaml":
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		out, err := c.renderTemplates(src)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			return nil, fmt.Errorf("%s: not valid YAML after rendering its templates: %v", path, err)
		}
	case ".json", ".jsonnet":
		// ecspresso evaluates JSON configs with Jsonnet too, then renders.
		js, err := c.evalJsonnet(path)
		if err != nil {
			return nil, err
		}
		out, err := c.renderTemplates([]byte(js))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object after rendering its templates: %v", path, err)
		}
	default:
		return nil, fmt.Errorf("%s: unsupported config file extension %q; use .yml, .yaml, .json or .jsonnet", path, ext)
	}
	if doc == nil {
		doc = map[string]any{} // an empty file
	}
	return doc, nil
}

// renderTemplates renders the file's templates, warning about what rendering
// reported.
func (c *Config) renderTemplates(src []byte) ([]byte, error) {
	out, warns, err := render(c.Path, src, c.env)
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		c.warn("%s", w)
	}
	return out, nil
}

// readKeys reads the keys ecsctl knows from doc and keeps the others in
// Extra, warning about each.
func (c *Config) readKeys(doc map[string]any) error {
	str := func(key string) (string, error) {
		v, ok := doc[key]
		if !ok || v == nil {
			return "", nil
		}
		switch s := v.(type) {
		case string:
			return s, nil
		case int, int64, uint64, float64, bool:
			// YAML reads `service: 123` as a number; accept it as text.
			return fmt.Sprint(s), nil
		}
		return "", fmt.Errorf("%s: key %q must be a string, not %s", c.Path, key, kindOf(v))
	}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"region", &c.Region},
		{"cluster", &c.Cluster},
		{"service", &c.Service},
		{"service_definition", &c.ServiceDefinitionPath},
		{"task_definition", &c.TaskDefinitionPath},
		{"required_version", &c.RequiredVersion},
	} {
		if *f.dst, err = str(f.key); err != nil {
			return err
		}
	}
	if c.Timeout, err = parseTimeout(doc["timeout"], func(msg string) { c.warn("%s", msg) }); err != nil {
		return fmt.Errorf("%s: key \"timeout\": %v", c.Path, err)
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "region", "cluster", "service", "service_definition", "task_definition", "timeout", "required_version":
			continue
		}
		if c.Extra == nil {
			c.Extra = map[string]any{}
		}
		c.Extra[k] = doc[k]
		if why, ok := ignoredKeys[k]; ok {
			c.warn("key %q ignored: %s", k, why)
		} else {
			c.warn("unknown key %q ignored; ecsctl reads region, cluster, service, service_definition, task_definition, timeout and required_version", k)
		}
	}
	return nil
}

// parseTimeout reads ecspresso's timeout: a Go duration string ("10m",
// "1h30m"), or a number of seconds (a number or a digits-only string).
func parseTimeout(v any, warn func(string)) (time.Duration, error) {
	var d time.Duration
	switch x := v.(type) {
	case nil:
		return DefaultTimeout, nil
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			d = secondsDuration(float64(n))
			break
		}
		var err error
		if d, err = time.ParseDuration(x); err != nil {
			return 0, fmt.Errorf("%q is not a duration; write it like \"10m\" or \"90s\"", x)
		}
	case int:
		d = secondsDuration(float64(x))
		warn(fmt.Sprintf("timeout %v has no unit and is read as %s; write it as %q to be explicit (ecspresso v2 read bare JSON numbers as nanoseconds)", x, d, d.String()))
	case float64:
		d = secondsDuration(x)
		warn(fmt.Sprintf("timeout %v has no unit and is read as %s; write it as %q to be explicit (ecspresso v2 read bare JSON numbers as nanoseconds)", x, d, d.String()))
	default:
		return 0, fmt.Errorf("must be a duration string like \"10m\", not %s", kindOf(v))
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %s", d)
	}
	return d, nil
}

func secondsDuration(s float64) time.Duration {
	if s >= float64(math.MaxInt64/int64(time.Second)) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64, json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// CheckVersion reports whether version v satisfies the config's
// required_version. As in ecspresso, a version that does not parse (a
// development build such as "current") is accepted.
func (c *Config) CheckVersion(v string) error {
	if len(c.constraints) == 0 {
		return nil
	}
	ver, err := parseVersion(v)
	if err != nil {
		return nil
	}
	for _, k := range c.constraints {
		if !k.check(ver) {
			return fmt.Errorf("%s: ecsctl version %s does not satisfy required_version %q; use an ecsctl that does, or change required_version", c.Path, v, c.RequiredVersion)
		}
	}
	return nil
}

// syntaxLocation turns a byte offset into "line L, column C: <line text>".
func syntaxLocation(src []byte, off int64) string {
	if off < 0 || off > int64(len(src)) {
		return ""
	}
	before := src[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	end := bytes.IndexByte(src[start:], '\n')
	if end < 0 {
		end = len(src) - start
	}
	text := strings.TrimSpace(string(src[start : start+end]))
	if len(text) > 120 {
		text = text[:120] + "..."
	}
	return fmt.Sprintf("line %d, column %d: %s", line, int(off)-start+1, text)
}
