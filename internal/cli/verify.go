package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	"github.com/distribution/reference"

	"github.com/ecsd/ecsd/internal/ecsmodel"
)

func init() {
	commands["verify"] = command{
		summary: "check the cluster, target groups and task definition against the endpoint; OK/NG per item",
		run:     func(a *app, args []string) error { return a.verify() },
	}
}

// Verdicts of a verified item.
const (
	verifyOK   = "OK"
	verifyNG   = "NG"
	verifySkip = "SKIP"
)

// check is one verified item; depth nests it under the item before it.
type check struct {
	depth  int
	item   string
	status string
	detail string // why NG or SKIP, or what was found
}

func ok(depth int, item string) check { return check{depth, item, verifyOK, ""} }

// ng is NG with the problems found, or OK when there are none.
func ng(depth int, item string, problems []string) check {
	if len(problems) == 0 {
		return ok(depth, item)
	}
	return check{depth, item, verifyNG, strings.Join(problems, "; ")}
}

func (a *app) verify() error {
	if err := a.load(); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	var checks []check
	report := func(cs ...check) {
		for _, c := range cs {
			a.out.verified(c)
		}
		checks = append(checks, cs...)
	}
	report(a.verifyCluster(ctx))

	td, warns, tdErr := a.cfg.TaskDefinition()
	a.warn(warns)
	var sd *ecs.CreateServiceInput
	switch {
	case a.cfg.ServiceDefinitionPath == "":
		report(check{0, "service definition", verifySkip, "the config has no service_definition"})
	default:
		var sdErr error
		sd, warns, sdErr = a.cfg.ServiceDefinition()
		a.warn(warns)
		if sdErr != nil {
			report(check{0, "service definition", verifyNG, sdErr.Error()})
			break
		}
		report(ok(0, "service definition "+a.cfg.ServiceDefinitionPath))
		if tdErr == nil {
			report(checkServiceDefinition(sd, td)...)
		}
		for i, lb := range sd.LoadBalancers {
			report(a.verifyTargetGroup(ctx, i, lb))
		}
	}
	if tdErr != nil {
		report(check{0, "task definition", verifyNG, tdErr.Error()})
	} else {
		report(checkTaskDefinition(td, sd)...)
	}

	counts := map[string]int{}
	for _, c := range checks {
		counts[c.status]++
	}
	summary := fmt.Sprintf("verify: %d OK, %d NG, %d skipped", counts[verifyOK], counts[verifyNG], counts[verifySkip])
	if counts[verifyNG] > 0 {
		return errors.New(summary + "; fix the items marked NG")
	}
	a.out.line("verify", summary, map[string]any{"ok": counts[verifyOK], "ng": 0, "skipped": counts[verifySkip]})
	return nil
}

func (a *app) verifyCluster(ctx context.Context) check {
	item := "cluster " + a.cfg.Cluster
	out, err := a.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{a.cfg.Cluster}})
	if err != nil {
		return check{0, item, verifyNG, fmt.Sprintf("describing it: %v", err)}
	}
	for _, c := range out.Clusters {
		if st := aws.ToString(c.Status); st != ecsmodel.ClusterActive {
			return check{0, item, verifyNG, fmt.Sprintf("it is %s; create it or name an ACTIVE cluster in the config", st)}
		}
		return ok(0, item)
	}
	return check{0, item, verifyNG, "not found; create it (aws ecs create-cluster) or fix cluster in the config"}
}

// verifyTargetGroup looks the load balancer's target group up in ELBv2.
func (a *app) verifyTargetGroup(ctx context.Context, i int, lb types.LoadBalancer) check {
	arn := aws.ToString(lb.TargetGroupArn)
	item := fmt.Sprintf("loadBalancers[%d] target group %s", i, arn)
	if arn == "" {
		return check{1, fmt.Sprintf("loadBalancers[%d]", i), verifySkip, "no targetGroupArn (a Classic Load Balancer is not checked)"}
	}
	out, err := a.elbv2Client().DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	var apiErr smithy.APIError
	switch {
	case err == nil && len(out.TargetGroups) > 0:
		return ok(1, item)
	case err == nil, errors.As(err, &apiErr) && apiErr.ErrorCode() == "TargetGroupNotFound":
		return check{1, item, verifyNG, "not found; create it or fix targetGroupArn in the service definition"}
	}
	if why, skipped := notAnswered(err); skipped {
		return check{1, item, verifySkip, "ELBv2 is not available: " + why}
	}
	return check{1, item, verifyNG, fmt.Sprintf("describing it: %v", err)}
}

