package ecsapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestDefaultClusterExists(t *testing.T) {
	e := newEnv(t)
	out := must[*ecs.DescribeClustersOutput](t)(e.client.DescribeClusters(ctx, &ecs.DescribeClustersInput{}))
	if len(out.Clusters) != 1 || aws.ToString(out.Clusters[0].ClusterArn) != "arn:aws:ecs:us-east-1:123456789012:cluster/default" {
		t.Fatalf("default cluster: %+v %+v", out.Clusters, out.Failures)
	}
}

func TestClusterLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.client
	created := must[*ecs.CreateClusterOutput](t)(c.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String("prod"),
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})).Cluster
	if aws.ToString(created.Status) != "ACTIVE" || aws.ToString(created.ClusterArn) != "arn:aws:ecs:us-east-1:123456789012:cluster/prod" {
		t.Fatalf("created %+v", created)
	}
	// Creating it again returns the same cluster.
	again := must[*ecs.CreateClusterOutput](t)(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).Cluster
	if aws.ToString(again.ClusterArn) != aws.ToString(created.ClusterArn) {
		t.Fatalf("second create: %+v", again)
	}

	desc := must[*ecs.DescribeClustersOutput](t)(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{"prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "nope"},
		Include:  []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings, types.ClusterFieldStatistics},
	}))
	if len(desc.Clusters) != 2 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" ||
		aws.ToString(desc.Failures[0].Arn) != "arn:aws:ecs:us-east-1:123456789012:cluster/nope" {
		t.Fatalf("describe: %+v %+v", desc.Clusters, desc.Failures)
	}
	cl := desc.Clusters[0]
	if len(cl.Tags) != 1 || len(cl.Settings) != 1 || cl.Settings[0].Name != types.ClusterSettingNameContainerInsights || len(cl.Statistics) == 0 {
		t.Fatalf("include: %+v", cl)
	}
	plain := must[*ecs.DescribeClustersOutput](t)(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod"}}))
	if plain.Clusters[0].Tags != nil || plain.Clusters[0].Settings != nil {
		t.Fatalf("tags or settings without include: %+v", plain.Clusters[0])
	}

	upd := must[*ecs.UpdateClusterOutput](t)(c.UpdateCluster(ctx, &ecs.UpdateClusterInput{
		Cluster:  aws.String("prod"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
	})).Cluster
	if aws.ToString(upd.Settings[0].Value) != "enabled" {
		t.Fatalf("update: %+v", upd.Settings)
	}

	del := must[*ecs.DeleteClusterOutput](t)(c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod")})).Cluster
	if aws.ToString(del.Status) != "INACTIVE" {
		t.Fatalf("delete: %+v", del)
	}
	_, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod")})
	wantError(t, err, "ClusterNotFoundException")
	list := must[*ecs.ListClustersOutput](t)(c.ListClusters(ctx, &ecs.ListClustersInput{}))
	if len(list.ClusterArns) != 1 {
		t.Fatalf("an INACTIVE cluster is listed: %v", list.ClusterArns)
	}
}

func TestClusterValidationChangesNothing(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot()
	for _, tc := range []struct {
		in   *ecs.CreateClusterInput
		want string
	}{
		{&ecs.CreateClusterInput{ClusterName: aws.String("bad name")}, "InvalidParameterException"},
		{&ecs.CreateClusterInput{ClusterName: aws.String(strings.Repeat("a", 256))}, "InvalidParameterException"},
		{&ecs.CreateClusterInput{ClusterName: aws.String("ok"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}, "InvalidParameterException"},
		{&ecs.CreateClusterInput{ClusterName: aws.String("ok"), Settings: []types.ClusterSetting{{Name: "containerInsights", Value: aws.String("maybe")}}}, "InvalidParameterException"},
		{&ecs.CreateClusterInput{ClusterName: aws.String("ok"), CapacityProviders: []string{"FARGATE"}}, "UnsupportedFeatureException"},
	} {
		_, err := e.client.CreateCluster(ctx, tc.in)
		wantError(t, err, tc.want)
	}
	_, err := e.client.UpdateCluster(ctx, &ecs.UpdateClusterInput{Cluster: aws.String("missing")})
	wantError(t, err, "ClusterNotFoundException")
	_, err = e.client.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(101)})
	wantError(t, err, "InvalidParameterException")
	if after := e.snapshot(); after != before {
		t.Fatalf("rejected calls changed the store:\nbefore %s\nafter %s", before, after)
	}
}

func TestListClustersPaginates(t *testing.T) {
	e := newEnv(t)
	for i := range 6 {
		must[*ecs.CreateClusterOutput](t)(e.client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("c%d", i))}))
	}
	var all []string
	p := ecs.NewListClustersPaginator(e.client, &ecs.ListClustersInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := must[*ecs.ListClustersOutput](t)(p.NextPage(ctx))
		if len(out.ClusterArns) > 2 {
			t.Fatalf("page of %d", len(out.ClusterArns))
		}
		all = append(all, out.ClusterArns...)
		pages++
	}
	if len(all) != 7 || pages != 4 {
		t.Fatalf("%d clusters in %d pages: %v", len(all), pages, all)
	}
	_, err := e.client.ListClusters(ctx, &ecs.ListClustersInput{NextToken: aws.String("!!!")})
	wantError(t, err, "InvalidParameterException")
}

func TestRegionsAreSeparate(t *testing.T) {
	e := newEnv(t)
	must[*ecs.CreateClusterOutput](t)(e.client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("east-only")}))
	eu := e.clientIn("eu-west-3")
	list := must[*ecs.ListClustersOutput](t)(eu.ListClusters(ctx, &ecs.ListClustersInput{}))
	if len(list.ClusterArns) != 1 || list.ClusterArns[0] != "arn:aws:ecs:eu-west-3:123456789012:cluster/default" {
		t.Fatalf("eu-west-3 sees %v", list.ClusterArns)
	}
	d := must[*ecs.DescribeClustersOutput](t)(eu.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"east-only", "arn:aws:ecs:us-east-1:123456789012:cluster/east-only"}}))
	if len(d.Clusters) != 0 || len(d.Failures) != 2 {
		t.Fatalf("eu-west-3 describes us-east-1's cluster: %+v", d)
	}
}
