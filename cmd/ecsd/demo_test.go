package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestDemo runs `ecsd demo` as a new user would (on the process runtime,
// which every machine has): it must end as expected and clean up.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping real workloads")
	}
	t.Parallel()
	addr := freeAddr(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cmd := exec.Command(ecsdBin, "demo", "--runtime", "process", "--port", port)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("ecsd demo: %v\n%s", err, out.String())
	}
	summary := out.String()[strings.Index(out.String(), "==> Summary"):]
	t.Logf("%s", summary)
	if n := strings.Count(summary, "as expected"); n != 3 || strings.Contains(summary, "NOT as expected") {
		t.Errorf("want 3 steps as expected:\n%s", summary)
	}
	for _, want := range []string{"0 failed; answers: v1", "v2×", "exit 2  as expected", "task-definition/demo:2", "everything the demo made is gone"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}
