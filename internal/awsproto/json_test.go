package awsproto_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/awsproto/prototest"
)

// roundTrip serializes a filled input with the SDK's own serializer and
// decodes it with ours: any disagreement on a member name or type shows up
// as a difference.
func roundTrip[T any, PT interface {
	*T
	smithy.Serializable
}](t *testing.T) {
	t.Helper()
	roundTripAs[T, PT](t, awsproto.LowerFirst)
}

// roundTripAs is roundTrip for a service whose member names m spells.
func roundTripAs[T any, PT interface {
	*T
	smithy.Serializable
}](t *testing.T, m awsproto.Members) {
	t.Helper()
	in := PT(new(T))
	prototest.Fill(in)
	body := sdkSerialize(t, in)
	out := PT(new(T))
	if err := awsproto.DecodeJSON(body, out, awsproto.DecodeOptions{Members: m}); err != nil {
		t.Fatalf("%T: %v", in, err)
	}
	back := sdkSerialize(t, out)
	var sent, got any
	json.Unmarshal(body, &sent)
	json.Unmarshal(back, &got)
	if !reflect.DeepEqual(sent, got) {
		t.Errorf("%T did not round-trip:\nsent %s\ngot  %s", in, body, back)
	}
}

func TestDecodeAgreesWithSDKSerializer(t *testing.T) {
	roundTrip[ecs.RegisterTaskDefinitionInput](t)
	roundTrip[ecs.CreateServiceInput](t)
	roundTrip[ecs.UpdateServiceInput](t)
	roundTrip[ecs.RunTaskInput](t)
	roundTrip[ecs.ListTasksInput](t)
	// Application Auto Scaling spells members as the SDK's fields.
	roundTripAs[aas.DescribeScalableTargetsInput](t, awsproto.AsField)
	roundTripAs[aas.DescribeScalingActivitiesInput](t, awsproto.AsField)
}

// The SDK reads back exactly what we encode, for every member of the
// outputs ecsd sends most.
func TestSDKReadsWhatWeEncode(t *testing.T) {
	outputRoundTrip[ecs.DescribeServicesOutput](t)
	outputRoundTrip[ecs.DescribeTasksOutput](t)
	outputRoundTrip[ecs.DescribeTaskDefinitionOutput](t)
	outputRoundTrip[ecs.DescribeClustersOutput](t)
	outputRoundTrip[ecs.DescribeServiceDeploymentsOutput](t)
	outputRoundTripAs[aas.DescribeScalableTargetsOutput](t, awsproto.AsField)
	outputRoundTripAs[aas.DescribeScalingPoliciesOutput](t, awsproto.AsField)
}

func outputRoundTrip[T any, PT interface {
	*T
	smithy.Serializable
	smithy.Deserializable
}](t *testing.T) {
	t.Helper()
	outputRoundTripAs[T, PT](t, awsproto.LowerFirst)
}

func outputRoundTripAs[T any, PT interface {
	*T
	smithy.Serializable
	smithy.Deserializable
}](t *testing.T, m awsproto.Members) {
	t.Helper()
	in := PT(new(T))
	prototest.Fill(in)
	body, err := awsproto.EncodeJSONAs(in, m)
	if err != nil {
		t.Fatal(err)
	}
	out := PT(new(T))
	sdkDeserialize(t, body, out)
	if !reflect.DeepEqual(in, out) {
		t.Errorf("%T: the SDK read back something else than was encoded:\n%s", in, body)
	}
}

