package ecsd

import (
	"github.com/ecsd/ecsd/internal/autoscalingapi"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/elbapi"
	"github.com/ecsd/ecsd/internal/server"
)

// routes registers every AWS API ecsd answers on its endpoint: JSON 1.1
// services under their X-Amz-Target prefix, AWS Query services under their
// API version. Adding an API package is one line here, its service built
// from the Server's parts (s.Store, s.cfg.AccountID, s.cfg.Clock, s.log,
// s.LB, ...); it is then behind the Guard like the others.
func (s *Server) routes(h *server.Handler) {
	h.HandleJSON(ecsapi.TargetPrefix, s.ECS)
	h.HandleQuery(elbapi.Version, s.ELB)
	h.HandleJSON(autoscalingapi.TargetPrefix, autoscalingapi.New())
}
