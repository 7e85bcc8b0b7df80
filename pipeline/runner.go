package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/selection"
)

// Stage is one step of a pipeline run. It reads and fills fields of
// *State.
type Stage interface {
	Name() string
	Run(ctx context.Context, s *State) error
}

// State carries the typed artifacts that stages hand to each other.
type State struct {
	Config *config.Config
	// RunID names the run in the registry's runs/ and in the lineage of
	// the model it registers ("" when the run is not recorded).
	RunID string

	// Set by the load stage.
	Data *ingest.Dataset
	// Set by the validate stage (or built from a load that failed on bad
	// data, so that it can be printed and saved).
	Report *ingest.Report
	// Set by the profile stage.
	Fingerprint string
	Profile     *ingest.Profile
	// Set by the split stage.
	Splits *ingest.Splits
	Labels map[string]*ingest.Labels // by split name

	// Set by the features stage: the fitted pipeline and the three
	// splits as model inputs (the training matrix has out-of-fold
	// target encodings).
	Features                    *features.Pipeline
	TrainSet, ValidSet, TestSet *train.Dataset

	// Set by the train stage: every candidate's validation score, the
	// best model, and (binary tasks) the threshold chosen on validation.
	Leaderboard []selection.Entry
	Model       train.Model
	Threshold   float64

	// The model's probabilities on validation and test, computed once
	// (by the stage that first needs them) and
	// shared by train, evaluate and the gate.
	validProba, testProba []float64

	// Set by the evaluate stage: the test-split report.
	Evaluation *evaluate.Report
	// Set by the gate stage, completed by register: whether the model
	// was promoted, and the version it was stored as.
	Gate *GateDecision

	log *slog.Logger // the runner's logger, for stages that report progress
}

// validPredictions and testPredictions return the model's probabilities
// on a split, computing them once.
func (s *State) validPredictions() []float64 { return s.cached(&s.validProba, s.ValidSet) }
func (s *State) testPredictions() []float64  { return s.cached(&s.testProba, s.TestSet) }

func (s *State) cached(dst *[]float64, ds *train.Dataset) []float64 {
	if *dst == nil {
		*dst = s.Model.PredictProba(ds.X)
	}
	return *dst
}

// Release frees the Arrow memory the state holds.
func (s *State) Release() {
	if s.Splits != nil {
		s.Splits.Release()
	}
	s.Data.Release()
}

// StageResult is the outcome of one stage.
type StageResult struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// Runner runs stages in order.
type Runner struct {
	Stages []Stage
	// Log receives a line per stage start and end. Nil means no logging.
	Log *slog.Logger
}

// Run runs the stages on s, stopping at the first error. It returns the
// results of the stages that ran. Stage errors are returned as they are:
// each already names its operation ("load: ...", "split: ...").
func (r *Runner) Run(ctx context.Context, s *State) ([]StageResult, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.log = log
	var results []StageResult
	for _, st := range r.Stages {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("%s: %w", st.Name(), err)
		}
		log.Info("stage start", "stage", st.Name())
		start := time.Now()
		err := st.Run(ctx, s)
		res := StageResult{Name: st.Name(), Duration: time.Since(start)}
		if err != nil {
			res.Error = err.Error()
			results = append(results, res)
			log.Error("stage failed", "stage", st.Name(), "duration", res.Duration.Round(time.Millisecond), "err", err)
			return results, err
		}
		results = append(results, res)
		log.Info("stage done", "stage", st.Name(), "duration", res.Duration.Round(time.Millisecond))
	}
	return results, nil
}
