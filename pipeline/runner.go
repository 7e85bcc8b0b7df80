package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/rss"
	"github.com/mlpipe/mlpipe/internal/tables"
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

	// Set by the load stage. Data.Table is released (nil) once the split
	// stage has divided it; loaded keeps its rows and columns.
	Data   *ingest.Dataset
	loaded [2]int64
	// Set by the validate stage (or built from a load that failed on bad
	// data, so that it can be printed and saved).
	Report *ingest.Report
	// Set by the profile stage.
	Fingerprint string
	Profile     *ingest.Profile
	// Set by the split stage. Splits.Train and Splits.Valid are released
	// (nil) by the features stage once encoded (the training split, before
	// a registration, summarized into training first), but for
	// Splits.Valid when gbdt alone reads it binned (ValidSet.Prebinned):
	// its predictions are scored from it, and the train stage releases
	// it; spans keep each split's rows and time range for the summary.
	Splits *ingest.Splits
	Labels map[string]*ingest.Labels // by split name
	spans  []SplitSummary
	// streamed is what the load stage of a streamed run read
	// (ingeststream.go), and trainRows its training rows, read again
	// from the files a range at a time; Splits.Train is then nil.
	streamed  *ingest.Streamed
	trainRows tables.Source
	// training is what the register stage needs of the training split
	// (trainingSummary), taken before the split was released.
	training *trainingSummary

	// Set by the features stage: the fitted pipeline and the three
	// splits as model inputs (the training matrix has out-of-fold
	// target encodings). TestSet has the labels and the matrix's shape
	// only: the test split is transformed a range at a time when scored
	// (testPredictions). With gbdt alone, the training and validation
	// sets hold gbdt's bins in place of the matrices (Prebinned). The
	// train stage releases the training matrix (and the validation
	// bins), the evaluate stage the validation matrix.
	Features                    *features.Pipeline
	TrainSet, ValidSet, TestSet *train.Dataset

	// Set by the train stage: every candidate's validation score, the
	// best model, and (binary tasks) the threshold chosen on validation.
	Leaderboard []selection.Entry
	Model       train.Model
	Threshold   float64
	// Selection says how the selection ran: candidates, folds, trials
	// the time budget skipped.
	Selection *SelectionSummary
	// ClassWeights are the class weights the selected model was fitted
	// with, by class name (nil: none).
	ClassWeights map[string]float64

	// The model's probabilities on validation and test, computed once
	// (by the stage that first needs them) and
	// shared by train, evaluate, the gate and register.
	validProba, testProba []float64

	// Set by the evaluate stage: the test-split report.
	Evaluation *evaluate.Report
	// Set by the gate stage, completed by register: whether the model
	// was promoted, and the version it was stored as.
	Gate *GateDecision
	// Set by the register stage: what the run did to the registry.
	Registry *RegistryOutcome

	// Recorder, if set, keeps the run's record in the registry: the
	// runner saves it after every stage, the register stage around every
	// registry write.
	Recorder *Recorder

	log      *slog.Logger      // the runner's logger, for stages that report progress
	progress Progress          // the runner's live view, or nil
	keys     map[string]string // cache key of each cached stage that ran or was restored
	// loadMatrices, when set, reads the feature matrices of a features
	// stage restored from the cache; stages that use the matrices call
	// matrices first.
	loadMatrices func() error
	// caching: the step cache is on, and the features stage stores the
	// float training matrix, so it holds it whole (no streaming).
	caching bool
}

// matrices makes sure the datasets' feature matrices are in memory.
func (s *State) matrices() error {
	if s.loadMatrices == nil {
		return nil
	}
	load := s.loadMatrices
	s.loadMatrices = nil
	return load()
}

// validPredictions returns the model's probabilities on the validation
// split, computing them once: from the validation matrix when it is
// held, and otherwise (gbdt alone, whose validation rows are bins; or a
// model trained earlier) from the raw split a range of rows at a time
// (predictTable), which the features stage then keeps.
func (s *State) validPredictions(ctx context.Context) ([]float64, error) {
	if s.validProba != nil {
		return s.validProba, nil
	}
	if s.ValidSet.CheckFloats() == nil {
		return s.cached(&s.validProba, s.ValidSet), nil
	}
	p, err := s.predictValid(ctx, s.Model)
	if err != nil {
		return nil, err
	}
	s.validProba = p
	return p, nil
}

// predictValid returns model m's outputs on the raw validation split,
// transformed and scored a range of rows at a time.
func (s *State) predictValid(ctx context.Context, m train.Model) ([]float64, error) {
	if s.Splits == nil || s.Splits.Valid == nil {
		return nil, errors.New("validation predictions: neither the validation matrix nor the split is held")
	}
	p, err := predictTable(ctx, s.Features, m, s.Splits.Valid, newRowCounter(s, "score validation", s.Splits.Valid.NumRows()))
	if err != nil {
		return nil, fmt.Errorf("validation predictions: %w", err)
	}
	return p, nil
}

