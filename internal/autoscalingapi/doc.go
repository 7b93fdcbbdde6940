// Package autoscalingapi answers the Application Auto Scaling API (AWS JSON
// 1.1, X-Amz-Target prefix AnyScaleFrontendService) on ecsd's endpoint, so
// that tools which look up a service's scaling configuration — ecspresso,
// ecsctl's --suspend-auto-scaling, the aws CLI — get an answer instead of
// an error.
//
// ecsd does not scale anything yet, so there are no scalable targets,
// scaling policies, scheduled actions or scaling activities: the four
// Describe operations validate their input as Application Auto Scaling
// does and answer empty lists. Every other operation of the model answers
// UnsupportedFeatureException naming it; a name that is no Application Auto
// Scaling operation answers UnknownOperationException.
//
// Vocabulary:
//   - service namespace: the AWS service a scalable target belongs to
//     ("ecs"); scalable dimension: what is scaled
//     ("ecs:service:DesiredCount"); resource ID: which resource
//     ("service/<cluster>/<service>").
//   - Member names on the wire are the model's, which for this service are
//     the SDK's field names ("ServiceNamespace"), not lowerCamel as in ECS;
//     see awsproto.AsField.
package autoscalingapi
