// ext vars: --ext-str env=staging --ext-code replicas=3 --ext-code debug=true
local env = std.extVar('env');
local debug = std.extVar('debug');
local container(name, port) = {
  name: name,
  image: 'ghcr.io/example/%s:{{ must_env `IMAGE_TAG` }}' % name,
  essential: true,
  portMappings: [{ containerPort: port, protocol: 'tcp' }],
  environment: [
    { name: 'ENV', value: env },
    { name: 'DEBUG', value: std.toString(debug) },
    { name: 'REGION', value: std.native('env')('AWS_REGION', 'us-east-1') },
  ],
  logConfiguration: {
    logDriver: 'awslogs',
    options: {
      'awslogs-group': '/ecs/%s/%s' % [env, name],
      'awslogs-region': 'us-east-1',
      'awslogs-stream-prefix': name,
    },
  },
};
{
  family: 'api-' + env,
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
  containerDefinitions: [container('api', 3000)],
  volumes: [{ name: 'tmp' }],
}
