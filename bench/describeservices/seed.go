package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const (
	region  = "us-east-1"
	cluster = "bench"
	family  = "bench"
)

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// seed creates, through the ECS API, the cluster, the task definition and n
// services with desiredCount 0, using `workers` concurrent CreateService calls.
func seed(ctx context.Context, endpoint string, n, workers int) error {
	client := ecs.New(ecs.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCHEXAMPLE", "bench-secret", ""),
	})
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return fmt.Errorf("CreateCluster: %w", err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:      aws.String("app"),
			Image:     aws.String("ecsd/demoapp"),
			Memory:    aws.Int32(128),
			Essential: aws.Bool(true),
		}},
	})
	if err != nil {
		return fmt.Errorf("RegisterTaskDefinition: %w", err)
	}
	tdArn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
					Cluster:        aws.String(cluster),
					ServiceName:    aws.String(serviceName(i)),
					TaskDefinition: aws.String(tdArn),
					DesiredCount:   aws.Int32(0),
				})
				if err != nil {
					errc <- fmt.Errorf("CreateService %s: %w", serviceName(i), err)
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}
