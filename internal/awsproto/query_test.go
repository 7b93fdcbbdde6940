package awsproto_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/schemas"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/awsproto/prototest"
)

const elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// queryServer plays an AWS Query service inside the SDK client's HTTP
// client: it decodes each request with DecodeQuery and answers with
// whatever respond returns, encoded with EncodeQueryResponse or
// EncodeQueryError.
type queryServer struct {
	decodeInto func(action string) any // a new *<Action>Input
	respond    func(action string, in any) (any, error)
	t          *testing.T
}

func (s *queryServer) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.t.Errorf("content type %q", ct)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.t.Fatalf("the SDK sent a body that is not a form: %v", err)
	}
	action := form.Get("Action")
	if v := form.Get("Version"); v != "2015-12-01" {
		s.t.Errorf("%s: version %q", action, v)
	}
	in := s.decodeInto(action)
	var out []byte
	status := 200
	if err := awsproto.DecodeQuery(form, in, awsproto.QueryDecodeOptions{UnknownMember: func(name string) {
		s.t.Errorf("%s: the SDK sent %s, which DecodeQuery does not know", action, name)
	}}); err != nil {
		s.t.Errorf("%s: %v\n%s", action, err, body)
	}
	res, err := s.respond(action, in)
	if err != nil {
		status = awsproto.AsError(err).HTTPStatus()
		out = awsproto.EncodeQueryError(elbNS, "req-1", err)
	} else if out, err = awsproto.EncodeQueryResponse(elbNS, action, "req-1", res); err != nil {
		s.t.Fatal(err)
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(bytes.NewReader(out)), Request: req}, nil
}

func elbClient(s *queryServer) *elbv2.Client {
	return elbv2.New(elbv2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://ecsd.invalid"),
		HTTPClient:       s,
		RetryMaxAttempts: 1,
		Credentials:      aws.AnonymousCredentials{},
		// prototest.Fill stops at a depth limit, which leaves a few deep
		// required members unset; the server, not the client, judges them.
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			s.Initialize.Remove("OperationInputValidation")
			return nil
		}},
	})
}

// operations lists the ELBv2 client's operation methods by name.
func operations() map[string]reflect.Method {
	ops := map[string]reflect.Method{}
	t := reflect.TypeFor[*elbv2.Client]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			ops[m.Name] = m
		}
	}
	return ops
}

// Every ELBv2 operation, every member: what the SDK serializes,
// DecodeQuery reads back identically; what EncodeQueryResponse writes, the
// SDK reads back identically.
func TestQueryRoundTripsEveryELBv2Operation(t *testing.T) {
	ops := operations()
	if len(ops) < 50 {
		t.Fatalf("found only %d operations on the ELBv2 client", len(ops))
	}
	var sent, wrote map[string]any
	s := &queryServer{t: t}
	s.decodeInto = func(action string) any { return reflect.New(ops[action].Type.In(2).Elem()).Interface() }
	s.respond = func(action string, in any) (any, error) {
		// A structure with no members set is not on the wire at all.
		prune(reflect.ValueOf(sent[action]))
		if !reflect.DeepEqual(in, sent[action]) {
			t.Errorf("%s: decoded\n%#v\nwant\n%#v", action, in, sent[action])
		}
		return wrote[action], nil
	}
	c := reflect.ValueOf(elbClient(s))
	sent, wrote = map[string]any{}, map[string]any{}
	for name, m := range ops {
		in := reflect.New(m.Type.In(2).Elem())
		prototest.Fill(in.Interface())
		out := reflect.New(m.Type.Out(0).Elem())
		prototest.Fill(out.Interface())
		sent[name], wrote[name] = in.Interface(), out.Interface()
		res := m.Func.Call([]reflect.Value{c, reflect.ValueOf(context.Background()), in})
		if err, _ := res[1].Interface().(error); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := res[0].Elem()
		got.FieldByName("ResultMetadata").SetZero()
		if !reflect.DeepEqual(got.Interface(), out.Elem().Interface()) {
			body, _ := awsproto.EncodeQueryResponse(elbNS, name, "req-1", out.Interface())
			t.Errorf("%s: the SDK read back\n%#v\nfrom\n%s", name, got.Interface(), body)
		}
	}
}

