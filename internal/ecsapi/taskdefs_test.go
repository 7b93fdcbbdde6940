package ecsapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func registerTD(t testing.TB, e *env, family, image string) string {
	t.Helper()
	out := must[*ecs.RegisterTaskDefinitionOutput](t)(e.client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(128), Essential: aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
		Tags: []types.Tag{{Key: aws.String("family"), Value: aws.String(family)}},
	}))
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// Every member the user sent comes back unchanged from
// DescribeTaskDefinition, byte for byte in JSON.
func TestTaskDefinitionRoundTripsEveryMember(t *testing.T) {
	e := newEnv(t)
	sent, err := os.ReadFile("testdata/taskdef-full.json")
	if err != nil {
		t.Fatal(err)
	}
	status, typ, body := e.raw(t, "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition", string(sent))
	if status != 200 {
		t.Fatalf("register: %d %s %s", status, typ, body)
	}
	_, _, body = e.raw(t, "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition", `{"taskDefinition":"web:1"}`)
	var in, out map[string]any
	json.Unmarshal(sent, &in)
	var resp struct{ TaskDefinition map[string]any }
	json.Unmarshal(body, &resp)
	out = resp.TaskDefinition
	for k, v := range in {
		if k == "containerDefinitions" {
			continue
		}
		if !reflect.DeepEqual(out[k], v) {
			t.Errorf("member %s: sent %v, got %v", k, v, out[k])
		}
	}
	sentC := in["containerDefinitions"].([]any)
	gotC := out["containerDefinitions"].([]any)
	for i := range sentC {
		for k, v := range sentC[i].(map[string]any) {
			if got := gotC[i].(map[string]any)[k]; !reflect.DeepEqual(got, v) {
				t.Errorf("container %d member %s: sent %v, got %v", i, k, v, got)
			}
		}
	}
	for _, k := range []string{"taskDefinitionArn", "revision", "status", "registeredAt", "compatibilities"} {
		if out[k] == nil {
			t.Errorf("response lacks %s", k)
		}
	}
}

