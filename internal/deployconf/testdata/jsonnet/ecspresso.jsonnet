local env = std.native('env');
{
  region: 'eu-west-1',
  service: 'worker',
  task_definition: 'exported-task-def.json',
  service_definition: 'ecs-service-def.json',
  timeout: '1h30m',
  appspec: null,
  unknown_key: std.extVar('stage'),
  required_version: '~> 2.1',
}
