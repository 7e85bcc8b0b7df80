package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/evaluate"
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
	var cands []selection.Candidate
	for _, spec := range cfg.Models {
		for _, params := range spec.Candidates() {
			tr, err := catalog.WithProgress(spec.Name, params, cfg.Seed, progressReporter(s, spec.Name))
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			if cfg.Label.Transform == ingest.TransformLog1p {
				tr = train.Log1p(tr)
			}
			cands = append(cands, selection.Candidate{Name: spec.Name, Params: params, Trainer: tr, Note: catalog.Note(spec.Name)})
		}
	}
	metric, err := SelectionMetric(cfg.Selection.Metric, taskOf(s.TrainSet))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	res, err := selection.Select(ctx, cands, s.TrainSet, s.ValidSet, metric, s.log)
	if err != nil {
		if res != nil {
			s.Leaderboard = res.Leaderboard
		}
		return fmt.Errorf("train: %w", err)
	}
	s.Leaderboard, s.Model = res.Leaderboard, res.Model
	s.Threshold = 0.5 // the argmax for a multiclass model; a regression has none (0)
	if s.TrainSet.Task == train.Regression {
		s.Threshold = 0
	}
	if s.TrainSet.Classes == 2 {
		proba := s.validPredictions()
		t, err := chooseThreshold(s.ValidSet.Y, proba, cfg.Evaluate.CostRatio)
		if err != nil {
			return fmt.Errorf("train: threshold: %w", err)
		}
		s.Threshold = t
	}
	return nil
}

// progressReporter returns a progress callback for a long fit. With a
// live view (a terminal) every round updates it; otherwise a line is
// logged at most every progressEvery, and for the first round, so that a
// long fit shows it is alive in a cron log too.
func progressReporter(s *State, model string) catalog.ProgressFunc {
	log, live := s.log, s.progress
	var last time.Time
	return func(round int, trainLoss, validLoss float64) {
		if live != nil {
			live.Set(fmt.Sprintf("%s round %d  train loss %.5f  valid loss %.5f", model, round+1, trainLoss, validLoss))
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
