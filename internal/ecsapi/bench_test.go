package ecsapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/store"
)

// BenchmarkDescribeServices describes 10 services out of 1,000 in the store,
// calling the operation directly (no HTTP); bench/describeservices measures
// the whole server against moto.
func BenchmarkDescribeServices(b *testing.B) {
	e := newEnv(b)
	registerTD(b, e, "web", "img")
	for i := range 1000 {
		must[*ecs.CreateServiceOutput](b)(e.client.CreateService(ctx, &ecs.CreateServiceInput{
			ServiceName: aws.String(fmt.Sprintf("svc-%04d", i)), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(0),
		}))
	}
	api := ecsapi.New(ecsapi.Config{Store: e.store, AccountID: "123456789012", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	bodies := make([][]byte, 100)
	for i := range bodies {
		var names []string
		for j := range 10 {
			names = append(names, fmt.Sprintf(`"svc-%04d"`, (i*10+j)%1000))
		}
		bodies[i] = []byte(`{"services":[` + strings.Join(names, ",") + `]}`)
	}
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := api.Handle(context.Background(), "us-east-1", "DescribeServices", bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = store.Services
