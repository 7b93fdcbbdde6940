{
  desiredCount: std.extVar('replicas'),
  launchType: 'FARGATE',
  deploymentConfiguration: {
    deploymentCircuitBreaker: { enable: true, rollback: false },
    maximumPercent: 150,
    minimumHealthyPercent: 50,
  },
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-aaaa1111'],
      securityGroups: ['sg-bbbb2222'],
      assignPublicIp: 'ENABLED',
    },
  },
  serviceRegistries: [{ registryArn: 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abc' }],
}
