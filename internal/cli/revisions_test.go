package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRollbackTarget(t *testing.T) {
	for _, tc := range []struct {
		name, current string
		active        []string
		want          string // "" means an error
	}{
		{"previous", "web:3", []string{"web:1", "web:2", "web:3"}, "web:2"},
		{"skips deregistered revisions", "web:5", []string{"web:1", "web:3", "web:5"}, "web:3"},
		{"current already deregistered", "web:4", []string{"web:1", "web:2", "web:5"}, "web:2"},
		{"never a newer revision", "web:2", []string{"web:3", "web:4"}, ""},
		{"only the current one", "web:1", []string{"web:1"}, ""},
		{"other families ignored", "web:3", []string{"webapp:2", "web:1", "web:3"}, "web:1"},
		{"unordered input", "web:9", []string{"web:8", "web:2", "web:9", "web:7"}, "web:8"},
		{"not family:revision", "web", []string{"web:1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rollbackTarget(tc.current, tc.active)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRevisionsBeyond(t *testing.T) {
	active := []string{"web:1", "web:2", "web:3", "web:4", "web:5"}
	for _, tc := range []struct {
		name  string
		inUse map[string]string
		keeps int
		want  []string
	}{
		{"oldest go", nil, 2, []string{"web:1", "web:2", "web:3"}},
		{"in use never goes and is not counted", map[string]string{"web:1": "PRIMARY deployment", "web:4": "ACTIVE deployment"}, 1, []string{"web:2", "web:3"}},
		{"keeps more than there are", nil, 10, nil},
		{"all in use", map[string]string{"web:1": "x", "web:2": "x", "web:3": "x", "web:4": "x", "web:5": "x"}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := revisionsBeyond(active, tc.inUse, tc.keeps); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSortRevisionsIsNumeric(t *testing.T) {
	names := []string{"web:10", "web:9", "web:100", "web:1"}
	sortRevisions(names)
	if want := []string{"web:1", "web:9", "web:10", "web:100"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	if got := taskDefinitionName("arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"); got != "web:3" {
		t.Errorf("taskDefinitionName = %q", got)
	}
}

// runCLI runs ecsctl with no environment.
func runCLI(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(args, &out, &out, func(string) string { return "" })
	return code, out.String()
}

func TestDeregisterRefusesWithoutTerminalOrForce(t *testing.T) {
	old := stdinTerminal
	t.Cleanup(func() { stdinTerminal = old })
	stdinTerminal = func() (io.Reader, bool) { return strings.NewReader(""), false }

	code, out := runCLI("deregister", "--keeps", "2")
	if code != ExitError || !strings.Contains(out, "stdin is not a terminal; pass --force") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{
		{"deregister"},
		{"deregister", "--keeps", "1", "--revision", "3", "--force"},
		{"deregister", "--keeps", "-1", "--force"},
	} {
		if code, out := runCLI(args...); code != ExitError || !strings.Contains(out, "--") {
			t.Errorf("%v: exit %d:\n%s", args, code, out)
		}
	}
}

func TestConfirm(t *testing.T) {
	old := stdinTerminal
	t.Cleanup(func() { stdinTerminal = old })
	for answer, want := range map[string]bool{"y\n": true, "YES\n": true, "\n": false, "n\n": false, "sure\n": false} {
		stdinTerminal = func() (io.Reader, bool) { return strings.NewReader(answer), true }
		var stderr bytes.Buffer
		a := &app{stderr: &stderr}
		got, err := a.confirm("Deregister web:1?")
		if err != nil || got != want {
			t.Errorf("answer %q: got %v, %v; want %v", answer, got, err, want)
		}
		if stderr.String() != "Deregister web:1? [y/N] " {
			t.Errorf("prompt %q", stderr.String())
		}
	}
	stdinTerminal = func() (io.Reader, bool) { return strings.NewReader(""), true }
	if ok, err := (&app{stderr: io.Discard}).confirm("?"); ok || err == nil {
		t.Errorf("closed stdin: got %v, %v; want an error", ok, err)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ecspresso.yml")
	if err := os.WriteFile(cfg, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCLI("init", "--service", "web", "--config", cfg,
		"--task-definition-path", filepath.Join(dir, "td.json"), "--service-definition-path", filepath.Join(dir, "sd.json"))
	if code != ExitError || !strings.Contains(out, "not overwriting "+cfg) || !strings.Contains(out, "--force-overwrite") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != "mine\n" {
		t.Errorf("config was changed: %q", b)
	}
	if code, out := runCLI("init"); code != ExitError || !strings.Contains(out, "--service is required") {
		t.Fatalf("init without --service: exit %d:\n%s", code, out)
	}
}

func TestInitPaths(t *testing.T) {
	if got := withExt("ecspresso.yml", ".jsonnet", ".yml", ".yaml"); got != "ecspresso.jsonnet" {
		t.Errorf("withExt = %q", got)
	}
	if got := withExt("conf.json", ".jsonnet", ".yml", ".yaml"); got != "conf.json" {
		t.Errorf("withExt kept extension: %q", got)
	}
	for _, tc := range []struct{ config, target, want string }{
		{"ecspresso.yml", "ecs-task-def.json", "ecs-task-def.json"},
		{"deploy/ecspresso.yml", "deploy/td.json", "td.json"},
		{"deploy/ecspresso.yml", "td.json", "../td.json"},
		{"ecspresso.yml", "/abs/td.json", "/abs/td.json"},
		{"/abs/conf/ecspresso.yml", "/abs/conf/defs/td.json", "defs/td.json"},
	} {
		if got := relativeTo(tc.config, tc.target); got != tc.want {
			t.Errorf("relativeTo(%q, %q) = %q, want %q", tc.config, tc.target, got, tc.want)
		}
	}
}
