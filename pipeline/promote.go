package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/serve"
)

// Aliases the gate moves.
const (
	AliasProduction = "production"
	AliasPrevious   = "previous"
)

// GateDecision is the outcome of the promotion gate: the candidate and
// the production model scored on the same test rows.
type GateDecision struct {
	Metric            string   `json:"metric"`
	Candidate         float64  `json:"candidate"`
	Production        *float64 `json:"production,omitempty"`
	ProductionVersion int      `json:"production_version,omitempty"`
	MinImprovement    float64  `json:"min_improvement"`
	Promote           bool     `json:"promote"`
	// Identical means the candidate is the production model itself: it
	// was fitted from the same data, config and code (the same step-cache
	// key), so it is neither scored again nor registered again.
	Identical bool `json:"identical,omitempty"`
	// Rejected means the candidate failed a value threshold or is worse
	// than production by more than the allowed regression; `mlpipe run`
	// then exits 5. A candidate that is neither promoted nor rejected is
	// kept out of production by policy (exit 0).
	Rejected bool   `json:"rejected"`
	Reason   string `json:"reason"`
	// Version is the registry version the candidate was stored as.
	Version int `json:"version,omitempty"`
}

// gateStage compares the candidate with the model behind the production
// alias on the same test split, with the production model's own feature
// pipeline, and decides whether to promote.
type gateStage struct{}

func (gateStage) Name() string { return "gate" }

func (gateStage) Run(ctx context.Context, s *State) error {
	cfg := s.Config
	// No gate.metric: the selection metric's default for the task
	// (roc_auc for a binary one, log_loss for a multiclass one, rmse for
	// a regression).
	m, err := SelectionMetric(cfg.Gate.Metric, taskOf(s.TestSet))
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	metric := m.Name
	proba, err := s.testPredictions(ctx)
	if err != nil {
		return fmt.Errorf("gate: candidate: %w", err)
	}
	cand, err := m.Score(s.TestSet.Y, proba, s.TestSet.Classes)
	if err != nil {
		return fmt.Errorf("gate: candidate: %w", err)
	}
	d := &GateDecision{Metric: metric, Candidate: cand, MinImprovement: cfg.Gate.MinImprovement}
	s.Gate = d
	// Production first, so that every decision names it and its score.
	store, err := registry.Open(cfg.Registry.Path)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	prodVersion, err := store.Alias(cfg.Name, AliasProduction)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		prodVersion = 0
	case err != nil:
		return fmt.Errorf("gate: %w", err)
	}
	if prodVersion > 0 {
		dir, err := store.VersionDir(cfg.Name, prodVersion)
		if err != nil {
			return fmt.Errorf("gate: %w", err)
		}
		d.ProductionVersion = prodVersion
		if info, err := bundle.ReadInfo(dir); err == nil && info.InputsKey != "" && info.InputsKey == s.keys["train"] {
			d.Production, d.Identical = &cand, true
			d.Reason = fmt.Sprintf("the candidate is production v%d itself (fitted from the same data, config and code)", prodVersion)
			return nil
		}
		prod, err := bundle.Load(dir)
		if err != nil {
			return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
		}
		prodProba, err := predictTable(ctx, prod.Features, prod.Model, s.Splits.Test, nil)
		if err != nil {
			return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
		}
		p, err := m.Score(s.TestSet.Y, prodProba, s.TestSet.Classes)
		if err != nil {
			return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
		}
		d.Production = &p
	}
	if mv := cfg.Gate.MinValue; mv != nil && ((m.HigherIsBetter && cand < *mv) || (!m.HigherIsBetter && cand > *mv)) {
		d.Rejected = true
		d.Reason = fmt.Sprintf("%s %.4f fails the value threshold %.4f", metric, cand, *mv)
		return nil
	}
	if d.Production == nil {
		d.Promote, d.Reason = true, "no production model yet"
		return nil
	}
	gain := cand - *d.Production
	if !m.HigherIsBetter {
		gain = *d.Production - cand
	}
	d.Promote = gain >= cfg.Gate.MinImprovement && gain > 0
	switch {
	case d.Promote:
		d.Reason = fmt.Sprintf("%s improves by %.4f (at least %.4f required)", metric, gain, cfg.Gate.MinImprovement)
	case -gain > cfg.Gate.MaxRegression:
		d.Rejected = true
		d.Reason = fmt.Sprintf("%s is worse than production by %.4f (at most %.4f allowed)", metric, -gain, cfg.Gate.MaxRegression)
	default:
		d.Reason = fmt.Sprintf("%s changes by %+.4f; promotion needs an improvement above 0 and of at least %.4f", metric, gain, cfg.Gate.MinImprovement)
	}
	return nil
}

