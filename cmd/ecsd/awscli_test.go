package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestAWSCLIEndToEnd runs scripts/e2e-awscli.sh: the real aws CLI against a
// real ecsd process. .ci/run installs the aws CLI; elsewhere the test skips
// when it is missing.
func TestAWSCLIEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (.ci/run installs it); skipping the end-to-end script")
	}
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end script")
	}
	t.Parallel()
	cmd := exec.Command("bash", "../../scripts/e2e-awscli.sh")
	cmd.Env = append(os.Environ(), "ECSD_BIN="+ecsdBin, "ECSD_UNSAFE_NO_FSYNC=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("e2e-awscli.sh: %v", err)
	}
}
