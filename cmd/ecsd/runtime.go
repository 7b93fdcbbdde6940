package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/driver/docker"
	"github.com/ecsd/ecsd/internal/driver/fake"
	"github.com/ecsd/ecsd/internal/driver/process"
)

// runtimes are the values of --runtime.
var runtimes = []string{"auto", "docker", "process", "fake"}

// newDriver makes the runtime driver --runtime asks for. auto means docker
// when an engine answers, else process.
func newDriver(ctx context.Context, kind, dataDir string, sink driver.Sink, clk clock.Clock, logger *slog.Logger) (driver.Driver, error) {
	switch kind {
	case "auto":
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		d, err := newDocker(pingCtx, dataDir, sink, clk, logger)
		cancel()
		if err == nil {
			return d, nil
		}
		logger.Info("no Docker engine answers; running tasks as host processes", "reason", err)
		return newProcess(dataDir, sink, clk, logger)
	case "docker":
		return newDocker(ctx, dataDir, sink, clk, logger)
	case "process":
		return newProcess(dataDir, sink, clk, logger)
	case "fake":
		return fake.New(clk, sink, fake.Options{Logger: logger}), nil
	}
	return nil, fmt.Errorf("--runtime %q: use auto, docker, process or fake", kind)
}

func newDocker(ctx context.Context, dataDir string, sink driver.Sink, clk clock.Clock, logger *slog.Logger) (driver.Driver, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the ecsd binary for the demo image: %w", err)
	}
	return docker.New(ctx, sink, docker.Options{Clock: clk, Logger: logger, DemoBinary: self, Instance: instanceName(dataDir)})
}

// instanceName names this ecsd's containers on a shared engine: one per
// data dir, so two ecsds (other data dirs) never adopt or stop each other's
// containers, while a restart on the same data dir finds its own.
func instanceName(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return "ecsd-" + hex.EncodeToString(sum[:6])
}

func newProcess(dataDir string, sink driver.Sink, clk clock.Clock, logger *slog.Logger) (driver.Driver, error) {
	return process.New(sink, process.Options{DataDir: filepath.Join(dataDir, "process"), Clock: clk, Logger: logger})
}
