package ecsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ecsd/ecsd/internal/clock"
	"github.com/ecsd/ecsd/internal/controller"
	"github.com/ecsd/ecsd/internal/driver"
	"github.com/ecsd/ecsd/internal/ecsapi"
	"github.com/ecsd/ecsd/internal/elbapi"
	"github.com/ecsd/ecsd/internal/lbrun"
	"github.com/ecsd/ecsd/internal/rollout"
	"github.com/ecsd/ecsd/internal/server"
	"github.com/ecsd/ecsd/internal/store"
	"github.com/ecsd/ecsd/internal/taskrun"
)

// Defaults of Config.Region and Config.AccountID (and of ecsd's
// --region and --account-id).
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// shutdownGrace is how long requests in flight (API and listeners) get to
// finish at shutdown.
const shutdownGrace = 2 * time.Second

// Config is what an ecsd is built from.
type Config struct {
	// DataDir holds the state (ecsd.db). NoSync skips fsync on state
	// writes: for tests only (store.Options).
	DataDir string
	NoSync  bool
	// Region answers requests that carry no SigV4 credential scope, and
	// gets the default cluster at start; AccountID is the account in
	// ARNs. DefaultRegion and DefaultAccountID when empty.
	Region    string
	AccountID string
	// Params are the scheduler's timings and the tasks-per-service limit
	// (zero values: ECS's).
	Params rollout.Params
	// Driver makes the runtime driver tasks run on; sink takes its events
	// (the task runner's). Required: cmd/ecsd picks docker, process or
	// fake; tests give the fake driver of a fake.Machine.
	Driver func(sink driver.Sink) (driver.Driver, error)
	// Listener is where Run serves the AWS APIs; nil means they are not
	// served over HTTP (tests call the parts). The Server owns it.
	Listener net.Listener
	// Guard checks every request before the APIs see it; nil means a
	// Guard with the defaults for Listener's address.
	Guard *server.Guard
	// Clock is clock.Real() when nil; Logger is slog.Default() when nil.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Server is one assembled ecsd. Its fields are the parts, for tests and
// tools that drive them step by step instead of calling Run; they are set
// by New and must not be replaced.
type Server struct {
	Store    *store.Store
	LB       *lbrun.Runner // the live load balancers
	ECS      *ecsapi.API
	ELB      *elbapi.API
	Services *controller.Services // the service scheduler
	Drainer  *controller.Drainer
	Tasks    *taskrun.Runner
	Driver   driver.Driver
	// Handler answers every AWS API, behind the Guard.
	Handler http.Handler

	cfg       Config
	log       *slog.Logger
	closeOnce sync.Once
	closeErr  error
}

// New builds an ecsd in the order the package documentation explains:
// it opens the store, brings back the last run's load balancers, builds
// the APIs and controllers, makes the driver and recovers the tasks it
// still runs. Nothing runs in the background until Run (the load
// balancers' listeners serve at once). On error everything New opened is
// closed again; the error says what could not be done.
func New(cfg Config) (*Server, error) {
	if cfg.Driver == nil {
		return nil, errors.New("ecsd: Config.Driver is required")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if err := s.build(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// build makes the parts, in order; Close releases whatever it made.
func (s *Server) build() error {
	cfg, clk, logger := s.cfg, s.cfg.Clock, s.cfg.Logger
	var err error
	if s.Store, err = store.OpenWith(cfg.DataDir, store.Options{NoSync: cfg.NoSync}); err != nil {
		return fmt.Errorf("cannot open the data dir: %w", err)
	}
	// Load balancers of the last run first: their listeners serve again
	// (targets in their last known health, drains resumed) before anything
	// slower, such as the task runtime's recovery.
	if s.LB, err = lbrun.New(lbrun.Config{Store: s.Store, Clock: clk, Logger: logger}); err != nil {
		return fmt.Errorf("cannot recover load balancers from the last run: %w", err)
	}
	s.Services = controller.NewServices(controller.ServicesConfig{
		Store: s.Store, Clock: clk, Logger: logger, AccountID: cfg.AccountID, Params: cfg.Params, Targets: s.LB,
	})
	s.Drainer = controller.NewDrainer(s.Store, logger)
	s.ECS = ecsapi.New(ecsapi.Config{
		Store: s.Store, AccountID: cfg.AccountID, Now: clk.Now, Logger: logger,
		MaxTasksPerService: cfg.Params.MaxTasksPerService, TargetGroup: s.targetGroup,
	})
	s.ELB = elbapi.New(elbapi.Config{Store: s.Store, AccountID: cfg.AccountID, Clock: clk, Logger: logger, Live: s.LB})
	if err := s.ECS.EnsureDefaultCluster(cfg.Region); err != nil {
		return fmt.Errorf("cannot create the default cluster: %w", err)
	}
	if err := s.handler(); err != nil {
		return err
	}

	// The driver's events go to the task runner, so the runner is made
	// first and then given the driver.
	s.Tasks = taskrun.New(taskrun.Config{Store: s.Store, Clock: clk, Logger: logger, Targets: s.LB, ServiceEvent: s.Services.RecordEvent})
	if s.Driver, err = cfg.Driver(s.Tasks.HandleEvent); err != nil {
		return fmt.Errorf("cannot start the task runtime: %w", err)
	}
	s.Tasks.Attach(s.Driver)
	if err := s.Tasks.Recover(context.Background()); err != nil {
		return fmt.Errorf("cannot recover tasks from the last run: %w", err)
	}
	return nil
}

// targetGroup is how the ECS API checks a service's load balancers: does
// the target group exist, and how many load balancers use it.
func (s *Server) targetGroup(arn string) (bool, int) {
	tg, ok := s.LB.TargetGroup(arn)
	return ok, len(tg.LoadBalancerARNs)
}

// handler builds the Handler: the AWS APIs of routes at any path (as AWS
// answers POST /), behind the Guard. Every endpoint ecsd serves goes
// through guard.Protect.
func (s *Server) handler() error {
	h := server.New(s.cfg.Region, s.log)
	s.routes(h)
	guard := s.cfg.Guard
	if guard == nil {
		gc := server.GuardConfig{Clock: s.cfg.Clock, Logger: s.log}
		if s.cfg.Listener != nil {
			gc.Listen = s.cfg.Listener.Addr().String()
		}
		var err error
		if guard, err = server.NewGuard(gc); err != nil {
			return fmt.Errorf("cannot make the request guard: %w", err)
		}
	}
	s.Handler = guard.Protect(h, h.Endpoint())
	return nil
}

// Addr is the address the APIs are served on, or nil without a Listener.
func (s *Server) Addr() net.Addr {
	if s.cfg.Listener == nil {
		return nil
	}
	return s.cfg.Listener.Addr()
}

// Close releases the driver (its tasks keep running, for the next ecsd to
// recover), the load balancers (requests in flight get a moment to
// finish), the listener and the store. Call it after Run has returned;
// calling it again does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.Driver != nil {
			errs = append(errs, s.Driver.Close())
		}
		if s.LB != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			s.LB.Shutdown(ctx)
			cancel()
		}
		if s.cfg.Listener != nil {
			if err := s.cfg.Listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		if s.Store != nil {
			errs = append(errs, s.Store.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
