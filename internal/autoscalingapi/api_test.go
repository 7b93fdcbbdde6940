package autoscalingapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/autoscalingapi"
	"github.com/ecsd/ecsd/internal/server"
)

// newClient serves the API on a real loopback listener, as ecsd does, and
// returns an SDK client for it.
func newClient(t *testing.T) (*aas.Client, string) {
	t.Helper()
	h := server.New("us-east-1", slog.New(slog.DiscardHandler))
	h.HandleJSON(autoscalingapi.TargetPrefix, autoscalingapi.New())
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := aas.New(aas.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
	})
	return c, srv.URL
}

func TestDescribeAnswersEmptyLists(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	ecsNS := types.ServiceNamespaceEcs
	dim := types.ScalableDimensionECSServiceDesiredCount
	res := "service/default/web"

	targets, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: ecsNS, ResourceIds: []string{res}, ScalableDimension: dim, MaxResults: aws.Int32(50)})
	if err != nil {
		t.Fatalf("DescribeScalableTargets: %v", err)
	}
	if targets.ScalableTargets == nil || len(targets.ScalableTargets) != 0 || targets.NextToken != nil {
		t.Errorf("DescribeScalableTargets: want an empty list and no NextToken, got %+v", targets)
	}
	policies, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: ecsNS, ResourceId: aws.String(res), ScalableDimension: dim, MaxResults: aws.Int32(10)})
	if err != nil {
		t.Fatalf("DescribeScalingPolicies: %v", err)
	}
	if policies.ScalingPolicies == nil || len(policies.ScalingPolicies) != 0 {
		t.Errorf("DescribeScalingPolicies: want an empty list, got %+v", policies.ScalingPolicies)
	}
	actions, err := c.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: ecsNS, ResourceId: aws.String(res), ScheduledActionNames: []string{"nightly"}})
	if err != nil {
		t.Fatalf("DescribeScheduledActions: %v", err)
	}
	if actions.ScheduledActions == nil || len(actions.ScheduledActions) != 0 {
		t.Errorf("DescribeScheduledActions: want an empty list, got %+v", actions.ScheduledActions)
	}
	activities, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: ecsNS, IncludeNotScaledActivities: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DescribeScalingActivities: %v", err)
	}
	if activities.ScalingActivities == nil || len(activities.ScalingActivities) != 0 {
		t.Errorf("DescribeScalingActivities: want an empty list, got %+v", activities.ScalingActivities)
	}
	// The paginators the SDK offers stop after one page.
	p := aas.NewDescribeScalableTargetsPaginator(c, &aas.DescribeScalableTargetsInput{ServiceNamespace: ecsNS})
	pages := 0
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			t.Fatalf("paginator: %v", err)
		}
		pages++
	}
	if pages != 1 {
		t.Errorf("paginator: got %d pages, want 1", pages)
	}
}

// TestWireMemberNames checks the response spells members as the model
// does (PascalCase for this service), not lowerCamel as ECS.
func TestWireMemberNames(t *testing.T) {
	_, url := newClient(t)
	status, _, body := post(t, url, "DescribeScalableTargets", `{"ServiceNamespace":"ecs","serviceNamespace":"nonsense"}`)
	if status != 200 || body != `{"ScalableTargets":[]}` {
		t.Errorf("got %d %s, want 200 {\"ScalableTargets\":[]}", status, body)
	}
}