func TestTaskDefinitionRevisionsAndLists(t *testing.T) {
	e := newEnv(t)
	c := e.client
	for i := 1; i <= 3; i++ {
		if arn := registerTD(t, e, "web", fmt.Sprintf("img:%d", i)); arn != fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d", i) {
			t.Fatalf("revision %d: %s", i, arn)
		}
	}
	registerTD(t, e, "worker", "img:w")

	d := must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}}))
	if d.TaskDefinition.Revision != 3 || len(d.Tags) != 1 {
		t.Fatalf("latest: rev %d tags %v", d.TaskDefinition.Revision, d.Tags)
	}
	if d := must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})); d.Tags != nil {
		t.Fatalf("tags without include: %v", d.Tags)
	}

	// Deregister 3: the family's latest ACTIVE is 2; revisions keep counting.
	dr := must[*ecs.DeregisterTaskDefinitionOutput](t)(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:3")}))
	if dr.TaskDefinition.Status != types.TaskDefinitionStatusInactive || dr.TaskDefinition.DeregisteredAt == nil {
		t.Fatalf("deregister: %+v", dr.TaskDefinition)
	}
	if d := must[*ecs.DescribeTaskDefinitionOutput](t)(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})); d.TaskDefinition.Revision != 2 {
		t.Fatalf("latest ACTIVE after deregister: %d", d.TaskDefinition.Revision)
	}
	if arn := registerTD(t, e, "web", "img:4"); arn != "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4" {
		t.Fatalf("after deregister: %s", arn)
	}

	list := must[*ecs.ListTaskDefinitionsOutput](t)(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")}))
	if got := fmt.Sprint(list.TaskDefinitionArns); got != "[arn:aws:ecs:us-east-1:123456789012:task-definition/web:1 arn:aws:ecs:us-east-1:123456789012:task-definition/web:2 arn:aws:ecs:us-east-1:123456789012:task-definition/web:4]" {
		t.Fatalf("list: %s", got)
	}
	inactive := must[*ecs.ListTaskDefinitionsOutput](t)(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}))
	if len(inactive.TaskDefinitionArns) != 1 {
		t.Fatalf("inactive: %v", inactive.TaskDefinitionArns)
	}
	// Descending, two per page.
	var desc []string
	p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		desc = append(desc, must[*ecs.ListTaskDefinitionsOutput](t)(p.NextPage(ctx)).TaskDefinitionArns...)
	}
	want := []string{"worker:1", "web:4", "web:2", "web:1"}
	if len(desc) != len(want) {
		t.Fatalf("desc: %v", desc)
	}
	for i, w := range want {
		if desc[i] != "arn:aws:ecs:us-east-1:123456789012:task-definition/"+w {
			t.Fatalf("desc[%d] = %s, want %s", i, desc[i], w)
		}
	}

	fam := must[*ecs.ListTaskDefinitionFamiliesOutput](t)(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{}))
	if fmt.Sprint(fam.Families) != "[web worker]" {
		t.Fatalf("families: %v", fam.Families)
	}
	page1 := must[*ecs.ListTaskDefinitionFamiliesOutput](t)(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(1)}))
	page2 := must[*ecs.ListTaskDefinitionFamiliesOutput](t)(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{MaxResults: aws.Int32(1), NextToken: page1.NextToken}))
	if fmt.Sprint(page1.Families, page2.Families, page2.NextToken == nil) != "[web] [worker] true" {
		t.Fatalf("family pages: %v %v %v", page1.Families, page2.Families, page2.NextToken)
	}
	must[*ecs.DeregisterTaskDefinitionOutput](t)(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("worker:1")}))
	famInactive := must[*ecs.ListTaskDefinitionFamiliesOutput](t)(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusInactive}))
	if fmt.Sprint(famInactive.Families) != "[worker]" {
		t.Fatalf("inactive families: %v", famInactive.Families)
	}

	// Delete: ACTIVE revisions are refused per item, INACTIVE ones go.
	del := must[*ecs.DeleteTaskDefinitionsOutput](t)(c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"web:3", "web:4", "web:99"}}))
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || len(del.Failures) != 2 {
		t.Fatalf("delete: %+v %+v", del.TaskDefinitions, del.Failures)
	}
	_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
	wantError(t, err, "ClientException")
}

func TestTaskDefinitionValidationChangesNothing(t *testing.T) {
	e := newEnv(t)
	registerTD(t, e, "web", "img")
	before := e.snapshot()
	good := func() *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img"), Memory: aws.Int32(64)}}}
	}
	for name, mutate := range map[string]func(*ecs.RegisterTaskDefinitionInput){
		"bad family":    func(in *ecs.RegisterTaskDefinitionInput) { in.Family = aws.String("a:b") },
		"no containers": func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions = []types.ContainerDefinition{} },
		"no image":      func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Image = nil },
		"no memory":     func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Memory = nil },
		"duplicate name": func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions = append(in.ContainerDefinitions, in.ContainerDefinitions[0])
		},
		"fargate bridge": func(in *ecs.RegisterTaskDefinitionInput) {
			in.RequiresCompatibilities = []types.Compatibility{"FARGATE"}
		},
		"bad health": func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].HealthCheck = &types.HealthCheck{Command: []string{"CMD", "x"}, Interval: aws.Int32(1)}
		},
		"bad dependsOn": func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("ghost"), Condition: "START"}}
		},
		"bad network mode": func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = "overlay" },
	} {
		in := good()
		mutate(in)
		_, err := e.client.RegisterTaskDefinition(ctx, in)
		if errorType(err) != "ClientException" {
			t.Errorf("%s: got %v, want ClientException", name, err)
		}
	}
	_, err := e.client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope")})
	wantError(t, err, "ClientException")
	_, err = e.client.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web")})
	wantError(t, err, "ClientException")
	_, err = e.client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(0)})
	wantError(t, err, "InvalidParameterException")
	if after := e.snapshot(); after != before {
		t.Fatalf("rejected calls changed the store")
	}
	// The next accepted registration is revision 2: rejected ones used no number.
	if arn := registerTD(t, e, "web", "img"); arn != "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2" {
		t.Fatalf("next revision: %s", arn)
	}
}

