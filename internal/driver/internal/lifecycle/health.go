package lifecycle

import (
	"time"

	"github.com/ecsd/ecsd/internal/driver"
)

// HealthTracker turns probe results into a health status with Docker's
// rules (which ECS uses): a pass makes the container HEALTHY and resets
// the failure streak; a failure counts unless the container is still in
// its start period and has not been healthy yet; Retries consecutive
// counted failures make it UNHEALTHY. The status starts UNKNOWN.
type HealthTracker struct {
	cfg       driver.HealthCheck
	startedAt time.Time
	status    driver.HealthStatus
	streak    int
}

// NewHealthTracker returns a tracker for a container started at startedAt.
func NewHealthTracker(cfg driver.HealthCheck, startedAt time.Time) *HealthTracker {
	return &HealthTracker{cfg: cfg.WithDefaults(), startedAt: startedAt, status: driver.HealthUnknown}
}

// Resume returns a tracker continuing from a known status (after Recover).
func Resume(cfg driver.HealthCheck, startedAt time.Time, status driver.HealthStatus) *HealthTracker {
	h := NewHealthTracker(cfg, startedAt)
	if status != "" {
		h.status = status
	}
	return h
}

// Status returns the current status.
func (h *HealthTracker) Status() driver.HealthStatus { return h.status }

// Record takes one probe result observed at now and returns the status.
func (h *HealthTracker) Record(pass bool, now time.Time) driver.HealthStatus {
	if pass {
		h.streak = 0
		h.status = driver.HealthHealthy
		return h.status
	}
	if h.status == driver.HealthUnknown && now.Sub(h.startedAt) < h.cfg.StartPeriod {
		return h.status // failures in the start period don't count
	}
	h.streak++
	if h.streak >= h.cfg.Retries {
		h.status = driver.HealthUnhealthy
	}
	return h.status
}
