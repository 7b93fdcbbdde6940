package benchkit

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// NewECSClient is an ECS client of the ecsd at endpoint: static
// credentials, no retries (a failure is a finding), request bodies held in
// memory.
func NewECSClient(endpoint, region string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDBENCHEXAMPLE", "bench-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: bufferedBody{http.DefaultTransport.(*http.Transport).Clone()}},
	})
}

// bufferedBody hands the transport a copy of each request body held in
// memory. Without it, about one DescribeTasks in 30 whose reply is larger
// than ~4 KB fails on loopback with "deserialization failed, read tcp ...:
// use of closed network connection": the SDK (smithy-go ClientHandler)
// closes the request body as soon as the response headers arrive, while the
// transport's write loop may still be finishing the request; the write loop
// then fails and closes the connection under the response still being read
// (aws/aws-sdk-go-v2#2737; the SDK's remedy is to retry net.ErrClosed, which
// RetryMaxAttempts 1 turns off). With an in-memory body the race is gone.
type bufferedBody struct{ rt http.RoundTripper }

func (b bufferedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		req.ContentLength = int64(len(data))
	}
	return b.rt.RoundTrip(req)
}

// Failures prints the failures of an ECS reply.
func Failures(fs []types.Failure) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
