// Package deployconf reads the deploy configuration of ecsctl: an
// ecspresso (v2) style config file and the task and service definition
// files it names, turned into aws-sdk-go-v2 ECS inputs.
//
// # Config files
//
// Load reads ecspresso.yml / .yaml (YAML), .json or .jsonnet. As in
// ecspresso, YAML files are rendered as a Go template first and then
// parsed; JSON and Jsonnet files are evaluated by go-jsonnet (with the
// Options' ext vars) and the resulting JSON is then rendered as a template.
// The keys ecsctl uses are
//
//	region            AWS region (falls back to AWS_REGION)
//	cluster           cluster name, "default" when empty
//	service           service name
//	service_definition, task_definition
//	                  definition file paths, relative to the config file's directory
//	timeout           "10m", "90s", ... (Go duration); a bare number means seconds
//	required_version  a version constraint such as ">= 2.0.0, < 3" (see CheckVersion)
//
// Other keys (plugins, appspec, codedeploy, filter_command, or unknown
// ones) are kept in Config.Extra and reported as warnings: ecsctl does
// not act on them.
//
// # Templates
//
// Config and definition files may use text/template actions with the
// functions ecspresso (through kayac/go-config) provides:
//
//	{{ env "NAME" "default" }}   value of NAME, or "default" when NAME is unset or empty
//	{{ env "A" "B" "default" }}  first non-empty of A and B, else "default"
//	{{ must_env "NAME" }}        value of NAME; an error when NAME is unset
//	{{ json_escape "a\"b" }}     the argument JSON-escaped, without the surrounding quotes
//
// Environment values come from Options.EnvFiles (KEY=VALUE lines,
// overriding the process environment, as ecspresso's --envfile does) and
// then from Options.Env (os.LookupEnv by default). The process environment
// is never modified. Jsonnet files can also call std.native("env")(name,
// default) and std.native("must_env")(name), and read std.extVar values
// given in Options.ExtStr / Options.ExtCode.
//
// ecspresso's plugin functions (tfstate, ssm, secretsmanager_arn, ...)
// are not available; a template calling one fails with an error naming
// the function.
//
// # Definition files
//
// Config.TaskDefinition and Config.ServiceDefinition read a .json or
// .jsonnet definition (a .jsonnet one is evaluated first, then rendered as
// a template; any other file is rendered and then parsed as JSON) and
// decode it with awsproto.DecodeJSON into *ecs.RegisterTaskDefinitionInput
// or *ecs.CreateServiceInput. Member names may be lowerCamel, as the ECS
// API writes them, or in the SDK's UpperCamel casing. Members the input has
// no field for become warnings that carry their JSON path; members that
// only appear in Describe* output (taskDefinitionArn, revision, status,
// runningCount, events, ...) are dropped silently, so files exported by
// "ecspresso init" or "aws ecs describe-task-definition" load as they are
// (a {"taskDefinition": {...}, "tags": [...]} wrapper is unwrapped).
//
// Following ecspresso, a service definition leaves out serviceName and
// cluster; ServiceDefinition fills them from the config (a value in the
// file that disagrees with the config is overridden, with a warning).
// taskDefinition is left as the file has it (normally empty): the deployer
// sets it to the task definition revision it registers.
package deployconf
