package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/crash"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/train"
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
	if s.testProba == nil {
		if err := s.matrices(); err != nil {
			return err
		}
	}
	cand, err := m.Score(s.TestSet.Y, s.testPredictions(), s.TestSet.Classes)
	if err != nil {
		return fmt.Errorf("gate: candidate: %w", err)
	}
	d := &GateDecision{Metric: metric, Candidate: cand, MinImprovement: cfg.Gate.MinImprovement}
	s.Gate = d
	if mv := cfg.Gate.MinValue; mv != nil && ((m.HigherIsBetter && cand < *mv) || (!m.HigherIsBetter && cand > *mv)) {
		d.Rejected = true
		d.Reason = fmt.Sprintf("%s %.4f fails the value threshold %.4f", metric, cand, *mv)
		return nil
	}
	store, err := registry.Open(cfg.Registry.Path)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	prodVersion, err := store.Alias(cfg.Name, AliasProduction)
	if errors.Is(err, registry.ErrNotFound) {
		d.Promote, d.Reason = true, "no production model yet"
		return nil
	}
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	dir, err := store.VersionDir(cfg.Name, prodVersion)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	if info, err := bundle.ReadInfo(dir); err == nil && info.InputsKey != "" && info.InputsKey == s.keys["train"] {
		d.Production, d.ProductionVersion, d.Identical = &cand, prodVersion, true
		d.Reason = fmt.Sprintf("the candidate is production v%d itself (fitted from the same data, config and code)", prodVersion)
		return nil
	}
	prod, err := bundle.Load(dir)
	if err != nil {
		return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
	}
	x, err := prod.Features.Transform(s.Splits.Test)
	if err != nil {
		return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
	}
	p, err := m.Score(s.TestSet.Y, prod.Model.Predict(x), s.TestSet.Classes)
	if err != nil {
		return fmt.Errorf("gate: production model v%d: %w", prodVersion, err)
	}
	d.Production, d.ProductionVersion = &p, prodVersion
	gain := cand - p
	if !m.HigherIsBetter {
		gain = p - cand
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
// run's model can be inspected) and, if the gate said so, moves the
// production alias to it and the previous alias to the old production.
type registerStage struct {
	// wait makes the stage wait for the registry's writer lock instead of
	// failing at once when another process holds it.
	wait bool
}

func (registerStage) Name() string { return "register" }

func (st registerStage) Run(ctx context.Context, s *State) error {
	cfg := s.Config
	if s.Gate != nil && s.Gate.Identical {
		s.Gate.Version = s.Gate.ProductionVersion
		s.log.Info("register: nothing to store", "model", cfg.Name, "version", s.Gate.Version, "reason", "the candidate is that version")
		return nil
	}
	store, err := registry.Open(cfg.Registry.Path)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	unlock, err := store.Lock(ctx, st.wait)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer unlock()
	// Build the bundle in a temporary directory of the store, then copy
	// it in as a version (Register makes the version appear atomically).
	tmp, err := os.MkdirTemp("", "mlpipe-bundle-")
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The training split's profile is the drift monitor's baseline.
	prof, err := ingest.ProfileTable(ctx, s.Splits.Train, nil)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	files := map[string]any{bundle.ProfileFile: prof, bundle.GateFile: s.Gate}
	if s.Evaluation != nil {
		files[bundle.EvaluationFile] = s.Evaluation
	}
	// A seeded sample of the training rows and of the validation scores
	// (a binary model's probabilities, a regression's predictions): what
	// the monitor compares live traffic with (KS, Wasserstein).
	var scores []float64
	if s.TestSet.Classes == 2 || s.TestSet.Task == train.Regression {
		if s.validProba == nil {
			if err := s.matrices(); err != nil {
				return err
			}
		}
		scores = s.validPredictions()
	}
	inputs := make([]string, len(s.Features.Inputs))
	for i, in := range s.Features.Inputs {
		inputs[i] = in.Name
	}
	mfiles, err := monitorFiles(ctx, s, inputs, scores)
	if err != nil {
		return err
	}
	maps.Copy(files, mfiles)
	if _, err := SaveTrained(tmp, s, files); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := monitor.WriteReference(tmp, s.Splits.Train, inputs, scores, monitor.DefaultReferenceRows, cfg.Seed); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	crash.Point("register-start")
	v, err := store.Register(cfg.Name, tmp)
	if err != nil {
		return err
	}
	s.Gate.Version = v
	if !s.Gate.Promote {
		return nil
	}
	if old, err := store.Alias(cfg.Name, AliasProduction); err == nil {
		if err := store.SetAlias(cfg.Name, AliasPrevious, old); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	if err := store.SetAlias(cfg.Name, AliasProduction, v); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}