// prune sets every pointer to a struct with no member set to nil.
func prune(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		if v.Elem().Kind() == reflect.Struct && prune(v.Elem()) && v.CanSet() {
			v.SetZero()
			return true
		}
		return false
	case reflect.Struct:
		empty := true
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				empty = prune(v.Field(i)) && empty
			}
		}
		return empty
	case reflect.Slice:
		// Items with no member set are not on the wire: drop them.
		if v.Type().Elem().Kind() == reflect.Struct && v.CanSet() {
			kept := reflect.MakeSlice(v.Type(), 0, v.Len())
			for i := range v.Len() {
				if !prune(v.Index(i)) {
					kept = reflect.Append(kept, v.Index(i))
				}
			}
			if kept.Len() == 0 && v.Len() > 0 {
				v.SetZero()
			} else if kept.Len() < v.Len() {
				v.Set(kept)
			}
		}
		return v.IsNil()
	}
	return v.IsZero()
}

// Errors arrive as the SDK's modeled error types, with their messages.
func TestQueryErrorsReachTheSDKTyped(t *testing.T) {
	var answer error
	s := &queryServer{t: t,
		decodeInto: func(string) any { return &elbv2.DescribeTargetGroupsInput{} },
		respond:    func(string, any) (any, error) { return nil, answer },
	}
	c := elbClient(s)
	answer = awsproto.Errorf("TargetGroupNotFound", "One or more target groups not found <&>")
	_, err := c.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{})
	var nf *elbtypes.TargetGroupNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "One or more target groups not found <&>" {
		t.Fatalf("got %T %v", err, err)
	}
	answer = errors.New("disk on fire")
	_, err = c.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" || !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Fatalf("server error: %T %v", err, err)
	}
	body := string(awsproto.EncodeQueryError(elbNS, "r1", awsproto.Errorf(awsproto.ValidationError, "bad")))
	want := `<ErrorResponse xmlns="` + elbNS + `"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad</Message></Error><RequestId>r1</RequestId></ErrorResponse>`
	if body != want {
		t.Errorf("error document:\n%s\nwant\n%s", body, want)
	}
}

