package ui

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/registry"
)

// validName is the registry's rule for model names (registry.checkName):
// anything else, a path with "..", say, is no model.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// versionRow is what the models pages show of one version.
type versionRow struct {
	Version int
	Info    *bundle.Info
	Err     string // why the version could not be read
	// Test metrics from evaluation.json.
	AUC, LogLoss, Accuracy *float64
	RMSE                   *float64 // a regression's
	Gate                   *pipeline.GateDecision
	Decision               string
	Aliases                []string
	RunExists              bool
}

// versionCache keeps what was read of each version, by "name@version":
// a version is read-only once registered.
type versionCache struct {
	mu sync.Mutex
	m  map[string]*versionRow
}

func (s *Server) version(name string, v int) *versionRow {
	key := name + "@" + strconv.Itoa(v)
	s.models.mu.Lock()
	row, ok := s.models.m[key]
	s.models.mu.Unlock()
	if ok {
		c := *row
		return &c
	}
	row = &versionRow{Version: v}
	dir, err := s.store.VersionDir(name, v)
	if err == nil {
		row.Info, err = bundle.ReadInfo(dir)
	}
	if err != nil {
		row.Err = err.Error()
		c := *row
		return &c // not cached: it may be readable later
	}
	var ev struct {
		ROCAUC   *float64 `json:"roc_auc"`
		LogLoss  *float64 `json:"log_loss"`
		Accuracy *float64 `json:"accuracy"`
		RMSE     *float64 `json:"rmse"`
	}
	if fsx.ReadJSON(filepath.Join(dir, bundle.EvaluationFile), &ev) == nil {
		row.AUC, row.LogLoss, row.Accuracy, row.RMSE = ev.ROCAUC, ev.LogLoss, ev.Accuracy, ev.RMSE
	}
	var g pipeline.GateDecision
	if rec, err := bundle.ReadRecord(dir); err == nil && rec.Gate != nil && json.Unmarshal(rec.Gate, &g) == nil {
		row.Gate, row.Decision = &g, gateDecision(&g)
	}
	s.models.mu.Lock()
	if s.models.m == nil {
		s.models.m = map[string]*versionRow{}
	}
	s.models.m[key] = row
	s.models.mu.Unlock()
	c := *row
	return &c
}

type modelSummary struct {
	Name       string
	Versions   int
	Latest     int
	Aliases    []aliasRow
	Production *versionRow
}

type aliasRow struct {
	Alias   string
	Version int
}

func sortedAliases(al map[string]int) []aliasRow {
	var out []aliasRow
	for a, v := range al {
		out = append(out, aliasRow{a, v})
	}
	slices.SortFunc(out, func(a, b aliasRow) int {
		// production first, then previous, then the others by name.
		rank := func(s string) int {
			switch s {
			case pipeline.AliasProduction:
				return 0
			case pipeline.AliasPrevious:
				return 1
			}
			return 2
		}
		return cmp.Or(cmp.Compare(rank(a.Alias), rank(b.Alias)), cmp.Compare(a.Alias, b.Alias))
	})
	return out
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	names, err := s.store.Models()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var out []modelSummary
	for _, name := range names {
		vs, err := s.store.Versions(name)
		if err != nil || len(vs) == 0 {
			continue
		}
		al, err := s.store.Aliases(name)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		m := modelSummary{Name: name, Versions: len(vs), Latest: vs[len(vs)-1], Aliases: sortedAliases(al)}
		if v, ok := al[pipeline.AliasProduction]; ok {
			m.Production = s.version(name, v)
		}
		out = append(out, m)
	}
	s.render(w, r, modelsTmpl, "models", "Models", out)
}