// testPredictions returns the model's probabilities on the test split,
// computing them once from the raw split a range of rows at a time
// (predictTable): the test split has no float matrix.
func (s *State) testPredictions(ctx context.Context) ([]float64, error) {
	if s.testProba == nil {
		p, err := predictTable(ctx, s.Features, s.Model, s.Splits.Test, newRowCounter(s, "score test", s.Splits.Test.NumRows()))
		if err != nil {
			return nil, fmt.Errorf("test predictions: %w", err)
		}
		s.testProba = p
	}
	return s.testProba, nil
}

func (s *State) cached(dst *[]float64, ds *train.Dataset) []float64 {
	if *dst == nil {
		*dst = s.Model.Predict(ds.X)
	}
	return *dst
}

// Release frees the Arrow memory the state holds.
func (s *State) Release() {
	if s.Splits != nil {
		s.Splits.Release()
	}
	s.training.release()
	s.Data.Release()
}

// StageResult is the outcome of one stage.
type StageResult struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
	// Cache is the step cache's decision for a cached stage (CacheHit,
	// CacheMiss or CacheOff; "" for a stage that is never cached), Key
	// its cache key and Reason why it ran or was skipped.
	Cache  string `json:"cache,omitempty"`
	Key    string `json:"cache_key,omitempty"`
	Reason string `json:"reason,omitempty"`
	// PeakRSS is the process's peak resident memory while the stage ran,
	// in bytes (0: unknown; see internal/rss for how it is measured).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
}

// Runner runs stages in order.
type Runner struct {
	Stages []Stage
	// Log receives a line per stage start and end. Nil means no logging.
	Log *slog.Logger
	// Cache, if set, lets cached stages skip work whose inputs have not
	// changed (see cache.go).
	Cache *Cache
	// Progress, if set, shows the running stage live (a terminal status
	// line); long stages then report their progress there instead of in
	// periodic log lines.
	Progress Progress
}

// Progress is a live view of the running stage.
type Progress interface {
	Start(stage string)
	Set(detail string)
	End()
}

// Run runs the stages on s, stopping at the first error. It returns the
// results of the stages that ran. Stage errors are returned as they are:
// each already names its operation ("load: ...", "split: ...").
func (r *Runner) Run(ctx context.Context, s *State) ([]StageResult, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.log, s.progress = log, r.Progress
	s.caching = r.Cache != nil
	var results []StageResult
	for _, st := range r.Stages {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("%s: %w", st.Name(), err)
		}
		start := time.Now()
		if r.Progress != nil {
			r.Progress.Start(st.Name())
		}
		mem := rss.Start()
		res, err := r.runStage(ctx, st, s, log)
		res.Duration, res.PeakRSS = time.Since(start), mem.Stop()
		if r.Progress != nil {
			r.Progress.End()
		}
		if err != nil {
			res.Error = err.Error()
			results = append(results, res)
			log.Error("stage failed", "stage", st.Name(), "duration", res.Duration.Round(time.Millisecond), "err", err)
			if s.Recorder != nil {
				if rerr := s.Recorder.stage(s, res); rerr != nil {
					log.Error("run record not saved", "err", rerr)
				}
			}
			return results, err
		}
		results = append(results, res)
		log.Info("stage done", "stage", st.Name(), "duration", res.Duration.Round(time.Millisecond), "peak_rss_mb", res.PeakRSS>>20)
		if s.Recorder != nil {
			// A run that cannot keep its record stops here, before it
			// writes anything else to the registry.
			if err := s.Recorder.stage(s, res); err != nil {
				return results, fmt.Errorf("%s: %w", st.Name(), err)
			}
		}
	}
	return results, nil
}

// runStage runs one stage, or restores its outputs from the cache when
// its inputs are unchanged, and stores the outputs of a cached stage
// that ran.
func (r *Runner) runStage(ctx context.Context, st Stage, s *State, log *slog.Logger) (StageResult, error) {
	res := StageResult{Name: st.Name()}
	cs, ok := st.(cachedStage)
	if !ok || r.Cache == nil {
		log.Info("stage start", "stage", st.Name())
		return res, st.Run(ctx, s)
	}
	in, err := cs.inputs(s)
	if err != nil {
		return res, fmt.Errorf("%s: %w", st.Name(), err)
	}
	key, err := cacheKey(in)
	if err != nil {
		return res, fmt.Errorf("%s: %w", st.Name(), err)
	}
	if s.keys == nil {
		s.keys = map[string]string{}
	}
	s.keys[st.Name()] = key
	res.Key = key
	dir, decision, reason := r.Cache.lookup(ctx, st.Name(), key, in)
	if decision == CacheHit {
		err := cs.restore(dir, s)
		if err == nil {
			res.Cache, res.Reason = CacheHit, reason
			log.Info("stage skipped", "stage", st.Name(), "cache", "hit", "reason", reason, "key", key)
			return res, nil
		}
		decision, reason = CacheMiss, "cached output unreadable ("+err.Error()+")"
	}
	res.Cache, res.Reason = decision, reason
	log.Info("stage start", "stage", st.Name(), "cache", decision, "reason", "rerun, "+reason)
	if err := st.Run(ctx, s); err != nil {
		return res, err
	}
	if err := r.Cache.store(ctx, st.Name(), key, in, func(dir string) error { return cs.save(dir, s) }); err != nil {
		// A run does not fail because its outputs could not be cached.
		log.Warn("stage output not cached", "stage", st.Name(), "err", err)
	}
	return res, nil
}
