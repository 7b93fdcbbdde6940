package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

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
