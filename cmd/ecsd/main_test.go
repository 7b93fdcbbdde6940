package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/demoapp"
	"github.com/ecsd/ecsd/internal/ecsdproc"
)

// ecsdBin is ecsd built for the tests, once: a static binary, as a
// release is, so the docker runtime can put it in the demo image.
var ecsdBin string

func TestMain(m *testing.M) {
	var err error
	if ecsdBin, err = ecsdproc.Build(""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The tests mostly wait on real processes (ecsd, task workloads, the
	// aws CLI), not on the CPU: run them all at once, not GOMAXPROCS at a
	// time, unless -parallel says otherwise.
	ecsdproc.ParallelTests(16)
	os.Exit(m.Run())
}

// ecsdProcess is an ecsd running as a child process.
type ecsdProcess struct{ *ecsdproc.Proc }

// startECSD runs ecsd for the test with o: in t.TempDir() unless o says
// otherwise, on the fake runtime unless o names another (so tests that only
// need the API start no real workload), with account 123456789012. When
// the test ends its tasks are stopped, then ecsd.
func startECSD(t *testing.T, o ecsdproc.Options) ecsdProcess {
	t.Helper()
	o.Bin = ecsdBin
	if o.Runtime == "" {
		o.Runtime = "fake"
	}
	o.Args = append([]string{"--account-id", "123456789012"}, o.Args...)
	return ecsdProcess{ecsdproc.StartTest(t, o)}
}

// restart starts the killed ecsd again on its address and data dir.
func (p ecsdProcess) restart(t *testing.T) {
	t.Helper()
	if err := p.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (p ecsdProcess) client() *ecs.Client { return ecs.NewFromConfig(p.AWSConfig()) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Everything acknowledged before a SIGKILL is there after a restart.
func TestDurableAcrossKill(t *testing.T) {
	t.Parallel()
	// fsync on: durability is what this tests.
	p := startECSD(t, ecsdproc.Options{})
	c := p.client()
	ctx := context.Background()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	check(err)
	for i := range 3 {
		_, err = c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family:               aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fmt.Sprintf("img:%d", i)), Memory: aws.Int32(64)}},
		})
		check(err)
	}
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web:2"), DesiredCount: aws.Int32(2)})
	check(err)
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:3")})
	check(err)
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web:1"), Count: aws.Int32(2)})
	check(err)
	before, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	check(err)

	p.Kill()
	p.restart(t)
	c = p.client()
	clusters, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod"}, Include: []types.ClusterField{types.ClusterFieldTags}})
	check(err)
	if len(clusters.Clusters) != 1 || len(clusters.Clusters[0].Tags) != 1 || clusters.Clusters[0].ActiveServicesCount != 1 {
		t.Fatalf("cluster after restart: %+v", clusters)
	}
	tds, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")})
	check(err)
	if len(tds.TaskDefinitionArns) != 3 {
		t.Fatalf("task definitions after restart: %v", tds.TaskDefinitionArns)
	}
	after, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	check(err)
	b, a := before.Services[0], after.Services[0]
	// The scheduler keeps working across the restart, so deployments may
	// have moved on; the PRIMARY one is the same.
	if len(a.Deployments) == 0 || aws.ToString(a.Deployments[0].Id) != aws.ToString(b.Deployments[0].Id) ||
		aws.ToString(a.TaskDefinition) != aws.ToString(b.TaskDefinition) || !a.CreatedAt.Equal(*b.CreatedAt) {
		t.Fatalf("service after restart:\nbefore %+v\nafter  %+v", b, a)
	}
	var arns []string
	for _, task := range run.Tasks {
		arns = append(arns, aws.ToString(task.TaskArn))
	}
	tasks, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: arns})
	check(err)
	if len(tasks.Tasks) != 2 || len(tasks.Failures) != 0 {
		t.Fatalf("tasks after restart: %+v", tasks)
	}
	sds, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	check(err)
	if len(sds.ServiceDeployments) != 2 {
		t.Fatalf("service deployments after restart: %+v", sds.ServiceDeployments)
	}
	// The next revision continues the count.
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img:4"), Memory: aws.Int32(64)}},
	})
	check(err)
	if reg.TaskDefinition.Revision != 4 {
		t.Fatalf("revision after restart: %d", reg.TaskDefinition.Revision)
	}
}

