package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

// evaluateStage scores the model on the test split: every metric, the
// threshold chosen on validation, calibration, curves, if the config
// names a column, metrics per slice, and, for a model that explains
// itself, the global importance of each input (explain.go).
type evaluateStage struct{}

func (evaluateStage) Name() string { return "evaluate" }

func (evaluateStage) Run(ctx context.Context, s *State) error {
	test, valid := s.TestSet, s.ValidSet
	// The validation scores are what evaluate, the gate and register read
	// of the validation split (a binary model's threshold and calibration,
	// the monitor's reference scores): they are computed now, when not
	// already, and the validation matrix is released.
	var validProba []float64
	if oneScore(valid) {
		if s.validProba == nil {
			if err := s.matrices(); err != nil {
				return err
			}
		}
		p, err := s.validPredictions(ctx)
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		validProba = p
	}
	releaseMatrix(valid)
	proba, err := s.testPredictions(ctx)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	opts := evaluate.Options{ClassNames: test.ClassNames}
	if test.Task == train.Regression {
		if s.TrainSet != nil { // not when evaluating a saved model
			opts.TrainTargets = s.TrainSet.Y
		}
		if col := s.Config.Evaluate.SliceBy; col != "" {
			opts.SliceKeys = stringKeys(s.Splits.Test, col)
			opts.Slices.Largest = s.Config.Evaluate.Slices
		}
		s.Evaluation, err = evaluate.EvaluateRegression(test.Y, proba, opts)
	} else if test.Classes == 2 {
		opts.ValidLabels, opts.ValidProbs = valid.Y, validProba
		opts.ThresholdMethod = evaluate.MaxF1
		if cr := s.Config.Evaluate.CostRatio; cr > 0 {
			opts.ThresholdMethod, opts.CostRatio = evaluate.MinCost, cr
		}
		if col := s.Config.Evaluate.SliceBy; col != "" {
			opts.SliceKeys = stringKeys(s.Splits.Test, col)
			opts.Slices.Largest = s.Config.Evaluate.Slices
		}
		s.Evaluation, err = evaluate.EvaluateBinary(test.Y, proba, opts)
	} else {
		s.Evaluation, err = evaluate.EvaluateMulticlass(test.Y, proba, test.Classes, opts)
	}
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := explainTest(ctx, s); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return nil
}

// stringKeys returns a column's values as strings ("" for null).
func stringKeys(tbl arrow.Table, column string) []string {
	j := tbl.Schema().FieldIndices(column)
	if len(j) != 1 {
		return make([]string, tbl.NumRows())
	}
	keys := make([]string, 0, tbl.NumRows())
	for _, ch := range tbl.Column(j[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			if ch.IsNull(i) {
				keys = append(keys, "")
				continue
			}
			keys = append(keys, ch.ValueStr(i))
		}
	}
	return keys
}

// oneScore reports whether the model of dataset ds gives one score a row,
// which the threshold, the calibration and the monitor's reference read of
// the validation split: a binary classifier's probability or a
// regression's prediction.
func oneScore(ds *train.Dataset) bool { return ds.Classes == 2 || ds.Task == train.Regression }

// useTrainedStage replaces the features and train stages when a model
// trained earlier is evaluated (`mlpipe evaluate --model DIR`): it
// derives the labels of the validation and test splits and checks their
// columns against the saved feature pipeline. With nothing to train,
// the validation split is scored a range of rows at a time too, when its
// predictions are read (the evaluate stage's condition), so no float
// matrix is held.
type useTrainedStage struct{ t *bundle.Bundle }

func (useTrainedStage) Name() string { return "features" }

func (st useTrainedStage) Run(ctx context.Context, s *State) error {
	t := st.t
	s.Features, s.Model, s.Threshold = t.Features, t.Model, t.Threshold
	if err := evalDatasets(s, t.Features, t.Classes, nil, false); err != nil {
		return err
	}
	if w := s.TestSet.X.Cols; len(w) != t.Features.Width() {
		return fmt.Errorf("features: %w: the model expects %d columns", features.ErrInput, t.Features.Width())
	}
	if oneScore(s.ValidSet) {
		if _, err := s.validPredictions(ctx); err != nil {
			return fmt.Errorf("features: %w", err)
		}
	}
	return nil
}
