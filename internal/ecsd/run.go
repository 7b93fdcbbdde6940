package ecsd

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Run starts the loop of every part (the load balancers, the drainer, the
// task runner, the service scheduler) and serves the APIs on the
// Listener, if there is one, until ctx ends or serving fails. Then it
// shuts the HTTP server down (requests in flight get two seconds; idle
// connections are not waited for), stops the loops and waits for them.
// It returns nil after ctx ended, else why serving failed. Close the
// Server afterwards.
func (s *Server) Run(ctx context.Context) error {
	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	for _, run := range []func(context.Context){s.LB.Run, s.Drainer.Run, s.Tasks.Run, s.Services.Run} {
		loops.Go(func() { run(loopCtx) })
	}
	defer func() {
		stopLoops()
		loops.Wait()
	}()
	if s.cfg.Listener == nil {
		<-ctx.Done()
		return nil
	}
	// Keep-alive connections stay open while idle (AWS SDKs reuse them);
	// without IdleTimeout, ReadHeaderTimeout would cut them after 10 s.
	// The Guard bounds how long a request body may take.
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.cfg.Listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