// checkServiceDefinition checks the service definition against the task
// definition: network configuration for awsvpc, and each load balancer's
// container and port.
func checkServiceDefinition(sd *ecs.CreateServiceInput, td *ecs.RegisterTaskDefinitionInput) []check {
	var checks []check
	if td.NetworkMode == types.NetworkModeAwsvpc {
		var problems []string
		if sd.NetworkConfiguration == nil || sd.NetworkConfiguration.AwsvpcConfiguration == nil {
			problems = append(problems, "the task definition's networkMode is awsvpc but the service definition has no networkConfiguration.awsvpcConfiguration")
		}
		checks = append(checks, ng(1, "networkConfiguration", problems))
	}
	for i, lb := range sd.LoadBalancers {
		item := fmt.Sprintf("loadBalancers[%d] container %s:%d", i, aws.ToString(lb.ContainerName), aws.ToInt32(lb.ContainerPort))
		var problems []string
		j := slices.IndexFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == aws.ToString(lb.ContainerName) })
		switch {
		case lb.ContainerName == nil || lb.ContainerPort == nil:
			problems = append(problems, "containerName and containerPort are required")
		case j < 0:
			problems = append(problems, fmt.Sprintf("the task definition has no container %s", aws.ToString(lb.ContainerName)))
		case !slices.ContainsFunc(td.ContainerDefinitions[j].PortMappings, func(pm types.PortMapping) bool { return aws.ToInt32(pm.ContainerPort) == *lb.ContainerPort }):
			problems = append(problems, fmt.Sprintf("container %s has no portMapping with containerPort %d", *lb.ContainerName, *lb.ContainerPort))
		}
		checks = append(checks, ng(1, item, problems))
	}
	return checks
}

// Fargate's task sizes: memory (MiB) from, to and step for each cpu.
var fargateSizes = map[int][3]int{
	256:   {512, 2048, 512},
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// checkTaskDefinition checks what a task definition can be checked for
// without running it: an essential container, plausible cpu and memory,
// well-formed images, port mappings and health checks. sd may be nil.
func checkTaskDefinition(td *ecs.RegisterTaskDefinitionInput, sd *ecs.CreateServiceInput) []check {
	checks := []check{ok(0, "task definition "+aws.ToString(td.Family))}
	essential := slices.ContainsFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return c.Essential == nil || *c.Essential })
	var problems []string
	if !essential {
		problems = append(problems, "no container is essential; ECS needs at least one")
	}
	checks = append(checks, ng(1, "essential container", problems))

	taskCPU, cpuErr := units(td.Cpu, "vcpu")
	taskMem, memErr := units(td.Memory, "gb")
	problems = nil
	for _, err := range []error{cpuErr, memErr} {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	fargate := slices.Contains(td.RequiresCompatibilities, types.CompatibilityFargate) || (sd != nil && sd.LaunchType == types.LaunchTypeFargate)
	if fargate && cpuErr == nil && memErr == nil {
		if size, known := fargateSizes[taskCPU]; !known || taskMem < size[0] || taskMem > size[1] || (taskMem-size[0])%size[2] != 0 {
			problems = append(problems, fmt.Sprintf("Fargate has no task size of cpu %d with memory %d; see the Fargate task size table", taskCPU, taskMem))
		}
	}
	var sumMem, sumCPU int
	for _, c := range td.ContainerDefinitions {
		sumMem += int(aws.ToInt32(c.Memory))
		sumCPU += int(c.Cpu)
	}
	if taskMem > 0 && sumMem > taskMem {
		problems = append(problems, fmt.Sprintf("the containers' memory adds up to %d MiB, more than the task's %d", sumMem, taskMem))
	}
	if taskCPU > 0 && sumCPU > taskCPU {
		problems = append(problems, fmt.Sprintf("the containers' cpu adds up to %d units, more than the task's %d", sumCPU, taskCPU))
	}
	item := "task size"
	if td.Cpu != nil || td.Memory != nil {
		item = fmt.Sprintf("task size cpu %s memory %s", orDash(aws.ToString(td.Cpu)), orDash(aws.ToString(td.Memory)))
	}
	checks = append(checks, ng(1, item, problems))

	for _, c := range td.ContainerDefinitions {
		checks = append(checks, checkContainer(c, td.NetworkMode, taskMem)...)
	}
	return checks
}