// A second ecsd on the same data dir refuses to start, and says why.
func TestDataDirInUse(t *testing.T) {
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{NoFsync: true})
	cmd := exec.Command(ecsdBin, "server", "--listen", freeAddr(t), "--data-dir", p.DataDir, "--runtime", "fake")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another ecsd") {
		t.Fatalf("second ecsd: %v %s", err, out)
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	var out, errOut strings.Builder
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ecsd ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	t.Setenv("ECSD_ACCOUNT_ID", "12")
	errOut.Reset()
	if code := run([]string{"server", "--data-dir", t.TempDir()}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "12 digits") {
		t.Fatalf("bad account from env: %d %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"server", "--account-id", "123456789012", "--runtime", "bogus"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "use auto, docker, process or fake") {
		t.Fatalf("bad --runtime: %d %s", code, errOut.String())
	}
	if code := run([]string{"bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}

// SIGTERM shuts ecsd down cleanly with exit code 0.
func TestCleanShutdown(t *testing.T) {
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{NoFsync: true})
	if err := p.Stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// At start ecsd says how long tasks without health checks take to count as
// healthy, then prints the lines that point AWS clients at it; pasted into
// a shell they work (the aws CLI lists the clusters).
func TestStartPrintsHealthyAfterAndExports(t *testing.T) {
	t.Parallel()
	p := startECSD(t, ecsdproc.Options{})
	addr := p.Addr
	want := "# Point AWS clients (aws CLI, SDKs, ecspresso, ecsctl) at this ecsd, every service:\n" +
		"export AWS_ENDPOINT_URL=http://" + addr + "\n" +
		"export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1\n" +
		"export AWS_ACCESS_KEY_ID=ecsd AWS_SECRET_ACCESS_KEY=ecsd\n"
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // the lines follow the listen
		if logs = p.Logs(); strings.Contains(logs, want) {
			break
		}
	}
	listening := strings.Index(logs, `msg="ecsd listening"`)
	note := strings.Index(logs, "count as healthy after 40s of RUNNING, as on ECS; for faster local rollouts pass --healthy-after 5s (or ECSD_HEALTHY_AFTER=5s)")
	exports := strings.Index(logs, want)
	if listening < 0 || note < listening || exports < note {
		t.Fatalf("want the listening line, the healthy-after note, then the export lines:\n%s", logs)
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	script := "unset AWS_ENDPOINT_URL_ECS AWS_PROFILE\n" + want + "aws ecs list-clusters --output text\n"
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cluster/default") {
		t.Fatalf("the pasted lines do not reach ecsd: %v\n%s", err, out)
	}
}

func TestHealthyAfterNote(t *testing.T) {
	if got := healthyAfterNote(40 * time.Second); !strings.Contains(got, "after 40s of RUNNING, as on ECS") || !strings.Contains(got, "--healthy-after 5s") {
		t.Errorf("default: %q", got)
	}
	if got := healthyAfterNote(time.Second); !strings.Contains(got, "after 1s of RUNNING (ECS: 40s; --healthy-after, ECSD_HEALTHY_AFTER)") {
		t.Errorf("lowered: %q", got)
	}
}

func TestClientEndpoint(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5440": "http://127.0.0.1:5440",
		"0.0.0.0:5440":   "http://127.0.0.1:5440",
		"[::]:5440":      "http://127.0.0.1:5440",
		"[::1]:5440":     "http://[::1]:5440",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientEndpoint(tcp); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}

// `ecsd --help`, `ecsd -h`, `ecsd help`: every command, one line each
// (testdata/help.txt; UPDATE_GOLDEN=1 rewrites it).
func TestHelpListsEveryCommand(t *testing.T) {
	var out, errOut strings.Builder
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || errOut.Len() != 0 {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut.String())
	}
	help := out.String()
	for _, args := range [][]string{{"-h"}, {"help"}, {"help", "help"}} {
		var o strings.Builder
		if code := run(args, &o, &errOut); code != 0 || o.String() != help {
			t.Errorf("ecsd %v: exit %d, or another help than --help", args, code)
		}
	}
	const golden = "testdata/help.txt"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, []byte(help), 0o644)
	}
	if want, _ := os.ReadFile(golden); help != string(want) {
		t.Errorf("ecsd --help differs from %s (UPDATE_GOLDEN=1 to accept):\n%s", golden, help)
	}
	for _, c := range commandList {
		if !strings.Contains(help, "  "+c.name+" ") {
			t.Errorf("the help lacks %s", c.name)
		}
		if c.name == "help" || c.name == "demoapp" {
			continue // demoapp prints on the process's stdout: TestDemoappHelp
		}
		var o, e strings.Builder
		if code := run([]string{"help", c.name}, &o, &e); code != 0 || o.Len() == 0 || e.Len() != 0 {
			t.Errorf("ecsd help %s: exit %d, stdout %q, stderr %q", c.name, code, o.String(), e.String())
		}
	}
}

