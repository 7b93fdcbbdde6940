package ecsapi

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecsdocument "github.com/aws/aws-sdk-go-v2/service/ecs/document"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// TargetPrefix is the X-Amz-Target prefix of ECS operations.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113"

// Config wires an API.
type Config struct {
	Store     *store.Store
	AccountID string
	Now       func() time.Time // defaults to time.Now
	Logger    *slog.Logger
	// TargetGroup looks up an ELBv2 target group by ARN for services'
	// loadBalancers: whether it exists and how many load balancers use
	// it. Nil means ecsd runs without a load balancer.
	TargetGroup func(arn string) (exists bool, loadBalancers int)
	// MaxTasksPerService is the highest desiredCount CreateService and
	// UpdateService accept (ECS's quota; rollout.DefaultMaxTasksPerService,
	// 5,000, when zero).
	MaxTasksPerService int32
}

// API answers ECS operations.
type API struct {
	cfg Config
	ops map[string]handler
	all map[string]bool // every operation in the ECS model

	regions sync.Map // regions whose default cluster exists
}

// Call is one request's context.
type Call struct {
	ecsmodel.Account // the request's region and the account that owns its resources
	Now              time.Time
}

type handler func(c *Call, body []byte) ([]byte, error)

// New returns the API over cfg.Store.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &API{cfg: cfg, all: modelOperations()}
	a.ops = map[string]handler{
		"CreateCluster":              op(a.createCluster),
		"DescribeClusters":           op(a.describeClusters),
		"ListClusters":               op(a.listClusters),
		"UpdateCluster":              op(a.updateCluster),
		"DeleteCluster":              op(a.deleteCluster),
		"RegisterTaskDefinition":     op(a.registerTaskDefinition),
		"DescribeTaskDefinition":     op(a.describeTaskDefinition),
		"ListTaskDefinitions":        op(a.listTaskDefinitions),
		"ListTaskDefinitionFamilies": op(a.listTaskDefinitionFamilies),
		"DeregisterTaskDefinition":   op(a.deregisterTaskDefinition),
		"DeleteTaskDefinitions":      op(a.deleteTaskDefinitions),
		"CreateService":              op(a.createService),
		"UpdateService":              op(a.updateService),
		"DescribeServices":           op(a.describeServices),
		"ListServices":               op(a.listServices),
		"DeleteService":              op(a.deleteService),
		"RunTask":                    op(a.runTask),
		"StopTask":                   op(a.stopTask),
		"DescribeTasks":              op(a.describeTasks),
		"ListTasks":                  op(a.listTasks),
		"TagResource":                op(a.tagResource),
		"UntagResource":              op(a.untagResource),
		"ListTagsForResource":        op(a.listTagsForResource),
		"ListServiceDeployments":     op(a.listServiceDeployments),
		"DescribeServiceDeployments": op(a.describeServiceDeployments),
	}
	return a
}

// Operations lists the operations ecsd implements.
func (a *API) Operations() []string {
	names := make([]string, 0, len(a.ops))
	for n := range a.ops {
		names = append(names, n)
	}
	return names
}

// Handle runs operation name with a JSON request body in region and returns
// the JSON response body.
func (a *API) Handle(ctx context.Context, region, name string, body []byte) ([]byte, error) {
	h, ok := a.ops[name]
	if !ok {
		if a.all[name] {
			return nil, awsproto.Errorf(unsupportedFeature, "ecsd does not support the ECS operation %s. Supported operations are listed in ecsd's README.", name)
		}
		return nil, &awsproto.Error{Type: awsproto.UnknownOperationException, Message: fmt.Sprintf("%s is not an operation of Amazon ECS.", name)}
	}
	if _, seen := a.regions.Load(region); !seen {
		if err := a.EnsureDefaultCluster(region); err != nil {
			return nil, fmt.Errorf("creating the default cluster of %s: %w", region, err)
		}
		a.regions.Store(region, true)
	}
	c := &Call{Account: ecsmodel.Account{Region: region, ID: a.cfg.AccountID}, Now: a.cfg.Now().UTC().Truncate(time.Millisecond)}
	return h(c, body)
}

var decodeOptions = awsproto.DecodeOptions{
	Document: func(v any) any { return ecsdocument.NewLazyDocument(v) },
}

// op adapts a typed operation to a handler: decode, run, encode.
func op[In any, Out smithy.Serializable](f func(c *Call, in *In) (Out, error)) handler {
	return func(c *Call, body []byte) ([]byte, error) {
		in := new(In)
		if err := awsproto.DecodeJSON(body, in, decodeOptions); err != nil {
			return nil, err
		}
		out, err := f(c, in)
		if err != nil {
			return nil, err
		}
		return awsproto.EncodeJSON(out)
	}
}

// modelOperations names every operation of the ECS API model, read off the
// SDK client's methods (each takes a *<Op>Input).
func modelOperations() map[string]bool {
	ops := map[string]bool{}
	t := reflect.TypeFor[*ecs.Client]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			ops[m.Name] = true
		}
	}
	return ops
}
