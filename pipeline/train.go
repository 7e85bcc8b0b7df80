package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/selection"
)

// trainStage fits every candidate model of the config on the training
// split, scores each on the validation split, and keeps the best. For a
// binary task it also chooses the decision threshold on validation.
type trainStage struct{}

func (trainStage) Name() string { return "train" }

func (trainStage) Run(ctx context.Context, s *State) error {
	cfg := s.Config
	if len(cfg.Models) == 0 {
		return fmt.Errorf("train: the config lists no models")
	}
	if err := s.matrices(); err != nil {
		return err
	}
	cands, err := candidates(cfg, s)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	metric, err := SelectionMetric(cfg.Selection.Metric, taskOf(s.TrainSet))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	opts := selection.Options{
		Metric: metric, Folds: CVFolds(cfg.Selection.CVFolds, s.TrainSet.X.Rows), Seed: cfg.Seed,
		Budget: cfg.Selection.TimeBudget, Progress: selectionReporter(s), Log: s.log,
	}
	if s.ValidSet.Prebinned != nil {
		opts.ValidPredict = validScorer(s, len(cands))
	}
	res, err := selection.Select(ctx, cands, s.TrainSet, s.ValidSet, opts)
	if res != nil {
		s.Leaderboard, s.Selection = res.Leaderboard, &SelectionSummary{Candidates: len(cands), Folds: res.Folds, Skipped: res.Skipped}
		if res.Folds > 0 && s.TrainSet.Groups != nil {
			s.Selection.GroupedBy = cfg.Split.Group
		}
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	s.Model = res.Model
	if s.ClassWeights, err = classWeights(res.Leaderboard[res.Best].Params, s.TrainSet); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	s.Threshold = 0.5 // the argmax for a multiclass model; a regression has none (0)
	if s.TrainSet.Task == train.Regression {
		s.Threshold = 0
	}
	if s.TrainSet.Classes == 2 {
		proba, err := s.validPredictions(ctx)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		t, err := chooseThreshold(s.ValidSet.Y, proba, cfg.Evaluate.CostRatio)
		if err != nil {
			return fmt.Errorf("train: threshold: %w", err)
		}
		s.Threshold = t
	}
	releaseMatrix(s.TrainSet)
	if s.ValidSet.Prebinned != nil {
		// Nothing later reads the validation rows but through their
		// predictions, which selection took (validScorer).
		releaseMatrix(s.ValidSet)
		releaseSplit(&s.Splits.Valid)
	}
	return nil
}

// releaseMatrix drops a dataset's feature matrix, keeping its shape: after
// the train stage no stage reads the training matrix (evaluate reads the
// training labels, the register stage a summary of the raw training
// split taken by the features stage), and it is
// the largest thing a run holds (8 bytes a cell).
func releaseMatrix(d *train.Dataset) {
	d.X = &features.Matrix{Rows: d.X.Rows, Cols: d.X.Cols}
	d.Prebinned = nil
	returnMemory()
}

// returnMemory collects the garbage and returns the freed pages to the
// system, after a stage has let go of something large. Without it the
// garbage collector's next goal is still twice the heap that held it, so
// the later stages grow into memory that is no longer needed instead of
// reusing it: the run's peak would not fall. One collection of the heap
// costs a fraction of a second at 3M rows.
func returnMemory() { debug.FreeOSMemory() }

// candidates are the models selection fits: every combination of each
// model's grid, then the random-search trials, drawn in turn for the
// models that have a search (selection.trials of them, seeded by the
// config's seed).
func candidates(cfg *config.Config, s *State) ([]selection.Candidate, error) {
	var cands []selection.Candidate
	add := func(name string, params map[string]any, trial int) error {
		tr, err := catalog.WithProgress(name, params, cfg.Seed, progressReporter(s, name))
		if err != nil {
			return err
		}
		if cfg.Label.Transform == ingest.TransformLog1p {
			tr = train.Log1p(tr)
		}
		cands = append(cands, selection.Candidate{Name: name, Params: params, Trainer: tr, Note: catalog.Note(name), Trial: trial})
		return nil
	}
	type searched struct {
		spec  train.ModelSpec
		space catalog.Space
	}
	var search []searched
	for _, spec := range cfg.Models {
		for _, params := range spec.Candidates() {
			if err := add(spec.Name, params, 0); err != nil {
				return nil, err
			}
		}
		if spec.Search != nil {
			sp, err := catalog.ParseSpace(spec.Name, spec.Search)
			if err != nil {
				return nil, fmt.Errorf("%s: search: %w", spec.Name, err)
			}
			search = append(search, searched{spec, sp})
		}
	}
	if len(search) == 0 {
		return cands, nil
	}
	trials := cfg.Selection.Trials
	if trials == 0 {
		trials = config.DefaultTrials
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x736561726368)) // "search"
	for t := range trials {
		m := search[t%len(search)]
		if err := add(m.spec.Name, catalog.Draw(m.spec.Name, m.space, m.spec.Params, rng), t+1); err != nil {
			return nil, err
		}
	}
	return cands, nil
}

// CVFolds is the number of cross-validation folds of a selection over
// rows training rows, given the config's selection.cv_folds: as set, or
// (0) config.DefaultCVFolds below config.CVBelowRows rows and none above.
// 0 and 1 both mean none.
func CVFolds(configured, rows int) int {
	switch {
	case configured > 0:
		return configured
	case rows < config.CVBelowRows:
		return config.DefaultCVFolds
	}
	return 0
}

