package deployconf

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecsd/ecsd/internal/awsproto"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// envOf is an Options.Env over a fixed map.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

type golden struct {
	Config            map[string]any  `json:"config"`
	ConfigWarnings    []string        `json:"configWarnings"`
	TaskDefinition    json.RawMessage `json:"taskDefinition"`
	TaskWarnings      []string        `json:"taskDefinitionWarnings"`
	ServiceDefinition json.RawMessage `json:"serviceDefinition"`
	ServiceWarnings   []string        `json:"serviceDefinitionWarnings"`
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		config string
		opts   Options
	}{
		{
			name:   "yaml",
			config: "testdata/yaml/ecspresso.yml",
			opts: Options{Env: envOf(map[string]string{
				"CLUSTER":   "prod",
				"IMAGE_TAG": "2024.06.01-abc123",
				"GREETING":  "say \"hello\"\n<world> & co",
			})},
		},
		{
			name:   "json",
			config: "testdata/json/ecspresso.json",
			opts: Options{
				Env:     envOf(map[string]string{"IMAGE_TAG": "sha-deadbeef", "AWS_REGION": "us-west-2"}),
				ExtStr:  map[string]string{"env": "staging"},
				ExtCode: map[string]string{"replicas": "1 + 2", "debug": "true"},
			},
		},
		{
			name:   "jsonnet",
			config: "testdata/jsonnet/ecspresso.jsonnet",
			opts: Options{
				Env:    envOf(map[string]string{"QUEUES": "critical,default \"low\""}),
				ExtStr: map[string]string{"stage": "qa"},
			},
		},
		{
			name:   "envfile",
			config: "testdata/envfile/ecspresso.yaml",
			opts: Options{
				// The envfile overrides the environment.
				Env:      envOf(map[string]string{"CLUSTER": "from-env", "DESIRED_COUNT": "4"}),
				EnvFiles: []string{"testdata/envfile/app.env"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sunk []string
			tc.opts.Warn = func(m string) { sunk = append(sunk, m) }
			c, err := Load(tc.config, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(sunk, "\n") != strings.Join(c.Warnings, "\n") {
				t.Errorf("Warn sink got %q, Config.Warnings %q", sunk, c.Warnings)
			}
			g := golden{
				Config: map[string]any{
					"region":             c.Region,
					"cluster":            c.Cluster,
					"service":            c.Service,
					"service_definition": filepath.ToSlash(c.ServiceDefinitionPath),
					"task_definition":    filepath.ToSlash(c.TaskDefinitionPath),
					"timeout":            c.Timeout.String(),
					"required_version":   c.RequiredVersion,
					"extra":              c.Extra,
				},
				ConfigWarnings: c.Warnings,
			}
			td, tw, err := c.TaskDefinition()
			if err != nil {
				t.Fatal(err)
			}
			g.TaskDefinition = encode(t, td)
			g.TaskWarnings = tw
			sd, sw, err := c.ServiceDefinition()
			if err != nil {
				t.Fatal(err)
			}
			g.ServiceDefinition = encode(t, sd)
			g.ServiceWarnings = sw

			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output (go test -update rewrites it); got:\n%s", path, got)
			}
		})
	}
}