func TestEncodeQueryResponseShape(t *testing.T) {
	body, err := awsproto.EncodeQueryResponse(elbNS, "DescribeTargetGroups", "rid", &elbv2.DescribeTargetGroupsOutput{
		TargetGroups: []elbtypes.TargetGroup{{TargetGroupName: aws.String("a&b"), Port: aws.Int32(80), LoadBalancerArns: []string{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `<DescribeTargetGroupsResponse xmlns="` + elbNS + `"><DescribeTargetGroupsResult><TargetGroups><member>` +
		`<LoadBalancerArns></LoadBalancerArns><Port>80</Port><TargetGroupName>a&amp;b</TargetGroupName></member></TargetGroups></DescribeTargetGroupsResult>` +
		`<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DescribeTargetGroupsResponse>`
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
	body, _ = awsproto.EncodeQueryResponse(elbNS, "DeleteRule", "rid", &elbv2.DeleteRuleOutput{})
	if !strings.Contains(string(body), "<DeleteRuleResult></DeleteRuleResult>") {
		t.Errorf("empty result: %s", body)
	}
}

func TestDecodeQueryForms(t *testing.T) {
	var in elbv2.CreateRuleInput
	form := "Action=CreateRule&Version=2015-12-01&ListenerArn=arn&Priority=10" +
		"&Conditions.member.1.Field=path-pattern&Conditions.member.1.PathPatternConfig.Values.member.1=%2Fa%2A" +
		"&Conditions.member.1.PathPatternConfig.Values.member.2=%2Fb" +
		"&Conditions.member.2.Field=host-header&Conditions.member.2.Values.member.1=x.example" +
		"&Actions.member.1.Type=forward&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=tg&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=3" +
		"&Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=false&Tags="
	if err := awsproto.DecodeQuery(mustParse(t, form), &in, awsproto.QueryDecodeOptions{}); err != nil {
		t.Fatal(err)
	}
	want := elbv2.CreateRuleInput{
		ListenerArn: aws.String("arn"), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{
			{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/a*", "/b"}}},
			{Field: aws.String("host-header"), Values: []string{"x.example"}},
		},
		Actions: []elbtypes.Action{{Type: "forward", ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups:                []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String("tg"), Weight: aws.Int32(3)}},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(false)},
		}}},
		Tags: []elbtypes.Tag{},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %#v\nwant %#v", in, want)
	}

	for _, tc := range []struct{ form, want string }{
		{"Priority=ten", "Parameter Priority"},
		{"Priority=99999999999", "32-bit"},
		{"Conditions.member.0.Field=x", "numbered from 1"},
		{"Conditions.member.01.Field=x", "numbered from 1"},
		{"Conditions.item.1.Field=x", "is a list"},
		{"Conditions=x", "is a list"},
		{"Conditions.member.1=x", "is a structure"},
		{"ListenerArn.x=1", "must be a string"},
		{"ListenerArn=a&ListenerArn=b", "given 2 times"},
		{"Conditions..Field=x", "empty part"},
		{"Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=yes", "not a boolean"},
	} {
		var in elbv2.CreateRuleInput
		err := awsproto.DecodeQuery(mustParse(t, tc.form), &in, awsproto.QueryDecodeOptions{})
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Type != awsproto.ValidationError || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: got %v, want a ValidationError saying %q", tc.form, err, tc.want)
		}
	}
	// Gaps in the numbering are closed, as the SDK leaves one for an item
	// with no member set.
	var gap elbv2.RegisterTargetsInput
	if err := awsproto.DecodeQuery(mustParse(t, "Targets.member.3.Id=b&Targets.member.1.Id=a"), &gap, awsproto.QueryDecodeOptions{}); err != nil ||
		len(gap.Targets) != 2 || *gap.Targets[0].Id != "a" || *gap.Targets[1].Id != "b" {
		t.Errorf("gap: %v %+v", err, gap.Targets)
	}
	// Unknown members are reported, not fatal.
	var unknown []string
	err := awsproto.DecodeQuery(mustParse(t, "Bogus=1&Conditions.member.1.Nope=2"), &in, awsproto.QueryDecodeOptions{UnknownMember: func(n string) { unknown = append(unknown, n) }})
	if err != nil || strings.Join(unknown, ",") != "Bogus,Conditions.member.1.Nope" {
		t.Errorf("unknown members: %v %v", err, unknown)
	}
}

func mustParse(t testing.TB, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fuzzOps are the inputs FuzzDecodeQuery decodes into, with the schemas
// the SDK serializes them with.
var fuzzOps = []struct {
	new    func() smithy.Serializable
	schema *smithy.OperationSchema
}{
	{func() smithy.Serializable { return &elbv2.CreateRuleInput{} }, smithy.NewOperationSchema(schemas.CreateRule, schemas.CreateRuleInput, schemas.CreateRuleOutput)},
	{func() smithy.Serializable { return &elbv2.CreateTargetGroupInput{} }, smithy.NewOperationSchema(schemas.CreateTargetGroup, schemas.CreateTargetGroupInput, schemas.CreateTargetGroupOutput)},
	{func() smithy.Serializable { return &elbv2.CreateListenerInput{} }, smithy.NewOperationSchema(schemas.CreateListener, schemas.CreateListenerInput, schemas.CreateListenerOutput)},
	{func() smithy.Serializable { return &elbv2.RegisterTargetsInput{} }, smithy.NewOperationSchema(schemas.RegisterTargets, schemas.RegisterTargetsInput, schemas.RegisterTargetsOutput)},
	{func() smithy.Serializable { return &elbv2.ModifyTargetGroupAttributesInput{} }, smithy.NewOperationSchema(schemas.ModifyTargetGroupAttributes, schemas.ModifyTargetGroupAttributesInput, schemas.ModifyTargetGroupAttributesOutput)},
}

var sdkQuery = awsquery.New(schemas.ElasticLoadBalancing_v10)

func sdkQuerySerialize(t testing.TB, schema *smithy.OperationSchema, in smithy.Serializable) string {
	t.Helper()
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	if err := sdkQuery.SerializeRequest(context.Background(), schema, in, req); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.GetStream())
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// Any form body either fails to decode with a ValidationError or decodes
// to a value that survives a round trip through the SDK's serializer.
func FuzzDecodeQuery(f *testing.F) {
	for i, op := range fuzzOps {
		in := op.new()
		prototest.Fill(in)
		f.Add(uint8(i), sdkQuerySerialize(f, op.schema, in))
	}
	f.Add(uint8(0), "Conditions.member.1.Values=&Priority=-1&Tags.member.1.Key=%00")
	f.Add(uint8(3), "Targets.member.3.Id=a&Targets.member.1.Port=1&Targets.member.2.Id=")
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		o := fuzzOps[int(op)%len(fuzzOps)]
		first := o.new()
		if err := awsproto.DecodeQuery(form, first, awsproto.QueryDecodeOptions{}); err != nil {
			var e *awsproto.Error
			if !errors.As(err, &e) || e.Type != awsproto.ValidationError || e.Message == "" {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			return
		}
		again := o.new()
		back := sdkQuerySerialize(t, o.schema, first)
		if err := awsproto.DecodeQuery(mustParse(t, back), again, awsproto.QueryDecodeOptions{}); err != nil {
			t.Fatalf("decoding the SDK's own serialization %q: %v", back, err)
		}
		// Structures whose only members were unknown decode empty and
		// vanish from the wire; that is the one loss allowed.
		prune(reflect.ValueOf(first))
		prune(reflect.ValueOf(again))
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v\nvia %s", first, again, back)
		}
	})
}
