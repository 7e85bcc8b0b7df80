package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Registry is what the server needs from the model registry;
// *registry.Store has these methods.
type Registry interface {
	// Resolve turns "NAME", "NAME@ALIAS" or "NAME@VERSION" into a model
	// name and version.
	Resolve(ref string) (name string, version int, err error)
	// VersionDir returns the bundle directory of a version.
	VersionDir(name string, version int) (string, error)
}

// ReloadResult says what a Reload did.
type ReloadResult struct {
	// Changed is true when a new version was loaded and swapped in.
	Changed bool `json:"changed"`
	// Model and Version are what is served after the reload.
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Previous is the version served before (when Changed).
	Previous int `json:"previous,omitempty"`
}

// Reload resolves the model reference in the registry and, if it names
// another version than the one served, loads that version in the calling
// goroutine, checks it (see LoadModel) and swaps it in; requests in
// flight finish on the model they started with. A version that fails is
// refused: the error wraps ErrBundle, the failure is logged and counted,
// and the old model keeps serving. Reload is safe to call concurrently
// (calls are serialised). It fails without a Registry.
func (s *Server) Reload(ctx context.Context) (ReloadResult, error) {
	return s.reload(ctx, true)
}

// reload is Reload; with force false (polling), a version that was
// refused before is not tried again until the reference moves.
func (s *Server) reload(ctx context.Context, force bool) (ReloadResult, error) {
	if s.opts.Registry == nil {
		return ReloadResult{}, fmt.Errorf("reload: %w: this server serves a bundle directory; there is no registry to reload from", ErrBadRequest)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := ctx.Err(); err != nil {
		return ReloadResult{}, fmt.Errorf("reload: %w", err)
	}
	cur := s.model.Load()
	name, version, err := s.opts.Registry.Resolve(s.opts.Ref)
	if err != nil {
		if msg := err.Error(); msg != s.lastErr || force {
			s.lastErr = msg
			s.log.Warn("reload: cannot resolve the model reference", "ref", s.opts.Ref, "err", err)
		}
		return s.result(false, 0), fmt.Errorf("reload: resolve %s: %w", s.opts.Ref, err)
	}
	s.lastErr = ""
	if cur != nil && cur.Name == name && cur.Version == version {
		return s.result(false, 0), nil
	}
	key := fmt.Sprintf("%s@%d", name, version)
	if !force && key == s.refused {
		return s.result(false, 0), nil
	}
	dir, err := s.opts.Registry.VersionDir(name, version)
	if err == nil {
		var m *Model
		start := time.Now()
		if m, err = LoadModel(dir, version); err == nil {
			if m.Name != name {
				err = fmt.Errorf("%w: the bundle of %s names its model %q", ErrBundle, key, m.Name)
			} else {
				s.refused = ""
				if cur != nil {
					s.metrics.reloads.WithLabelValues("success").Inc()
				}
				s.SetModel(m)
				s.log.Debug("model load time", "model", name, "version", version, "took", time.Since(start).Round(time.Millisecond))
				prev := 0
				if cur != nil {
					prev = cur.Version
				}
				return s.result(true, prev), nil
			}
		}
	}
	s.refused = key
	if cur != nil {
		s.metrics.reloads.WithLabelValues("failure").Inc()
		s.log.Error("reload refused: the previous model keeps serving", "model", name, "version", version, "serving", cur.Version, "err", err)
	}
	if !errors.Is(err, ErrBundle) {
		err = fmt.Errorf("%w: %w", ErrBundle, err)
	}
	return s.result(false, 0), fmt.Errorf("reload %s: %w", key, err)
}

func (s *Server) result(changed bool, prev int) ReloadResult {
	r := ReloadResult{Changed: changed, Previous: prev}
	if m := s.model.Load(); m != nil {
		r.Model, r.Version = m.Name, m.Version
	}
	return r
}

// watch polls the model reference every PollInterval until ctx is done.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.reload(ctx, false) // reload logs and counts its failures
		}
	}
}

// adminReload is POST /admin/reload: check the reference now.
func (s *Server) adminReload(c call) {
	res, err := s.Reload(c.RequestCtx)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, res)
}
