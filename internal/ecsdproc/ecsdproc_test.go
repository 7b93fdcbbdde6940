package ecsdproc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// A started ecsd answers; killed it does not; restarted on the same
// address and data dir it has its state; stopped it exits cleanly.
func TestStartKillRestartStop(t *testing.T) {
	bin, err := Build("")
	if err != nil {
		t.Fatal(err)
	}
	p := StartTest(t, Options{Bin: bin, Runtime: "fake", NoFsync: true})
	ctx := context.Background()
	c := ecs.NewFromConfig(p.AWSConfig())
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("kept")}); err != nil {
		t.Fatalf("CreateCluster: %v\n%s", err, p.Logs())
	}

	p.Kill()
	if p.Alive() {
		t.Fatal("alive after Kill")
	}
	if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err == nil {
		t.Fatal("a killed ecsd answered")
	}
	addr := p.Addr
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Addr != addr {
		t.Fatalf("restarted on %s, was %s", p.Addr, addr)
	}
	out, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"kept"}})
	if err != nil || len(out.Clusters) != 1 {
		t.Fatalf("cluster after restart: %v %+v", err, out)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !strings.Contains(p.Logs(), "ecsd listening") || strings.Count(p.Logs(), "ecsd listening") != 2 {
		t.Fatalf("logs of both runs:\n%s", p.Logs())
	}
}

// An ecsd that cannot start is an error with its log.
func TestStartFailureSaysWhy(t *testing.T) {
	bin, err := Build("")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Options{Bin: bin, DataDir: t.TempDir(), Runtime: "no-such-runtime"})
	if err == nil || !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "no-such-runtime") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Start(context.Background(), Options{Bin: bin}); err == nil || errors.Is(err, ErrKilled) {
		t.Fatalf("no data dir: %v", err)
	}
}
