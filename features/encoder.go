package features

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

// TrainEncoder transforms the training rows of a fitted pipeline, with
// their target encodings out of fold, a range of rows at a time: the
// float training matrix (8 bytes a cell) need not be held whole by a
// caller that turns each range into something smaller (gbdt's bins). It
// holds the rows' fold assignment (1 byte a row) and, per target-encoded
// step, the per-fold counts of each category.
type TrainEncoder struct {
	p     *Pipeline
	rows  int
	folds []uint8     // the fold of each training row; nil without target encodings
	oof   []*oofStats // per step: nil without a target encoding
}

// Rows is the number of training rows the encoder was fitted on.
func (e *TrainEncoder) Rows() int { return e.rows }

// Transform returns the training matrix of tbl, whose rows are the
// training rows from first on (a slice of the training table), with out-
// of-fold target encodings: Fit's training matrix, rows first to
// first+tbl.NumRows(), bit for bit.
func (e *TrainEncoder) Transform(tbl arrow.Table, first int) (*Matrix, error) {
	n := int(tbl.NumRows())
	if first < 0 || first+n > e.rows {
		return nil, fmt.Errorf("transform: rows %d to %d of %d training rows", first, first+n, e.rows)
	}
	folds := make([]uint8, n)
	if e.folds != nil {
		copy(folds, e.folds[first:first+n])
	}
	return e.transform(tbl, folds)
}

// TransformRows returns the training matrix of tbl, whose row i is
// training row rows[i] (a gathered sample of the training table): Fit's
// training matrix at those rows, bit for bit.
func (e *TrainEncoder) TransformRows(tbl arrow.Table, rows []int32) (*Matrix, error) {
	if int64(len(rows)) != tbl.NumRows() {
		return nil, fmt.Errorf("transform: %d row numbers for %d rows", len(rows), tbl.NumRows())
	}
	folds := make([]uint8, len(rows))
	for i, r := range rows {
		if r < 0 || int(r) >= e.rows {
			return nil, fmt.Errorf("transform: row %d of %d training rows", r, e.rows)
		}
		if e.folds != nil {
			folds[i] = e.folds[r]
		}
	}
	return e.transform(tbl, folds)
}

func (e *TrainEncoder) transform(tbl arrow.Table, folds []uint8) (*Matrix, error) {
	m, err := e.p.Transform(tbl)
	if err != nil {
		return nil, err
	}
	// Replace the training rows' target encodings by out-of-fold ones.
	col := 0
	for i, st := range e.p.Steps {
		w := e.p.stepWidth(i)
		if o := e.oof[i]; o != nil {
			o.encode(categoryKeys(tbl, stepInputs(st)), folds, m.Data[col+w-1])
		}
		col += w
	}
	return m, nil
}

// fitRows is the training rows FitEncoderFrom reads at a time: 64 Ki
// rows are about 1 MB of category keys a step. A variable for the tests.
var fitRows = 1 << 16