func checkContainer(c types.ContainerDefinition, mode types.NetworkMode, taskMem int) []check {
	name := aws.ToString(c.Name)
	checks := []check{ok(1, "container "+name)}
	image := aws.ToString(c.Image)
	var problems []string
	if image == "" {
		problems = append(problems, "no image")
	} else if _, err := reference.ParseNormalizedNamed(image); err != nil {
		problems = append(problems, fmt.Sprintf("not a well-formed image reference (%v); use [registry/]repository[:tag][@digest] in lower case", err))
	}
	checks = append(checks, ng(2, "image "+image, problems))

	problems = nil
	mem, res := aws.ToInt32(c.Memory), aws.ToInt32(c.MemoryReservation)
	switch {
	case c.Memory == nil && c.MemoryReservation == nil && taskMem == 0:
		problems = append(problems, "neither the container (memory or memoryReservation) nor the task (memory) sets memory; ECS needs one")
	case c.Memory != nil && mem < 6:
		problems = append(problems, fmt.Sprintf("memory %d MiB is below the 6 MiB a container needs", mem))
	case c.Memory != nil && c.MemoryReservation != nil && res > mem:
		problems = append(problems, fmt.Sprintf("memoryReservation %d is above memory %d", res, mem))
	}
	if c.Cpu < 0 {
		problems = append(problems, fmt.Sprintf("cpu %d is negative", c.Cpu))
	}
	checks = append(checks, ng(2, "memory and cpu", problems))

	if len(c.PortMappings) > 0 {
		problems = nil
		seen := map[string]bool{}
		for _, pm := range c.PortMappings {
			port := aws.ToInt32(pm.ContainerPort)
			if pm.ContainerPort == nil || port < 1 || port > 65535 {
				problems = append(problems, fmt.Sprintf("containerPort %d is not a port", port))
				continue
			}
			proto := string(pm.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			key := fmt.Sprintf("%d/%s", port, proto)
			if seen[key] {
				problems = append(problems, fmt.Sprintf("containerPort %s is mapped twice", key))
			}
			seen[key] = true
			if mode == types.NetworkModeAwsvpc && pm.HostPort != nil && *pm.HostPort != port {
				problems = append(problems, fmt.Sprintf("hostPort %d differs from containerPort %d, which awsvpc does not allow", *pm.HostPort, port))
			}
		}
		checks = append(checks, ng(2, "portMappings", problems))
	}

	if hc := c.HealthCheck; hc != nil {
		checks = append(checks, ng(2, "healthCheck", healthCheckProblems(hc)))
	}
	return checks
}

// healthCheckProblems checks the form ECS requires of a container health
// check.
func healthCheckProblems(hc *types.HealthCheck) []string {
	var problems []string
	switch {
	case len(hc.Command) == 0:
		problems = append(problems, `command is empty; use ["CMD", "executable", "arg", ...] or ["CMD-SHELL", "shell command"]`)
	case hc.Command[0] == "CMD" && len(hc.Command) < 2:
		problems = append(problems, `"CMD" needs the executable to run after it`)
	case hc.Command[0] == "CMD-SHELL" && len(hc.Command) != 2:
		problems = append(problems, `"CMD-SHELL" takes exactly one shell command string after it`)
	case hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL":
		problems = append(problems, fmt.Sprintf(`command starts with %q; it must start with "CMD" or "CMD-SHELL"`, hc.Command[0]))
	}
	for _, r := range []struct {
		name     string
		v        *int32
		min, max int32
	}{{"interval", hc.Interval, 5, 300}, {"timeout", hc.Timeout, 2, 120}, {"retries", hc.Retries, 1, 10}, {"startPeriod", hc.StartPeriod, 0, 300}} {
		if r.v != nil && (*r.v < r.min || *r.v > r.max) {
			problems = append(problems, fmt.Sprintf("%s %d is outside %d-%d", r.name, *r.v, r.min, r.max))
		}
	}
	return problems
}

// units parses a task cpu ("1024", "1 vCPU") or memory ("2048", "2 GB")
// value into CPU units or MiB; 0 when unset.
func units(v *string, unit string) (int, error) {
	if v == nil || *v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(unitsOf(*v, unit)))
	if err != nil || n <= 0 {
		what := map[string]string{"vcpu": "cpu", "gb": "memory"}[unit]
		return 0, fmt.Errorf("task %s %q is neither a number nor like \"1 %s\"", what, *v, map[string]string{"vcpu": "vCPU", "gb": "GB"}[unit])
	}
	return n, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
