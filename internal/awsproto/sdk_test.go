package awsproto_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
)

// The SDK's own awsJson 1.1 protocol: what real clients use. Tests use it as
// the reference our encoder and decoder must agree with.
var (
	sdkProtocol = awsjson.New11(smithy.NewServiceSchema(
		smithy.NewSchema(smithy.ShapeID{Namespace: "test", Name: "Service"}, smithy.ShapeTypeService, 0), "1"))
	sdkOperation = smithy.NewOperationSchema(
		smithy.NewSchema(smithy.ShapeID{Namespace: "test", Name: "Op"}, smithy.ShapeTypeOperation, 0),
		smithy.NewSchema(smithy.ShapeID{Namespace: "test", Name: "In"}, smithy.ShapeTypeStructure, 0),
		smithy.NewSchema(smithy.ShapeID{Namespace: "test", Name: "Out"}, smithy.ShapeTypeStructure, 0))
)

// sdkSerialize is what an SDK client sends for v.
func sdkSerialize(t *testing.T, v smithy.Serializable) []byte {
	t.Helper()
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	if err := sdkProtocol.SerializeRequest(context.Background(), sdkOperation, v, req); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.GetStream())
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// sdkDeserialize reads body as an SDK client reads a response into out.
func sdkDeserialize(t *testing.T, body []byte, out smithy.Deserializable) {
	t.Helper()
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}}}
	if err := sdkProtocol.DeserializeResponse(context.Background(), sdkOperation, nil, resp, out); err != nil {
		t.Fatalf("the SDK cannot read %s: %v", body, err)
	}
}