// registerStage stores the candidate as a new version (always, so every
// run's model can be inspected; unless a version has the same digest,
// which it then names) and, if the gate said so, promotes it (Promote).
//
// The run record is saved before and after each registry write
// (RegistryOutcome.Pending), so that a crash or a full disk at any point
// leaves a record that CheckRuns can reconcile with the registry: a
// failed save stops the stage before its next write.
type registerStage struct {
	// wait makes the stage wait for the registry's writer lock instead of
	// failing at once when another process holds it.
	wait bool
	// damage, in tests only, changes the registered version's directory
	// before the promotion's check, to prove that a run's promotion (and
	// so a scheduled one) is checked as `mlpipe models promote`'s is.
	damage func(dir string)
}

func (registerStage) Name() string { return "register" }

func (st registerStage) Run(ctx context.Context, s *State) error {
	cfg := s.Config
	out := &RegistryOutcome{Model: cfg.Name}
	s.Registry = out
	if s.Gate != nil && s.Gate.Identical {
		s.Gate.Version = s.Gate.ProductionVersion
		out.Version, out.Existing = s.Gate.Version, true
		s.log.Info("register: nothing to store", "model", cfg.Name, "version", s.Gate.Version, "reason", "the candidate is that version")
		return nil
	}
	store, err := registry.Open(cfg.Registry.Path)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	// Build the bundle in a temporary directory, then copy it in as a
	// version (Register makes the version appear atomically).
	tmp, err := os.MkdirTemp("", "mlpipe-bundle-")
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer os.RemoveAll(tmp)
	// What the bundle needs of the training split: taken by the features
	// stage, which then released the split, or now when that stage was
	// restored from the cache and the split is still held.
	t := s.training
	if t == nil {
		if s.Splits == nil || s.Splits.Train == nil {
			return errors.New("register: the training split was released without its summary")
		}
		if t, err = summarizeTraining(ctx, s, s.Splits.Train); err != nil {
			return err
		}
		s.training = t
	}
	// The training split's profile is the drift monitor's baseline.
	files := map[string]any{bundle.ProfileFile: t.monitor.Profile}
	if s.Evaluation != nil {
		files[bundle.EvaluationFile] = s.Evaluation
	}
	// A seeded sample of the training rows and of the validation scores
	// (a binary model's probabilities, a regression's predictions): what
	// the monitor compares live traffic with (KS, Wasserstein), written
	// before SaveTrained writes the manifest over every file.
	var scores []float64
	if oneScore(s.TestSet) {
		if s.validProba == nil {
			if err := s.matrices(); err != nil {
				return err
			}
		}
		if scores, err = s.validPredictions(ctx); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	mfiles, err := monitorFiles(s, t, scores)
	if err != nil {
		return err
	}
	maps.Copy(files, mfiles)
	if _, err := SaveTrained(tmp, s, files); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := t.monitor.WriteReference(tmp, scores); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	var refs []string
	for _, name := range []string{monitor.ReferenceFile, monitor.ReferenceScoresFile} {
		if _, err := os.Stat(filepath.Join(tmp, name)); err == nil {
			refs = append(refs, name)
		}
	}
	if _, err := SaveTrained(tmp, s, files, refs...); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	unlock, err := store.Lock(ctx, st.wait)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer unlock()
	crash.Point("register-start")
	out.Pending = PendingRegister
	if err := s.saveRecord("before-register"); err != nil {
		return fmt.Errorf("register: nothing registered: %w", err)
	}
	reg, err := store.Register(cfg.Name, tmp)
	out.Pending = ""
	if err != nil {
		out.Error = err.Error()
		_ = s.saveRecord("register-failed") // best effort: the registry is unchanged
		return err
	}
	out.Version, out.Digest, out.Existing, out.Registered = reg.Version, reg.Digest, reg.Existing, !reg.Existing
	s.Gate.Version = reg.Version
	if reg.Existing {
		s.log.Info("register: nothing to store", "model", cfg.Name, "version", reg.Version, "reason", "a version has the same digest", "digest", reg.Digest)
	}
	prod, err := store.Alias(cfg.Name, AliasProduction)
	if errors.Is(err, registry.ErrNotFound) {
		prod, err = 0, nil
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if !s.Gate.Promote || prod == reg.Version {
		if err := s.saveRecord("after-register"); err != nil {
			return fmt.Errorf("register: %s@%d is registered, production is unchanged, but %w", cfg.Name, reg.Version, err)
		}
		return nil
	}
	out.Pending, out.Previous = PendingPromote, prod
	if err := s.saveRecord("before-promote"); err != nil {
		return fmt.Errorf("register: %s@%d is registered but not promoted: %w", cfg.Name, reg.Version, err)
	}
	if st.damage != nil {
		if dir, err := store.VersionDir(cfg.Name, reg.Version); err == nil {
			st.damage(dir)
		}
	}
	_, err = Promote(store, cfg.Name, reg.Version)
	out.Pending = ""
	if err != nil {
		out.Error = err.Error()
		if serr := s.saveRecord("promote-failed"); serr != nil {
			return fmt.Errorf("register: %w (and %w)", err, serr)
		}
		return fmt.Errorf("register: %s@%d is registered: %w", cfg.Name, reg.Version, err)
	}
	out.Promoted = true
	if err := s.saveRecord("after-promote"); err != nil {
		return fmt.Errorf("register: %s@%d is registered and promoted to production, but %w", cfg.Name, reg.Version, err)
	}
	return nil
}

// ErrRefused means a version failed the check that comes before every
// promotion (CheckVersion).
var ErrRefused = errors.New("promotion refused")

// CheckVersion loads a registry version as mlserve does before it serves
// one (serve.LoadModel): every file verified against the manifest, the
// features, model, signature and profile parsed, and the signature's
// example scored through the serving path and the training code's
// single-row path, each matching the recorded output. It returns why the
// version cannot be served, or nil.
func CheckVersion(dir, name string, version int) error {
	m, err := serve.LoadModel(dir, version)
	if err != nil {
		return err
	}
	if m.Name != name {
		return fmt.Errorf("the bundle of %s@%d names its model %q", name, version, m.Name)
	}
	return nil
}

// Promote points production at version v of model name, and previous at
// the version production pointed at, after CheckVersion: a version that
// mlserve would refuse is never promoted (an error wrapping ErrRefused
// says why). It returns the old production version (0: none). Promoting
// the version production points at already changes nothing. Every
// promotion goes through here: `mlpipe run`, `mlpipe models promote` and
// `rollback`, and the dashboard. The caller holds the writer lock.
func Promote(store *registry.Store, name string, v int) (old int, err error) {
	dir, err := store.VersionDir(name, v)
	if err != nil {
		return 0, fmt.Errorf("promote: %w", err)
	}
	old, err = store.Alias(name, AliasProduction)
	switch {
	case err == nil && old == v:
		return old, nil
	case errors.Is(err, registry.ErrNotFound):
		old = 0
	case err != nil:
		return 0, fmt.Errorf("promote: %w", err)
	}
	if err := CheckVersion(dir, name, v); err != nil {
		return old, fmt.Errorf("promote %s@%d: %w: %w", name, v, ErrRefused, err)
	}
	if old > 0 {
		if err := store.SetAlias(name, AliasPrevious, old); err != nil {
			return old, fmt.Errorf("promote: %w", err)
		}
	}
	if err := store.SetAlias(name, AliasProduction, v); err != nil {
		return old, fmt.Errorf("promote: %w", err)
	}
	return old, nil
}