type modelPage struct {
	Name     string
	Aliases  []aliasRow
	Versions []*versionRow
	Previous int // the version rollback goes back to, 0 if none
	Moved    string
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	vs, ok := s.versions(w, r, name)
	if !ok {
		return
	}
	al, err := s.store.Aliases(name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := modelPage{Name: name, Aliases: sortedAliases(al), Previous: al[pipeline.AliasPrevious]}
	if v := r.URL.Query().Get("production"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			p.Moved = fmt.Sprintf("Production now points at version %d.", n)
		}
	}
	for _, v := range slices.Backward(vs) {
		row := s.version(name, v)
		for _, a := range p.Aliases {
			if a.Version == v {
				row.Aliases = append(row.Aliases, a.Alias)
			}
		}
		if row.Info != nil && row.Info.RunID != "" {
			_, err := s.store.RunDir(row.Info.RunID)
			row.RunExists = err == nil
		}
		p.Versions = append(p.Versions, row)
	}
	s.render(w, r, modelTmpl, "models", "Model "+name, p)
}

// versions returns the versions of model name, or answers 404 for an
// invalid or unknown name.
func (s *Server) versions(w http.ResponseWriter, r *http.Request, name string) ([]int, bool) {
	if !validName.MatchString(name) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no model %q in this registry", name))
		return nil, false
	}
	vs, err := s.store.Versions(name)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && len(vs) == 0) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no model %q in this registry", name))
		return nil, false
	}
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	return vs, true
}

// maxForm is the largest action form read: a version and a token.
const maxForm = 4 << 10

// handleAction is POST /models/NAME/promote (form: version) and
// /models/NAME/rollback: it moves the production alias like `mlpipe
// models promote` and `rollback` do, under the registry's writer lock,
// then redirects to the model's page.
//
// 403: actions disabled, or a missing or wrong CSRF token. 400: a bad
// form or version. 404: no such model or version. 409: the registry is
// locked by another writer, or there is no previous version to roll
// back to.
func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	if !s.opts.AllowActions {
		s.fail(w, r, http.StatusForbidden, "actions are disabled: start the dashboard with --allow-actions to promote and roll back")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
		s.fail(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the model's page and try again")
		return
	}
	name := r.PathValue("name")
	if _, ok := s.versions(w, r, name); !ok {
		return
	}
	action := path.Base(r.URL.Path)
	var target int
	if action == "promote" {
		v, err := strconv.Atoi(r.PostForm.Get("version"))
		if err != nil || v < 1 {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("promote: version %q is not a version number", r.PostForm.Get("version")))
			return
		}
		if _, err := s.store.VersionDir(name, v); err != nil {
			s.fail(w, r, http.StatusNotFound, fmt.Sprintf("promote: %s has no version %d", name, v))
			return
		}
		target = v
	}
	unlock, err := s.store.Lock(r.Context(), false)
	if errors.Is(err, registry.ErrLocked) {
		s.fail(w, r, http.StatusConflict, err.Error()+"; try again when it is done")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer unlock()
	if action == "rollback" {
		prev, err := s.store.Alias(name, pipeline.AliasPrevious)
		if errors.Is(err, registry.ErrNotFound) {
			s.fail(w, r, http.StatusConflict, fmt.Sprintf("rollback: %s has no previous version to roll back to", name))
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		target = prev
	}
	old, err := moveProduction(s.store, name, target)
	if errors.Is(err, pipeline.ErrRefused) {
		s.fail(w, r, http.StatusConflict, err.Error()+"; production is unchanged")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("ui: production moved", "model", name, "action", action, "from", old, "to", target, "remote", r.RemoteAddr)
	http.Redirect(w, r, fmt.Sprintf("%s/models/%s?production=%d", s.opts.Prefix, name, target), http.StatusSeeOther)
}

// moveProduction points production at v and previous at the old
// production version, after checking that v loads (pipeline.Promote, as
// `mlpipe models promote` does); it returns the old version (0 if none).
// The caller holds the lock.
func moveProduction(store *registry.Store, name string, v int) (int, error) {
	return pipeline.Promote(store, name, v)
}
