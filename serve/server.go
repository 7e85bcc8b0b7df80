package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Log receives server events. Nil means no logging.
	Log *slog.Logger
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// after ctx is cancelled (default 10s).
	ShutdownTimeout time.Duration
}

// Server answers health probes, and later predictions.
type Server struct {
	log      *slog.Logger
	timeout  time.Duration
	notReady atomic.Pointer[string] // why the server is not ready; nil when ready
	mux      *http.ServeMux
}

// New returns a server that is live but not ready.
func New(opts Options) *Server {
	s := &Server{log: opts.Log, timeout: opts.ShutdownTimeout, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	s.SetNotReady("no model is loaded")
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

// SetNotReady marks the server not ready, with the reason /readyz gives.
func (s *Server) SetNotReady(reason string) { s.notReady.Store(&reason) }

// SetReady marks the server ready.
func (s *Server) SetReady() { s.notReady.Store(nil) }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if why := s.notReady.Load(); why != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": *why})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Run serves on ln until ctx is cancelled, then stops accepting
// connections and waits up to the shutdown timeout for in-flight
// requests to finish.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second, // a slow client cannot hold a connection open forever
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.timeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