func TestValidation(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	long := strings.Repeat("x", 1601)
	many := make([]string, 51)
	for i := range many {
		many[i] = "service/default/s"
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
		want string // in the message
	}{
		{"bad namespace", func() error {
			_, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecss"})
			return err
		}, "ValidationException", "Value 'ecss' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [ecs, "},
		{"bad dimension", func() error {
			_, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", ResourceIds: []string{"service/a/b"}, ScalableDimension: "ecs:service:Count"})
			return err
		}, "ValidationException", "Value 'ecs:service:Count' at 'scalableDimension'"},
		{"dimension without resource", func() error {
			_, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", ScalableDimension: types.ScalableDimensionECSServiceDesiredCount})
			return err
		}, "ValidationException", "needs a resource ID"},
		{"too many resource IDs", func() error {
			_, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", ResourceIds: many})
			return err
		}, "ValidationException", "at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"resource ID too long", func() error {
			_, err := c.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: "ecs", ResourceId: aws.String(long)})
			return err
		}, "ValidationException", "at 'resourceId' failed to satisfy constraint: Member must have length between 1 and 1600"},
		{"empty policy name", func() error {
			_, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecs", PolicyNames: []string{""}})
			return err
		}, "ValidationException", "at 'policyNames.1.member'"},
		{"MaxResults above 10 for policies", func() error {
			_, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecs", MaxResults: aws.Int32(11)})
			return err
		}, "ValidationException", "Value '11' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 10"},
		{"MaxResults 0", func() error {
			_, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", MaxResults: aws.Int32(0)})
			return err
		}, "ValidationException", "between 1 and 50"},
		{"two mistakes", func() error {
			_, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", ResourceIds: []string{""}, MaxResults: aws.Int32(51)})
			return err
		}, "ValidationException", "2 validation errors detected: "},
		{"a NextToken ecsd never issued", func() error {
			_, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", NextToken: aws.String("abc")})
			return err
		}, "InvalidNextTokenException", "Call again without NextToken"},
		{"unsupported operation", func() error {
			_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceId: aws.String("service/default/web"), ScalableDimension: types.ScalableDimensionECSServiceDesiredCount})
			return err
		}, "UnsupportedFeatureException", "ecsd does not support the Application Auto Scaling operation RegisterScalableTarget yet"},
	} {
		err := tc.call()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) {
			t.Errorf("%s: want an API error, got %v", tc.name, err)
			continue
		}
		if apiErr.ErrorCode() != tc.code {
			t.Errorf("%s: error code %q, want %q (%v)", tc.name, apiErr.ErrorCode(), tc.code, err)
		}
		if !strings.Contains(apiErr.ErrorMessage(), tc.want) {
			t.Errorf("%s: message %q lacks %q", tc.name, apiErr.ErrorMessage(), tc.want)
		}
	}
}

// TestErrorShape checks an error's wire shape: status, __type, message and
// X-Amzn-ErrorType, and that the SDK reads it as its typed exception.
func TestErrorShape(t *testing.T) {
	c, url := newClient(t)
	_, err := c.DescribeScalableTargets(context.Background(), &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecss"})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("want *types.ValidationException, got %T %v", err, err)
	}
	if !strings.Contains(ve.ErrorMessage(), "serviceNamespace") {
		t.Errorf("the SDK lost the message: %q", ve.ErrorMessage())
	}

	// The SDK checks required members itself; other clients may not.
	status, h, body := post(t, url, "DescribeScalableTargets", `{}`)
	if status != 400 || h.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Errorf("no namespace: status %d, X-Amzn-ErrorType %q, want 400 ValidationException", status, h.Get("X-Amzn-ErrorType"))
	}
	if !strings.Contains(body, `"__type":"ValidationException"`) || !strings.Contains(body, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null") {
		t.Errorf("no namespace: body %s", body)
	}

	status, h, body = post(t, url, "NoSuchThing", `{}`)
	if status != 400 || h.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("unknown operation: status %d, X-Amzn-ErrorType %q, want 400 UnknownOperationException", status, h.Get("X-Amzn-ErrorType"))
	}
	if !strings.Contains(body, "NoSuchThing is not an operation of Application Auto Scaling.") {
		t.Errorf("unknown operation: body %s", body)
	}
}

// post sends a raw JSON 1.1 request for operation op.
func post(t *testing.T, url, op, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", autoscalingapi.TargetPrefix+"."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestUnsupportedOperations: every other operation of the model (2016-02-06)
// names itself as not supported yet.
func TestUnsupportedOperations(t *testing.T) {
	_, url := newClient(t)
	for _, op := range []string{
		"DeleteScalingPolicy", "DeleteScheduledAction", "DeregisterScalableTarget", "GetPredictiveScalingForecast",
		"ListTagsForResource", "PutScalingPolicy", "PutScheduledAction", "RegisterScalableTarget", "TagResource", "UntagResource",
	} {
		status, h, body := post(t, url, op, `{}`)
		if status != 400 || h.Get("X-Amzn-ErrorType") != "UnsupportedFeatureException" {
			t.Errorf("%s: status %d, X-Amzn-ErrorType %q, want 400 UnsupportedFeatureException", op, status, h.Get("X-Amzn-ErrorType"))
		}
		if !strings.Contains(body, "operation "+op+" yet") {
			t.Errorf("%s: the message does not name the operation: %s", op, body)
		}
	}
}