// classWeights returns the weight of each class that the selected model's
// class_weight gave, by class name, or nil.
func classWeights(params map[string]any, d *train.Dataset) (map[string]float64, error) {
	cw, err := train.ParseClassWeight(params[catalog.ClassWeightParam])
	if err != nil || cw.IsZero() {
		return nil, err
	}
	w, err := cw.For(d)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(w))
	for k, v := range w {
		name := fmt.Sprint(k)
		if k < len(d.ClassNames) {
			name = d.ClassNames[k]
		}
		out[name] = v
	}
	return out, nil
}

// selectionReporter reports model selection's progress after each
// candidate: on the live view, or in the log when there are many
// candidates (a random search), at most every progressEvery.
func selectionReporter(s *State) func(done, total int, e, best *selection.Entry) {
	var last time.Time
	return func(done, total int, e, best *selection.Entry) {
		msg := fmt.Sprintf("selection %d/%d", done, total)
		if best != nil {
			msg += fmt.Sprintf("  best %s %s %.5g", best.Model, best.Metric, best.Score())
		}
		if s.progress != nil {
			s.progress.Set(msg)
			return
		}
		if total < 10 || (done < total && time.Since(last) < progressEvery) {
			return
		}
		last = time.Now()
		args := []any{"done", done, "of", total}
		if best != nil {
			args = append(args, "best", best.Model, best.Metric, best.Score())
		}
		s.log.Info("selection progress", args...)
	}
}

// progressReporter returns a progress callback for a long fit. With a
// live view (a terminal) every round updates it; otherwise a line is
// logged at most every progressEvery, and for the first round, so that a
// long fit shows it is alive in a cron log too.
func progressReporter(s *State, model string) catalog.ProgressFunc {
	log, live := s.log, s.progress
	var last, first time.Time
	firstRound, prev := 0, -1
	return func(round int, trainLoss, validLoss float64) {
		if round <= prev { // a new fit (a fold, a trial)
			first = time.Time{}
		}
		if prev = round; first.IsZero() {
			first, firstRound = time.Now(), round
		}
		if live != nil {
			msg := fmt.Sprintf("%s round %d  train loss %.5f  valid loss %.5f", model, round+1, trainLoss, validLoss)
			if s.TrainSet != nil && round > firstRound {
				// Rows per second through the boosting rounds, since the
				// first round reported.
				rate := float64(round-firstRound) * float64(s.TrainSet.X.Rows) / time.Since(first).Seconds()
				msg += fmt.Sprintf("  %.2fM rows/s", rate/1e6)
			}
			live.Set(msg)
			return
		}
		if round > 0 && time.Since(last) < progressEvery {
			return
		}
		last = time.Now()
		log.Info("fit progress", "model", model, "round", round+1,
			"train_loss", fmt.Sprintf("%.5f", trainLoss), "valid_loss", fmt.Sprintf("%.5f", validLoss))
	}
}

// progressEvery is how often a long fit logs its progress.
const progressEvery = 5 * time.Second

// chooseThreshold picks the binary decision threshold on validation
// data: the one with the lowest expected cost if a cost ratio is set,
// else the one with the highest F1.
func chooseThreshold(y, proba []float64, costRatio float64) (float64, error) {
	if costRatio > 0 {
		t, _, err := evaluate.MinCostThreshold(y, proba, costRatio)
		return t, err
	}
	t, _, err := evaluate.MaxF1Threshold(y, proba)
	return t, err
}

// taskOf is a dataset's task: Regression, or the classification task
// of its classes.
func taskOf(d *train.Dataset) train.Task {
	if d.Task == train.Regression {
		return train.Regression
	}
	return train.ClassTask(d.Classes)
}

// SelectionMetric returns the model-selection metric called name for
// task ("" is the task's default: config.Metrics lists them, the default
// first).
func SelectionMetric(name string, task train.Task) (selection.Metric, error) {
	binary := task == train.Binary
	if name == "" {
		name = config.Metrics(task)[0]
	}
	m := selection.Metric{Name: name, HigherIsBetter: true}
	if task == train.Regression {
		return regressionMetric(m)
	}
	switch {
	case name == "roc_auc" && binary:
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.ROCAUC(y, p) }
	case name == "pr_auc" && binary:
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.AveragePrecision(y, p) }
	case name == "brier" && binary:
		m.HigherIsBetter = false
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.Brier(y, p) }
	case name == "log_loss" && binary:
		m.HigherIsBetter = false
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.LogLoss(y, p) }
	case name == "log_loss":
		m.HigherIsBetter = false
		m.Score = func(y, p []float64, k int) (float64, error) { return evaluate.MulticlassLogLoss(y, p, k) }
	case name == "accuracy" && !binary:
		m.Score = func(y, p []float64, k int) (float64, error) {
			c, err := evaluate.MulticlassConfusion(y, p, k)
			if err != nil {
				return 0, err
			}
			return c.Accuracy(), nil
		}
	case name == "macro_f1" && !binary:
		m.Score = func(y, p []float64, k int) (float64, error) {
			c, err := evaluate.MulticlassConfusion(y, p, k)
			if err != nil {
				return 0, err
			}
			return c.MacroF1(), nil
		}
	default:
		return m, fmt.Errorf("metric %q does not apply to a %s task", name, task)
	}
	return m, nil
}

// regressionMetric fills in the score of a regression metric.
func regressionMetric(m selection.Metric) (selection.Metric, error) {
	switch m.Name {
	case "rmse":
		m.HigherIsBetter = false
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.RMSE(y, p) }
	case "mae":
		m.HigherIsBetter = false
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.MAE(y, p) }
	case "r2":
		m.Score = func(y, p []float64, _ int) (float64, error) { return evaluate.R2(y, p) }
	default:
		return m, fmt.Errorf("metric %q does not apply to a regression", m.Name)
	}
	return m, nil
}