func TestEncodeUsesModelNamesAndEpochSeconds(t *testing.T) {
	out := &ecs.DescribeServicesOutput{Services: []types.Service{{
		ServiceName:          aws.String("web"),
		EnableECSManagedTags: true,
		CreatedAt:            aws.Time(time.Unix(1629906352, 807000000)),
		LaunchType:           types.LaunchTypeEc2,
	}}}
	body, err := awsproto.EncodeJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"serviceName":"web"`, `"enableECSManagedTags":true`, `"createdAt":1629906352.807`, `"launchType":"EC2"`, `"runningCount":0`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("encoded %s lacks %s", body, want)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

func TestDecodeErrorsAreSerializationExceptions(t *testing.T) {
	for _, body := range []string{`{`, `[]`, `{"desiredCount":"x"}`, `{"desiredCount":1.5}`, `{"serviceName":3}`, `{} {}`, `{"tags":{}}`, `{"desiredCount":99999999999}`} {
		var in ecs.CreateServiceInput
		err := awsproto.DecodeJSON([]byte(body), &in, awsproto.DecodeOptions{})
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Type != awsproto.SerializationException {
			t.Errorf("%s: got %v, want a SerializationException", body, err)
		}
	}
}

// What encoding/json lets through but AWS refuses as malformed: a member
// given twice (at any depth) and text that is not UTF-8.
func TestDecodeRefusesDuplicatesAndInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ body, wantInMessage string }{
		{`{"serviceName":"a","serviceName":"b"}`, `"serviceName" twice`},
		{`{"serviceName":"a","tags":[{"key":"k","value":"v","value":"w"}]}`, `tags[0] has member "value" twice`},
		{`{"deploymentConfiguration":{"maximumPercent":200,"maximumPercent":100}}`, `deploymentConfiguration has member "maximumPercent" twice`},
		{"{\"serviceName\":\"caf\xe9\"}", "not valid UTF-8 (at byte 19)"},
		{"{\"serviceName\":\"\xed\xa0\x80\"}", "not valid UTF-8"}, // an encoded surrogate
	} {
		var in ecs.CreateServiceInput
		err := awsproto.DecodeJSON([]byte(tc.body), &in, awsproto.DecodeOptions{})
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Type != awsproto.SerializationException || !strings.Contains(e.Message, tc.wantInMessage) {
			t.Errorf("%q: got %v, want a SerializationException saying %s", tc.body, err, tc.wantInMessage)
		}
	}
	// The same names in different objects are no duplicates.
	var in ecs.CreateServiceInput
	body := `{"tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}],"serviceName":"caf\u00e9 ☕"}`
	if err := awsproto.DecodeJSON([]byte(body), &in, awsproto.DecodeOptions{}); err != nil || len(in.Tags) != 2 || aws.ToString(in.ServiceName) != "café ☕" {
		t.Errorf("valid body: %+v %v", in, err)
	}
}

func TestValidRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "il-central-1", "us-isob-east-1", "eusc-de-east-1"} {
		if !awsproto.ValidRegion(r) {
			t.Errorf("%s: refused, is a region", r)
		}
	}
	for _, r := range []string{"", "<script>", "us-east", "US-EAST-1", "us_east_1", "useast1", "us-east-1 ", "local", "x-east-1", "us-east-123", "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-1"} {
		if awsproto.ValidRegion(r) {
			t.Errorf("%q: accepted, is no region", r)
		}
	}
}

func TestDecodeCaseInsensitive(t *testing.T) {
	var in ecs.CreateServiceInput
	var unknown []string
	err := awsproto.DecodeJSON([]byte(`{"ServiceName":"a","DesiredCount":2,"bogus":1}`), &in, awsproto.DecodeOptions{
		CaseInsensitive: true,
		UnknownMember:   func(p string) { unknown = append(unknown, p) },
	})
	if err != nil || aws.ToString(in.ServiceName) != "a" || aws.ToInt32(in.DesiredCount) != 2 {
		t.Fatalf("got %+v, %v", in, err)
	}
	if strings.Join(unknown, ",") != "bogus" {
		t.Errorf("unknown members %v", unknown)
	}
}

func TestParseAuthorization(t *testing.T) {
	c, ok := awsproto.ParseAuthorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/eu-west-3/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd")
	if !ok || c.AccessKeyID != "AKIDEXAMPLE" || c.Region != "eu-west-3" || c.Service != "ecs" || c.Signature != "abcd" || len(c.SignedHeaders) != 2 {
		t.Fatalf("got %+v %v", c, ok)
	}
	if _, ok := awsproto.ParseAuthorization("Bearer x"); ok {
		t.Error("accepted a non-SigV4 header")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"serviceName":"a","desiredCount":3}`, `{"loadBalancers":[{"containerPort":80}]}`, `{"tags":[{"key":"a","value":"b"}]}`, `nul`, `{"deploymentConfiguration":{"maximumPercent":200}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ecs.CreateServiceInput
		err := awsproto.DecodeJSON(body, &in, awsproto.DecodeOptions{})
		if err == nil {
			return
		}
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Type == "" || e.Message == "" {
			t.Fatalf("decode error is not AWS-shaped: %v", err)
		}
	})
}
