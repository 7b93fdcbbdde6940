package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/controller"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/server"
	"github.com/ecsd/ecsd/internal/store"
)

// env is a real ecsd listener over a temporary store, with SDK clients.
type env struct {
	t       testing.TB
	store   *store.Store
	url     string
	client  *ecs.Client
	drainer *controller.Drainer
	model   *model
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := ecsapi.New(ecsapi.Config{Store: st, AccountID: "123456789012", Logger: logger, TargetGroup: targetGroups})
	if err := api.EnsureDefaultCluster("us-east-1"); err != nil {
		t.Fatal(err)
	}
	h := server.New("us-east-1", logger)
	h.HandleJSON(ecsapi.TargetPrefix, api)
	e := &env{t: t, store: st, drainer: controller.NewDrainer(st, logger), model: loadModel(t)}
	srv := httptest.NewServer(e.checkMembers(h))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.client = e.clientIn("us-east-1")
	return e
}

// clientIn is an SDK client that signs for region.
func (e *env) clientIn(region string) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// checkMembers checks every JSON response against the API model: each member
// ecsd emits must exist in the operation's output shape.
func (e *env) checkMembers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		if rec.Code != 200 {
			return
		}
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ecsapi.TargetPrefix+".")
		if err := e.model.check(op, rec.Body.Bytes()); err != nil {
			e.t.Errorf("%s answered a member the API model does not have: %v\n%s", op, err, rec.Body.Bytes())
		}
	})
}

// raw sends a hand-made request and returns status, error type and body.
func (e *env) raw(t testing.TB, target, body string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b
}

// errorType is the AWS error code of err, or "" if err is nil.
func errorType(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func wantError(t *testing.T, err error, typ string) {
	t.Helper()
	if got := errorType(err); got != typ {
		t.Fatalf("got error %q (%v), want %s", got, err, typ)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// snapshot is every record in the store, to prove a rejected call changed nothing.
func (e *env) snapshot() string {
	var b bytes.Buffer
	e.store.View(func(tx *store.Tx) error {
		for _, bk := range []store.Bucket{store.Clusters, store.TaskDefinitions, store.Families, store.Services, store.Tasks, store.ServiceDeployments} {
			tx.Scan(bk, "", "", func(k string, raw []byte) error {
				b.WriteString(string(bk) + " " + k + " " + string(raw) + "\n")
				return nil
			})
		}
		return nil
	})
	return b.String()
}

var ctx = context.Background()

// model is the ECS API model's shapes, stripped of documentation.
type model struct {
	Operations map[string]struct{ Input, Output string }
	Shapes     map[string]struct {
		Type    string
		Members map[string]struct{ Shape string }
		Member  *struct{ Shape string }
		Value   *struct{ Shape string }
	}
}

var (
	modelOnce sync.Once
	theModel  model
)

func loadModel(t testing.TB) *model {
	modelOnce.Do(func() {
		raw, err := os.ReadFile("testdata/ecs-model.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &theModel); err != nil {
			t.Fatal(err)
		}
	})
	return &theModel
}

func (m *model) check(op string, body []byte) error {
	o, ok := m.Operations[op]
	if !ok {
		return errors.New("unknown operation " + op)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return m.walk(o.Output, v, op)
}

func (m *model) walk(shape string, v any, path string) error {
	s, ok := m.Shapes[shape]
	if !ok {
		return nil // a primitive
	}
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return errors.New(path + ": not an object")
		}
		for k, mv := range obj {
			mem, ok := s.Members[k]
			if !ok {
				return errors.New(path + "." + k + " is not a member of " + shape)
			}
			if err := m.walk(mem.Shape, mv, path+"."+k); err != nil {
				return err
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return errors.New(path + ": not a list")
		}
		for _, it := range arr {
			if err := m.walk(s.Member.Shape, it, path+"[]"); err != nil {
				return err
			}
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return errors.New(path + ": not a map")
		}
		for k, it := range obj {
			if err := m.walk(s.Value.Shape, it, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Target groups the test ELB knows: web (used by one load balancer) and
// lonely (used by none).
const (
	webTG    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	lonelyTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lonely/0123456789abcdef"
)

func targetGroups(arn string) (bool, int) {
	switch arn {
	case webTG:
		return true, 1
	case lonelyTG:
		return true, 0
	}
	return false, 0
}
