package autoscalingapi

import (
	"context"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// TargetPrefix is the X-Amz-Target prefix of Application Auto Scaling
// operations.
const TargetPrefix = "AnyScaleFrontendService"

// API answers Application Auto Scaling operations.
type API struct {
	ops map[string]handler
	all map[string]bool // every operation in the model
}

type handler func(body []byte) ([]byte, error)

// New returns the API.
func New() *API {
	return &API{
		all: modelOperations(),
		ops: map[string]handler{
			"DescribeScalableTargets":   op(describeScalableTargets),
			"DescribeScalingPolicies":   op(describeScalingPolicies),
			"DescribeScheduledActions":  op(describeScheduledActions),
			"DescribeScalingActivities": op(describeScalingActivities),
		},
	}
}

// Handle runs operation name with a JSON request body and returns the JSON
// response body. The region does not matter: ecsd has no scalable targets
// in any region.
func (a *API) Handle(_ context.Context, _ /* region */, name string, body []byte) ([]byte, error) {
	h, ok := a.ops[name]
	if !ok {
		if a.all[name] {
			return nil, awsproto.Errorf(awsproto.UnsupportedOperation, "ecsd does not support the Application Auto Scaling operation %s yet: it answers DescribeScalableTargets, DescribeScalingPolicies, DescribeScheduledActions and DescribeScalingActivities, with empty lists (ecsd scales nothing).", name)
		}
		return nil, awsproto.Errorf(awsproto.UnknownOperationException, "%s is not an operation of Application Auto Scaling.", name)
	}
	return h(body)
}

var decodeOptions = awsproto.DecodeOptions{Members: awsproto.AsField}

// op adapts a typed operation to a handler: decode, run, encode.
func op[In any, Out smithy.Serializable](f func(in *In) (Out, error)) handler {
	return func(body []byte) ([]byte, error) {
		in := new(In)
		if err := awsproto.DecodeJSON(body, in, decodeOptions); err != nil {
			return nil, err
		}
		out, err := f(in)
		if err != nil {
			return nil, err
		}
		return awsproto.EncodeJSONAs(out, awsproto.AsField)
	}
}

// modelOperations names every operation of the Application Auto Scaling
// model, read off the SDK client's methods (each takes a *<Op>Input).
func modelOperations() map[string]bool {
	ops := map[string]bool{}
	t := reflect.TypeFor[*applicationautoscaling.Client]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			ops[m.Name] = true
		}
	}
	return ops
}
