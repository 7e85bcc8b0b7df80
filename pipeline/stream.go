package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/tables"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// Streaming the training matrix (docs/architecture.md, "Memory and
// scale", step 2).
//
// When the only model to fit is gbdt, nothing reads the float training
// matrix (8 bytes a cell) but gbdt's binning, which turns it into 1 byte a
// cell. The features stage then transforms the training split a range of
// streamRows rows at a time and bins each range at once, so the float
// matrix is never held whole: only the bins, and one range's floats.
// The bins, and so the model, are bit for bit those of a fit on the
// whole matrix (train/gbdt TestPrebinned, features TestTrainEncoder).
//
// The validation split is binned the same way (step 5), with the
// training bins' boundaries (streamValid): gbdt stops early on its rows
// in bins whether given floats or bins. Selection, the threshold,
// evaluate and register read only the model's predictions on it, which
// validScorer computes from the raw split a range of rows at a time
// (predictTable); the train stage then releases the raw split and the
// bins. The model and the predictions are bit for bit those of the
// float matrix (train/gbdt TestPrebinnedValidation, TestStreamedValidation).
//
// Every other case holds the matrices as before: other trainers read the
// floats; several gbdt candidates (a grid, a search) may bin differently
// and are each scored on the validation matrix; cross-validation takes
// rows out of the training matrix; and the step cache stores them.

// streamRows is the training rows transformed at a time: 64 Ki rows are
// 5 MB of floats at the default config's 10 columns, small beside the
// bins of millions of rows, and many enough that per-range overhead (a
// slice of the table, category lookups) stays negligible.
var streamRows = 1 << 16 // a variable for the tests

// binBuilder returns the gbdt bin builder of the training matrix when
// the train stage will fit only a gbdt model on the whole training split,
// and nil otherwise (the float matrix is needed).
func binBuilder(s *State, p *features.Pipeline, rows int) *gbdt.BinBuilder {
	cfg := s.Config
	if s.caching || len(cfg.Models) != 1 || cfg.Models[0].Name != gbdt.Name || cfg.Models[0].Search != nil ||
		CVFolds(cfg.Selection.CVFolds, rows) > 1 {
		return nil
	}
	cands := cfg.Models[0].Candidates()
	if len(cands) != 1 {
		return nil
	}
	tr, err := catalog.Trainer(gbdt.Name, cands[0], cfg.Seed)
	if err != nil {
		return nil // the train stage reports it
	}
	g, ok := tr.(*gbdt.Trainer)
	if !ok {
		return nil
	}
	bb, err := g.NewBinBuilder(p.Columns, rows)
	if err != nil {
		return nil
	}
	return bb
}

// streamTrain bins the training split tbl a range of rows at a time:
// first the rows of the binning sample (gathered, then transformed), then
// every range in order.
func streamTrain(ctx context.Context, tbl arrow.Table, enc *features.TrainEncoder, bb *gbdt.BinBuilder, rows *rowCounter) (*gbdt.Bins, error) {
	sampleRows := bb.SampleRows()
	sample, err := ingest.TakeRows(ctx, tbl, sampleRows)
	if err != nil {
		return nil, err
	}
	x, err := enc.TransformRows(sample, sampleRows)
	sample.Release()
	if err != nil {
		return nil, err
	}
	if err := bb.SetSample(x); err != nil {
		return nil, err
	}
	n := int(tbl.NumRows())
	for lo := 0; lo < n; lo += streamRows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+streamRows, n)
		part := tables.Slice(tbl, int64(lo), int64(hi))
		x, err := enc.Transform(part, lo)
		part.Release()
		if err != nil {
			return nil, fmt.Errorf("training rows %d to %d: %w", lo, hi, err)
		}
		if err := bb.Add(x); err != nil {
			return nil, err
		}
		rows.add(int64(hi - lo))
	}
	return bb.Bins()
}

// streamValid bins the validation split tbl a range of rows at a time,
// with the feature pipeline p and the boundaries of the training bins:
// the rows gbdt stops early on, which it reads in bins. The float
// validation matrix is never held whole.
func streamValid(ctx context.Context, tbl arrow.Table, p *features.Pipeline, bins *gbdt.Bins, rows *rowCounter) (*gbdt.Bins, error) {
	rb := bins.RowBinner(int(tbl.NumRows()))
	if err := transformRanges(ctx, p, tbl, rows, rb.Add); err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}
	return rb.Bins()
}

// validScorer is selection's ValidPredict when the validation rows are
// held only as gbdt's bins: it scores a fitted model on the raw
// validation split a range of rows at a time. With one candidate (the
// only case binBuilder streams), the model it scores is the one
// selection returns, so a model's single score a row (oneScore) is kept
// for the threshold, evaluate and register (validPredictions).
func validScorer(s *State, candidates int) func(context.Context, train.Model) ([]float64, error) {
	return func(ctx context.Context, m train.Model) ([]float64, error) {
		// The fit just ended: what it held (gbdt's gradients, scores,
		// column copy of the bins, histograms) is garbage the collector
		// has not reached yet, its goal set by the fit's heap. Without a
		// collection now, every range the scoring transforms would pile
		// on it, above the fit's own peak (190 MB at 12M rows).
		returnMemory()
		p, err := s.predictValid(ctx, m)
		if err == nil && candidates == 1 && oneScore(s.ValidSet) {
			s.validProba = p
		}
		return p, err
	}
}

// Streaming evaluation (docs/architecture.md, "Memory and scale",
// step 4).
//
// The test split is never turned into a float matrix whole: the features
// stage keeps only its labels, and predictTable transforms and scores it
// streamRows rows at a time when the evaluate stage (or the gate, for the
// production model) needs its predictions. A model scores each row on its
// own (model.Model: Predict gives PredictRow's numbers, row-major), so the
// predictions are bit for bit those of the whole matrix. The explanations
// transform only their sampled rows (explainTest).

// predictTable returns the outputs of model m, with the feature pipeline
// p, on every row of tbl (tbl.NumRows()·m.Outputs() of them, row-major),
// transforming and scoring streamRows rows at a time. rows, if not nil,
// counts them.
func predictTable(ctx context.Context, p *features.Pipeline, m train.Model, tbl arrow.Table, rows *rowCounter) ([]float64, error) {
	out := make([]float64, 0, int(tbl.NumRows())*m.Outputs())
	err := transformRanges(ctx, p, tbl, rows, func(x *features.Matrix) error {
		out = append(out, m.Predict(x)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// transformRanges transforms tbl with p streamRows rows at a time and
// hands each range's matrix, in row order, to use; rows, if not nil,
// counts them. Only one range's floats are held at a time.
func transformRanges(ctx context.Context, p *features.Pipeline, tbl arrow.Table, rows *rowCounter, use func(*features.Matrix) error) error {
	n := int(tbl.NumRows())
	for lo := 0; lo < n; lo += streamRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+streamRows, n)
		part := tables.Slice(tbl, int64(lo), int64(hi))
		x, err := p.Transform(part)
		part.Release()
		if err != nil {
			return fmt.Errorf("rows %d to %d: %w", lo, hi, err)
		}
		if err := use(x); err != nil {
			return err
		}
		if rows != nil {
			rows.add(int64(hi - lo))
		}
	}
	return nil
}
