package controller

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsd/ecsd/internal/ecsmodel"
	"github.com/ecsd/ecsd/internal/store"
)

// Drainer turns DRAINING services with no remaining tasks INACTIVE.
type Drainer struct {
	Store  *store.Store
	Logger *slog.Logger

	kick chan struct{}
}

// NewDrainer returns a Drainer subscribed to st's changes.
func NewDrainer(st *store.Store, logger *slog.Logger) *Drainer {
	d := &Drainer{Store: st, Logger: logger, kick: make(chan struct{}, 1)}
	st.Subscribe(func(changes []store.Change) {
		for _, c := range changes {
			if c.Bucket == store.Services || c.Bucket == store.Tasks {
				d.Kick()
				return
			}
		}
	})
	return d
}

// Kick asks for a pass; it never blocks.
func (d *Drainer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run makes passes until ctx ends.
func (d *Drainer) Run(ctx context.Context) {
	d.Kick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
			if err := d.Pass(); err != nil {
				d.Logger.Error("finishing drained services", "error", err)
			}
		}
	}
}

// Pass finishes every drained service once.
func (d *Drainer) Pass() error {
	var draining []string
	err := d.Store.View(func(tx *store.Tx) error {
		return store.Each(tx, store.Services, "", func(key string, rec *store.ServiceRecord) error {
			if aws.ToString(rec.Service.Status) == ecsmodel.ServiceDraining {
				draining = append(draining, key)
			}
			return nil
		})
	})
	if err != nil || len(draining) == 0 {
		return err
	}
	return d.Store.Update(func(tx *store.Tx) error {
		for _, key := range draining {
			var rec store.ServiceRecord
			if found, err := tx.Get(store.Services, key, &rec); err != nil || !found || aws.ToString(rec.Service.Status) != ecsmodel.ServiceDraining {
				if err != nil {
					return err
				}
				continue
			}
			region, cluster := splitServiceKey(key)
			busy := false
			err := store.Each(tx, store.Tasks, store.Prefix(region, cluster), func(_ string, t *store.TaskRecord) error {
				if aws.ToString(t.Task.Group) == ecsmodel.ServiceGroup(aws.ToString(rec.Service.ServiceName)) && aws.ToString(t.Task.LastStatus) != ecsmodel.TaskStopped {
					busy = true
					return store.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
			if busy {
				continue
			}
			rec.Service.Status = aws.String(ecsmodel.ServiceInactive)
			rec.Service.Deployments = []types.Deployment{}
			if err := tx.Put(store.Services, key, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

func splitServiceKey(key string) (region, cluster string) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 2 {
		return "", ""
	}
	return parts[0], parts[1]
}
