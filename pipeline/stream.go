package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/stream"
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

// streamRows is the rows transformed at a time (stream.Rows says why).
var streamRows = stream.Rows // a variable for the tests

// binBuilder returns the bin builder of the training matrix of rows
// rows for g, the gbdt trainer when the train stage will fit only a gbdt
// model on the whole training split (gbdtAlone), and nil when g is nil
// (the float matrix is needed).
func binBuilder(g *gbdt.Trainer, p *features.Pipeline, rows int) *gbdt.BinBuilder {
	if g == nil {
		return nil
	}
	bb, err := g.NewBinBuilder(p.Columns, rows)
	if err != nil {
		return nil
	}
	return bb
}

// gbdtAlone returns the gbdt trainer when it is the only model the train
// stage will fit, on the whole training split: no grid or search, no
// step cache (oneGBDT). Selection never cross-validates a lone candidate
// (it is fitted once), whatever cv_folds says. Nil otherwise, and when
// the trainer cannot be built (the train stage reports why).
func gbdtAlone(s *State) *gbdt.Trainer {
	cfg := s.Config
	if !oneGBDT(s) {
		return nil
	}
	tr, err := catalog.Trainer(gbdt.Name, cfg.Models[0].Candidates()[0], cfg.Seed)
	if err != nil {
		return nil // the train stage reports it
	}
	g, _ := tr.(*gbdt.Trainer)
	return g
}

// oneGBDT reports whether the config fits one gbdt candidate and nothing
// else, and no step cache stores the matrices.
func oneGBDT(s *State) bool {
	cfg := s.Config
	return !s.caching && len(cfg.Models) == 1 && cfg.Models[0].Name == gbdt.Name && cfg.Models[0].Search == nil &&
		len(cfg.Models[0].Candidates()) == 1
}

// streamValid bins the validation split tbl a range of rows at a time,
// with the feature pipeline p and the boundaries of the training bins:
// the rows gbdt stops early on, which it reads in bins. The float
// validation matrix is never held whole.
func streamValid(ctx context.Context, tbl arrow.Table, p *features.Pipeline, bins *gbdt.Bins, rows *rowCounter) (*gbdt.Bins, error) {
	vbins, err := ranges(rows).ValidBins(ctx, tbl, p, bins)
	if err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}
	return vbins, nil
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
	return ranges(rows).Predict(ctx, p, m, tbl)
}

// ranges transforms streamRows rows at a time; rows, if not nil, counts
// them.
func ranges(rows *rowCounter) stream.Ranges {
	r := stream.Ranges{Size: streamRows}
	if rows != nil {
		r.Done = rows.add
	}
	return r
}
