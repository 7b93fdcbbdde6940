package ecsapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, target, body string
		status             int
		typ                string
	}{
		{"malformed JSON", "AmazonEC2ContainerServiceV20141113.ListClusters", `{"maxResults":`, 400, "SerializationException"},
		{"wrong member type", "AmazonEC2ContainerServiceV20141113.ListClusters", `{"maxResults":"ten"}`, 400, "SerializationException"},
		{"unknown operation", "AmazonEC2ContainerServiceV20141113.MakeCoffee", `{}`, 400, "UnknownOperationException"},
		{"unknown service", "AWSLambda.Invoke", `{}`, 400, "UnknownOperationException"},
		{"no target", "", `{}`, 400, "UnknownOperationException"},
		{"unsupported operation", "AmazonEC2ContainerServiceV20141113.CreateCapacityProvider", `{}`, 400, "UnsupportedFeatureException"},
		{"too large", "AmazonEC2ContainerServiceV20141113.ListClusters", `{"x":"` + strings.Repeat("a", 9<<20) + `"}`, 413, "RequestEntityTooLargeException"},
		{"duplicate member", "AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName":"a","clusterName":"b"}`, 400, "SerializationException"},
		{"duplicate nested member", "AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName":"c","tags":[{"key":"k","value":"v","key":"x"}]}`, 400, "SerializationException"},
		{"invalid UTF-8", "AmazonEC2ContainerServiceV20141113.CreateCluster", "{\"clusterName\":\"caf\xe9\"}", 400, "SerializationException"},
		{"bad region", "AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName":"d"}`, 400, "InvalidSignatureException"},
	} {
		var status int
		var typ string
		var body []byte
		if tc.name == "bad region" {
			status, typ, body = e.rawWithAuth(t, tc.target, tc.body, "AWS4-HMAC-SHA256 Credential=AKID/20250101/<script>/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
		} else {
			status, typ, body = e.raw(t, tc.target, tc.body)
		}
		var shape struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &shape); err != nil {
			t.Errorf("%s: body is not JSON: %s", tc.name, body)
			continue
		}
		if status != tc.status || typ != tc.typ || shape.Type != tc.typ || shape.Message == "" {
			t.Errorf("%s: got %d %s %+v, want %d %s", tc.name, status, typ, shape, tc.status, tc.typ)
		}
	}
	// Refused requests changed nothing.
	clusters, err := e.client.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(clusters.ClusterArns) != 1 {
		t.Errorf("after the refused requests: %v %v, want only the default cluster", clusters, err)
	}
	// An empty body is an empty request, as the SDK sends for no members.
	if status, _, body := e.raw(t, "AmazonEC2ContainerServiceV20141113.ListClusters", ""); status != 200 {
		t.Errorf("empty body: %d %s", status, body)
	}
	// Operations ecsd does not support name themselves in the error.
	_, err = e.client.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("default"), Service: aws.String("x"), TaskDefinition: aws.String("y")})
	if errorType(err) != "UnsupportedFeatureException" || !strings.Contains(err.Error(), "CreateTaskSet") {
		t.Errorf("unsupported operation: %v", err)
	}
}

// A request body that is not an object for the operation's input is always
// answered with an AWS error shape, never a panic or a 500.
func FuzzHandleRequest(f *testing.F) {
	e := newEnv(f)
	ops := []string{"CreateService", "RegisterTaskDefinition", "RunTask", "ListTasks", "DescribeServices", "TagResource", "UpdateService"}
	for _, s := range []string{`{}`, `{"serviceName":"a","taskDefinition":"b","desiredCount":1}`, `{"family":"x","containerDefinitions":[{"name":"a","image":"b","memory":1}]}`, `[`, `{"tags":[{}]}`, `{"services":["a"]}`} {
		for i := range ops {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		status, typ, resp := e.raw(t, ecsTarget(ops[int(op)%len(ops)]), string(body))
		if status == 200 {
			return
		}
		if status >= 500 || typ == "" || !json.Valid(resp) {
			t.Fatalf("status %d type %q body %s", status, typ, resp)
		}
	})
}

func ecsTarget(op string) string { return "AmazonEC2ContainerServiceV20141113." + op }