// `ecsd server --help` and `ecsd demo --help` describe the command and
// every flag, on stdout; a bad flag says what was wrong, with the same
// help, on stderr.
func TestCommandFlagsHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"server", []string{"listen", "data-dir", "region", "account-id", "runtime", "healthy-after", "start-backoff", "start-backoff-max", "log-level"}},
		{"demo", []string{"runtime", "port"}},
	} {
		var out, errOut strings.Builder
		if code := run([]string{tc.cmd, "--help"}, &out, &errOut); code != 0 || errOut.Len() != 0 {
			t.Fatalf("%s --help: exit %d, stderr %q", tc.cmd, code, errOut.String())
		}
		help := out.String()
		var viaHelp strings.Builder
		run([]string{"help", tc.cmd}, &viaHelp, &errOut)
		if viaHelp.String() != help {
			t.Errorf("'ecsd help %s' differs from 'ecsd %s --help'", tc.cmd, tc.cmd)
		}
		if !strings.HasPrefix(help, "Usage: ecsd "+tc.cmd+" [flags]\n\n") {
			t.Errorf("%s --help does not start with its usage line:\n%s", tc.cmd, help)
		}
		lines := strings.Split(help, "\n")
		for _, f := range tc.flags {
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  -"+f+" ") || l == "  -"+f })
			if i < 0 || i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) == "" {
				t.Errorf("%s --help: --%s has no description", tc.cmd, f)
			}
		}
		out.Reset()
		errOut.Reset()
		if code := run([]string{tc.cmd, "--bogus"}, &out, &errOut); code != 2 || out.Len() != 0 ||
			!strings.Contains(errOut.String(), "flag provided but not defined: -bogus") || !strings.Contains(errOut.String(), "Usage: ecsd "+tc.cmd) {
			t.Errorf("%s --bogus: exit %d, stdout %q, stderr %q", tc.cmd, code, out.String(), errOut.String())
		}
	}
}

// `ecsd demoapp --help` (and `ecsd help demoapp`) list every setting.
func TestDemoappHelp(t *testing.T) {
	var want bytes.Buffer
	demoapp.Usage(&want)
	for _, args := range [][]string{{"demoapp", "--help"}, {"help", "demoapp"}} {
		out, err := exec.Command(ecsdBin, args...).Output()
		if err != nil || string(out) != want.String() {
			t.Errorf("ecsd %v: %v\n%s", args, err, out)
		}
	}
	for _, s := range demoapp.Settings {
		if !strings.Contains(want.String(), s.Name) {
			t.Errorf("the demoapp help lacks %s", s.Name)
		}
	}
}
