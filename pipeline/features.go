package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// featuresStage fits the feature pipeline on the training split and
// turns the three splits into train.Datasets. Nothing after it reads the
// raw training and validation splits, so it releases them (but for the
// validation split when gbdt alone reads it binned: the train stage
// scores the model on it, then releases it); when the
// register stage follows (register), it first takes what that stage
// needs of the training split (trainingSummary); with gbdt alone, the
// monitor's threshold calibration observes the split's rows and runs
// once the split is released (docs/architecture.md, "Memory and scale",
// step 6). Restored from the step cache, it keeps the splits, and the
// register stage summarizes the training split then.
type featuresStage struct{ register bool }

func (featuresStage) Name() string { return "features" }

func (st featuresStage) Run(ctx context.Context, s *State) error {
	cfg := s.Config
	if len(cfg.Features) == 0 {
		return fmt.Errorf("features: the config has no features section")
	}
	trainLabels := s.Labels[ingest.SplitTrain]
	y, err := labelVector(trainLabels, ingest.SplitTrain, cfg.Label.Column)
	if err != nil {
		return err
	}
	if s.trainRows != nil && gbdtAlone(s) == nil {
		// The gbdt trainer cannot be built (ingeststream.go).
		if err := holdTraining(ctx, s); err != nil {
			return err
		}
	}
	// train is the training split: in memory, or in a streamed run read
	// again from the files a range at a time by each step below.
	train := s.trainSource()
	rows := newRowCounter(s, "features", train.NumRows()+s.Splits.Valid.NumRows())
	// A grouped split's groups: target encodings' folds and cross-
	// validation's keep each group whole. A streamed run is never
	// cross-validated (it fits one gbdt), so it reads its training rows
	// for them only when a target encoding needs them.
	var groups []int
	if g := cfg.Split.Group; g != "" && (s.trainRows == nil || targetEncoded(cfg.Features)) {
		if groups, err = ingest.GroupIDsFrom(ctx, train, g); err != nil {
			return fmt.Errorf("features: %w", err)
		}
	}
	p, enc, err := features.FitEncoderGroups(ctx, train, y, groups, cfg.Features, cfg.Seed)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	s.Features = p
	// ob, when not nil, is the monitor's threshold calibration, which
	// observes the training rows once they are binned and calibrates once
	// the raw training split is released (see below).
	var ob *monitor.Observer
	alone := gbdtAlone(s)
	if st.register {
		// The fit's garbage (a category key a row of each cross) is not
		// piled under the summary's.
		returnMemory()
		var t *trainingSummary
		if alone != nil {
			t, ob, err = beginSummary(ctx, s, train)
		} else {
			// Before the float training matrix exists: the calibration's
			// per-row state and the matrix are never held together.
			t, err = summarizeTraining(ctx, s, s.Splits.Train)
		}
		if err != nil {
			return err
		}
		s.training = t
		returnMemory()
	}
	bb := binBuilder(alone, p, enc.Rows())
	if bb != nil {
		// The float training matrix is never held whole: each range of
		// rows is transformed and binned at once (stream.Ranges.TrainBins:
		// the binning sample's rows first, then every range in order).
		bins, err := ranges(rows).TrainBinsFrom(ctx, train, enc, bb)
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		s.TrainSet = newDataset(&features.Matrix{Rows: enc.Rows(), Cols: p.Columns}, y, trainLabels.Classes, cfg.Task())
		s.TrainSet.Prebinned = bins
	} else {
		xTrain, err := enc.Transform(s.Splits.Train, 0)
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		rows.add(s.Splits.Train.NumRows())
		s.TrainSet = newDataset(xTrain, y, trainLabels.Classes, cfg.Task())
		// (A streamed run fits one gbdt, which is never cross-validated.)
		s.TrainSet.Groups = groups
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if ob != nil {
		// The calibration's per-row state (about 37 bytes a row at the
		// default config: a time, a bucket per judged series and the
		// numeric input's value) is about the raw split's size: it is
		// observed with only the bins beside the split, and the
		// calibration, with its own working set, runs without the split.
		returnMemory()
		if err := s.training.observe(ctx, ob, train); err != nil {
			return err
		}
	}
	if s.Splits.Train != nil {
		releaseSplit(&s.Splits.Train)
	}
	s.trainRows = nil
	if ob != nil {
		if calibrating != nil {
			calibrating(s)
		}
		err := s.training.calibrate(ctx, ob)
		returnMemory()
		if err != nil {
			return err
		}
	}
	if err := evalDatasets(s, p, trainLabels.Classes, rows, bb == nil); err != nil {
		return err
	}
	if bb == nil {
		releaseSplit(&s.Splits.Valid) // evaluate, the gate and register read the test split only
		return nil
	}
	// gbdt stops early on the validation rows in its bins, and selection
	// and the threshold read the model's predictions, scored from the raw
	// split a range at a time (the train stage then releases it): no
	// validation float matrix is held (see streamValid).
	vbins, err := streamValid(ctx, s.Splits.Valid, p, s.TrainSet.Prebinned.(*gbdt.Bins), rows)
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	s.ValidSet.Prebinned = vbins
	return nil
}

// calibrating, if not nil, is called as the features stage starts the
// monitor's threshold calibration from observed rows (for the tests).
var calibrating func(*State)

// releaseSplit releases a raw split and drops it (the split stage
// released the loaded table: in time order the splits are slices of it,
// so this frees the split's rows), and returns the memory.
func releaseSplit(tbl *arrow.Table) {
	(*tbl).Release()
	*tbl = nil
	returnMemory()
}

// targetEncoded says whether a spec has a target encoding.
func targetEncoded(spec features.Spec) bool {
	return slices.ContainsFunc(spec, func(t features.TransformSpec) bool { return t.TargetEncoding })
}

// newDataset builds a split's dataset: a regression's (no classes) or a
// classification's.
func newDataset(x *features.Matrix, y []float64, classes []string, task train.Task) *train.Dataset {
	if task == train.Regression {
		return &train.Dataset{X: x, Y: y, Task: train.Regression}
	}
	return &train.Dataset{X: x, Y: y, Task: train.ClassTask(len(classes)), Classes: len(classes), ClassNames: classes}
}

// evalDatasets turns the validation and test splits into datasets with
// the feature pipeline p; classes fixes the class indices of a
// multiclass label (those of training). The test dataset has the labels
// and the matrix's shape only: it is transformed and scored a range of
// rows at a time (testPredictions). So has the validation dataset unless
// validMatrix (model selection scores candidates on it).
func evalDatasets(s *State, p *features.Pipeline, classes []string, rows *rowCounter, validMatrix bool) error {
	for _, sp := range []struct {
		name string
		tbl  arrow.Table
		dst  **train.Dataset
	}{
		{ingest.SplitValid, s.Splits.Valid, &s.ValidSet},
		{ingest.SplitTest, s.Splits.Test, &s.TestSet},
	} {
		l, err := s.Config.Label.DeriveWith(sp.tbl, classes)
		if err != nil {
			return fmt.Errorf("features: %s: %w", sp.name, err)
		}
		y, err := labelVector(l, sp.name, s.Config.Label.Column)
		if err != nil {
			return err
		}
		if sp.name == ingest.SplitTest || !validMatrix {
			// No rows: the pipeline's check of the split's columns.
			none := tables.Slice(sp.tbl, 0, 0)
			_, err := p.Transform(none)
			none.Release()
			if err != nil {
				return fmt.Errorf("features: %s: %w", sp.name, err)
			}
			*sp.dst = newDataset(&features.Matrix{Rows: len(y), Cols: p.Columns}, y, l.Classes, s.Config.Task())
			continue
		}
		x, err := p.Transform(sp.tbl)
		if err != nil {
			return fmt.Errorf("features: %s: %w", sp.name, err)
		}
		*sp.dst = newDataset(x, y, l.Classes, s.Config.Task())
		if rows != nil {
			rows.add(sp.tbl.NumRows())
		}
	}
	return nil
}

// labelVector converts class indices to the float64 labels trainers
// take, or returns a regression's targets. A null label (or a class
// unseen in training) is an error: such rows cannot be learned from or
// scored.
func labelVector(l *ingest.Labels, split, column string) ([]float64, error) {
	if l.Values != nil {
		return targetVector(l.Values, split, column)
	}
	y := make([]float64, len(l.Y))
	bad := 0
	for i, c := range l.Y {
		if c < 0 {
			bad++
		}
		y[i] = float64(c)
	}
	if bad > 0 {
		return nil, fmt.Errorf("features: %s: %w", split, &ingest.InvalidError{Issues: []ingest.Issue{{
			Severity: ingest.Error, Code: ingest.CodeLabel, RowGroup: -1,
			Message: fmt.Sprintf("%d rows have no label (null, or a class not seen in training)", bad)}}})
	}
	if len(l.Classes) < 2 {
		return nil, fmt.Errorf("features: %s: %w", split, train.ErrOneClass)
	}
	return y, nil
}

// targetVector checks a regression's targets: a null target is an error
// naming the column and the first such row of the split.
func targetVector(v []float64, split, column string) ([]float64, error) {
	bad, first := 0, -1
	for i, y := range v {
		if math.IsNaN(y) {
			if bad++; first < 0 {
				first = i
			}
		}
	}
	if bad > 0 {
		return nil, fmt.Errorf("features: %s: %w", split, &ingest.InvalidError{Issues: []ingest.Issue{{
			Severity: ingest.Error, Code: ingest.CodeLabel, Column: column, RowGroup: -1, Count: int64(bad),
			Message: fmt.Sprintf("%d rows have no target (null); the first is row %d of the %s split", bad, first+1, split)}}})
	}
	return v, nil
}