// DescribeTaskDefinition echoes ECS's defaults for what a registration left
// out, as ECS answers (checked against real DescribeTaskDefinition output).
func TestTaskDefinitionEchoesECSDefaults(t *testing.T) {
	e := newEnv(t)
	describe := func(register string) map[string]any {
		t.Helper()
		if status, typ, body := e.raw(t, "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition", register); status != 200 {
			t.Fatalf("register: %d %s %s", status, typ, body)
		}
		var family struct{ Family string }
		json.Unmarshal([]byte(register), &family)
		_, _, body := e.raw(t, "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition", `{"taskDefinition":"`+family.Family+`"}`)
		var resp struct{ TaskDefinition map[string]any }
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
		return resp.TaskDefinition
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	bridge := describe(`{"family":"plain","containerDefinitions":[{"name":"app","image":"nginx","memory":128,
		"portMappings":[{"containerPort":80},{"containerPort":81,"hostPort":8081,"protocol":"udp"}]}]}`)
	c := bridge["containerDefinitions"].([]any)[0].(map[string]any)
	for member, want := range map[string]string{
		"essential":      `true`,
		"cpu":            `0`,
		"environment":    `[]`,
		"mountPoints":    `[]`,
		"volumesFrom":    `[]`,
		"systemControls": `[]`,
		"portMappings":   `[{"containerPort":80,"hostPort":0,"protocol":"tcp"},{"containerPort":81,"hostPort":8081,"protocol":"udp"}]`,
	} {
		if got := js(c[member]); got != want {
			t.Errorf("bridge container %s: got %s, want %s", member, got, want)
		}
	}
	for member, want := range map[string]string{
		"volumes":              `[]`,
		"placementConstraints": `[]`,
		"requiresAttributes":   `[]`,
		"compatibilities":      `["EC2"]`,
		"enableFaultInjection": `false`,
	} {
		if got := js(bridge[member]); got != want {
			t.Errorf("bridge task definition %s: got %s, want %s", member, got, want)
		}
	}

	awsvpc := describe(`{"family":"fargate","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",
		"taskRoleArn":"arn:aws:iam::123456789012:role/app","executionRoleArn":"arn:aws:iam::123456789012:role/exec",
		"containerDefinitions":[
		 {"name":"app","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1","essential":false,"portMappings":[{"containerPort":8080}],
		  "logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g"}},
		  "healthCheck":{"command":["CMD","true"]},"dependsOn":[{"containerName":"side","condition":"START"}]},
		 {"name":"side","image":"busybox"}]}`)
	app := awsvpc["containerDefinitions"].([]any)[0].(map[string]any)
	if got, want := js(app["portMappings"]), `[{"containerPort":8080,"hostPort":8080,"protocol":"tcp"}]`; got != want {
		t.Errorf("awsvpc portMappings: got %s, want %s", got, want)
	}
	if got := js(app["essential"]); got != `false` {
		t.Errorf("an essential:false the user sent came back as %s", got)
	}
	if got, want := js(awsvpc["compatibilities"]), `["EC2","FARGATE"]`; got != want {
		t.Errorf("awsvpc compatibilities: got %s, want %s", got, want)
	}
	var names []string
	for _, a := range awsvpc["requiresAttributes"].([]any) {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	want := []string{
		"com.amazonaws.ecs.capability.docker-remote-api.1.18", "ecs.capability.task-eni",
		"com.amazonaws.ecs.capability.task-iam-role",
		"com.amazonaws.ecs.capability.logging-driver.awslogs", "com.amazonaws.ecs.capability.docker-remote-api.1.19", "ecs.capability.execution-role-awslogs",
		"com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull",
		"com.amazonaws.ecs.capability.docker-remote-api.1.24", "ecs.capability.container-health-check",
		"ecs.capability.container-ordering",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("requiresAttributes:\ngot  %v\nwant %v", names, want)
	}
}