func encode(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := awsproto.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// write creates files in a temporary directory and returns its path.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDefaultsAndPaths(t *testing.T) {
	dir := write(t, map[string]string{
		"ecspresso.yml": "task_definition: td.json\nservice_definition: /abs/sd.json\n",
	})
	c, err := Load(filepath.Join(dir, "ecspresso.yml"), Options{Env: envOf(map[string]string{"AWS_REGION": "ap-southeast-2"})})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != "default" || c.Timeout != 10*time.Minute || c.Region != "ap-southeast-2" {
		t.Errorf("defaults: cluster %q timeout %s region %q", c.Cluster, c.Timeout, c.Region)
	}
	if c.TaskDefinitionPath != filepath.Join(dir, "td.json") || c.ServiceDefinitionPath != "/abs/sd.json" {
		t.Errorf("paths: %q %q", c.TaskDefinitionPath, c.ServiceDefinitionPath)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestTemplateFuncs(t *testing.T) {
	env := &environment{files: map[string]string{}, lookup0: envOf(map[string]string{
		"SET": "v", "EMPTY": "", "ALT": "alt", "Q": `a"b\c` + "\n<&>",
	})}
	for _, tc := range []struct{ tmpl, want string }{
		{`{{ env "SET" "d" }}`, "v"},
		{`{{ env "UNSET" "d" }}`, "d"},
		{`{{ env "EMPTY" "d" }}`, "d"}, // empty counts as unset, as in ecspresso
		{`{{ env "UNSET" "ALT" "d" }}`, "alt"},
		{`{{ env "UNSET" "" }}`, ""},
		{`{{ must_env "EMPTY" }}`, ""}, // set but empty is fine
		{`{{ must_env "SET" }}`, "v"},
		{`{{ env "Q" | json_escape }}`, `a\"b\\c\n\u003c\u0026\u003e`},
		{`{{ json_escape "tab\there" }}`, `tab\there`},
		{`{{ .missing }}`, "<no value>"},
	} {
		out, warns, err := render("t", []byte(tc.tmpl), env)
		if err != nil {
			t.Errorf("%s: %v", tc.tmpl, err)
			continue
		}
		if string(out) != tc.want || len(warns) != 0 {
			t.Errorf("%s = %q (warnings %q), want %q", tc.tmpl, out, warns, tc.want)
		}
	}
	// ecspresso renders a lone unset env as its name; we do too, with a warning.
	out, warns, err := render("t", []byte(`{{ env "UNSET" }}`), env)
	if err != nil || string(out) != "UNSET" || len(warns) != 1 {
		t.Errorf("lone env: %q %q %v", out, warns, err)
	}
}

func TestEnvFile(t *testing.T) {
	got, err := parseEnvFile("x.env", []byte("A=1\n\n# c\nexport B = two words # note\nC='lit $X # not comment'\nD=\"q\\\"\\n\"\nE=\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": "lit $X # not comment", "D": "q\"\n", "E": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	_, err = parseEnvFile("x.env", []byte("A=1\nnot a pair\n"))
	if err == nil || !strings.Contains(err.Error(), "x.env:2:") {
		t.Errorf("bad line error = %v", err)
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
		warn bool
	}{
		{"timeout: 90s", 90 * time.Second, false},
		{"timeout: 1h30m", 90 * time.Minute, false},
		{`timeout: "600"`, 10 * time.Minute, false},
		{"timeout: 600", 10 * time.Minute, true},
	} {
		dir := write(t, map[string]string{"c.yml": tc.src})
		c, err := Load(filepath.Join(dir, "c.yml"), Options{Env: envOf(nil)})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if c.Timeout != tc.want || (len(c.Warnings) > 0) != tc.warn {
			t.Errorf("%s: timeout %s warnings %q", tc.src, c.Timeout, c.Warnings)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		constraint string
		ok, bad    []string
	}{
		{">= 2.0.0", []string{"2.0.0", "v2.3.1", "10.0.0", "current"}, []string{"1.9.9", "2.0.0-rc.1"}},
		{">= 2.1, < 3", []string{"2.1.0", "2.9.9"}, []string{"3.0.0", "2.0.5"}},
		{"~> 2.1", []string{"2.1.0", "2.8.0"}, []string{"3.0.0", "2.0.9"}},
		{"~> 2.1.3", []string{"2.1.3", "2.1.9"}, []string{"2.2.0", "2.1.2"}},
		{"!= 2.2.0", []string{"2.2.1"}, []string{"2.2.0"}},
		{"2.4.0", []string{"2.4.0"}, []string{"2.4.1"}},
	} {
		cs, err := parseConstraints(tc.constraint)
		if err != nil {
			t.Fatalf("%s: %v", tc.constraint, err)
		}
		c := &Config{Path: "c.yml", RequiredVersion: tc.constraint, constraints: cs}
		for _, v := range tc.ok {
			if err := c.CheckVersion(v); err != nil {
				t.Errorf("%s with %s: %v", tc.constraint, v, err)
			}
		}
		for _, v := range tc.bad {
			if err := c.CheckVersion(v); err == nil {
				t.Errorf("%s accepted %s", tc.constraint, v)
			}
		}
	}
}

// TestErrors checks that errors say what is wrong, where, and what to do.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  Options
		load  bool // the error comes from Load, not from a definition
		def   string
		want  []string
	}{
		{
			name:  "must_env unset",
			files: map[string]string{"ecspresso.yml": "cluster: {{ must_env \"CLUSTER\" }}\n"},
			load:  true,
			want:  []string{"ecspresso.yml", ":1:", "CLUSTER is not set", "envfile"},
		},
		{
			name:  "bad extension",
			files: map[string]string{"ecspresso.toml": ""},
			load:  true,
			want:  []string{"ecspresso.toml", `".toml"`, ".yml, .yaml, .json or .jsonnet"},
		},
		{
			name:  "plugin function",
			files: map[string]string{"ecspresso.yml": "task_definition: td.json\n", "td.json": `{"family": "{{ tfstate "aws_x.y" }}"}`},
			def:   "task",
			want:  []string{"td.json", `"tfstate"`, "plugin function"},
		},
		{
			name:  "bad required_version",
			files: map[string]string{"ecspresso.yml": "required_version: '>= two'\n"},
			load:  true,
			want:  []string{"ecspresso.yml", "required_version", `">= 2.0.0"`},
		},
		{
			name:  "bad timeout",
			files: map[string]string{"ecspresso.yml": "timeout: soon\n"},
			load:  true,
			want:  []string{"ecspresso.yml", `"timeout"`, `"10m"`},
		},
		{
			name: "wrong member type",
			files: map[string]string{
				"ecspresso.yml": "task_definition: td.json\n",
				"td.json":       `{"family":"x","containerDefinitions":[{"name":"a","portMappings":[{"containerPort":"80"}]}]}`,
			},
			def:  "task",
			want: []string{"td.json", "containerDefinitions[0].portMappings[0].containerPort", "must be a number", "RegisterTaskDefinition"},
		},
		{
			name: "json syntax",
			files: map[string]string{
				"ecspresso.yml": "task_definition: td.json\n",
				"td.json":       "{\n  \"family\": \"x\",\n  \"cpu\": {{ env `CPU` `256` }}\n  \"memory\": \"512\"\n}\n",
			},
			def:  "task",
			want: []string{"td.json", "line 4", `"memory"`},
		},
		{
			name: "jsonnet ext var missing",
			files: map[string]string{
				"ecspresso.yml": "service: s\nservice_definition: sd.jsonnet\n",
				"sd.jsonnet":    "{ desiredCount: std.extVar('replicas') }",
			},
			def:  "service",
			want: []string{"sd.jsonnet", "replicas", "--ext-str"},
		},
		{
			name:  "no task definition",
			files: map[string]string{"ecspresso.yml": "service: s\n"},
			def:   "task",
			want:  []string{"ecspresso.yml", "task_definition is not set"},
		},
		{
			name:  "missing family",
			files: map[string]string{"ecspresso.yml": "task_definition: td.json\n", "td.json": `{"containerDefinitions":[{"name":"a"}]}`},
			def:   "task",
			want:  []string{"td.json", "family"},
		},
		{
			name:  "escaped quotes in JSON config",
			files: map[string]string{"ecspresso.json": `{"cluster": "{{ env \"C\" \"d\" }}"}`},
			load:  true,
			want:  []string{"ecspresso.json", "backquotes"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, tc.files)
			var cfg string
			for name := range tc.files {
				if strings.HasPrefix(name, "ecspresso.") {
					cfg = filepath.Join(dir, name)
				}
			}
			if tc.opts.Env == nil {
				tc.opts.Env = envOf(nil)
			}
			c, err := Load(cfg, tc.opts)
			if !tc.load {
				if err != nil {
					t.Fatal(err)
				}
				switch tc.def {
				case "task":
					_, _, err = c.TaskDefinition()
				case "service":
					_, _, err = c.ServiceDefinition()
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestUnknownMemberWarnings(t *testing.T) {
	dir := write(t, map[string]string{
		"ecspresso.yml": "service: s\ntask_definition: td.json\nservice_definition: sd.json\n",
		"td.json":       `{"family":"x","containerDefinitions":[{"name":"a","image":"i","healthcheck":{"comand":["CMD"]}}],"foo":1}`,
		"sd.json":       `{"desiredCount":1,"deploymentConfiguration":{"circuitBreaker":{}},"taskDefinition":"x:1"}`,
	})
	c, err := Load(filepath.Join(dir, "ecspresso.yml"), Options{Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, warns, err := c.TaskDefinition()
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warns, "\n")
	for _, w := range []string{"containerDefinitions[0].healthcheck.comand", "member foo "} {
		if !strings.Contains(joined, w) {
			t.Errorf("task warnings %q lack %q", warns, w)
		}
	}
	sd, warns, err := c.ServiceDefinition()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(warns, "\n"), "deploymentConfiguration.circuitBreaker") {
		t.Errorf("service warnings %q", warns)
	}
	if *sd.ServiceName != "s" || *sd.Cluster != "default" || *sd.TaskDefinition != "x:1" {
		t.Errorf("service %q cluster %q taskDefinition %q", *sd.ServiceName, *sd.Cluster, *sd.TaskDefinition)
	}
}

func TestEnvFileDoesNotTouchProcessEnv(t *testing.T) {
	dir := write(t, map[string]string{
		"e.env":         "DEPLOYCONF_TEST_ONLY=1\n",
		"ecspresso.yml": "cluster: c{{ must_env `DEPLOYCONF_TEST_ONLY` }}\n",
	})
	c, err := Load(filepath.Join(dir, "ecspresso.yml"), Options{EnvFiles: []string{filepath.Join(dir, "e.env")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != "c1" {
		t.Errorf("cluster %q", c.Cluster)
	}
	if _, ok := os.LookupEnv("DEPLOYCONF_TEST_ONLY"); ok {
		t.Error("envfile leaked into the process environment")
	}
}
