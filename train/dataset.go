package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/mlpipe/mlpipe/features"
)

// Dataset is what a trainer learns from: a design matrix and a label per
// row.
type Dataset struct {
	X *features.Matrix
	// Y is the label of each row: 0 or 1 for a binary task, the class
	// index in [0, Classes) for a multiclass one, the target value (finite)
	// for a regression.
	Y []float64
	// Task is Regression for a numeric target. For a classification task
	// it may be left empty: Classes says whether it is binary.
	Task Task
	// Classes is 2 for a binary task, K for a K-class one, and 0 for a
	// regression.
	Classes int
	// ClassNames names the classes, when known (len == Classes).
	ClassNames []string
	// ClassWeights, when not nil, weights each row's loss by the weight
	// of its class (len == Classes; see WithClassWeight). Trainers that
	// honour it: gbdt and logreg. nil: every row weighs 1.
	ClassWeights []float64
	// Prebinned, when not nil, is X in one trainer's own compact form,
	// built while X was transformed a range of rows at a time (a
	// *gbdt.Bins), and X holds only the shape: Rows and Cols, Data nil.
	// Only that trainer can fit on it; others return ErrPrebinned. A
	// validation Dataset's bins are made with the training Dataset's
	// (gbdt.Bins.RowBinner), for the trainer's early stopping; its
	// predictions are then scored from the raw rows (the caller's
	// selection.Options.ValidPredict).
	Prebinned any
	// Groups, when not nil, is the group of each row (the config's
	// split.group; ingest.GroupIDs): cross-validation keeps each group's
	// rows in one fold (selection.Folds). nil: every row stands alone.
	Groups []int
}

// ErrPrebinned means a trainer (or a model scoring a dataset) was given
// a dataset whose matrix is held only in a trainer's binned form
// (Dataset.Prebinned).
var ErrPrebinned = errors.New("the feature matrix is held only as a trainer's bins")

// CheckFloats returns ErrPrebinned when d's matrix values are not held:
// a trainer that reads X.Data calls it first.
func (d *Dataset) CheckFloats() error {
	if d != nil && d.X != nil && d.X.Data == nil && d.X.Rows > 0 {
		return ErrPrebinned
	}
	return nil
}

// Validate checks that d is well formed: Y matches X, and each label is
// a class in range (classification) or a finite number (regression).
func (d *Dataset) Validate() error {
	if d == nil || d.X == nil {
		return errors.New("dataset: no data")
	}
	if len(d.Y) != d.X.Rows {
		return fmt.Errorf("dataset: %d labels for %d rows", len(d.Y), d.X.Rows)
	}
	if d.Task == Regression {
		if d.ClassWeights != nil {
			return errors.New("dataset: class weights on a regression")
		}
		for i, y := range d.Y {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return fmt.Errorf("dataset: row %d: target %g is not a finite number", i, y)
			}
		}
		return nil
	}
	if d.Classes < 2 {
		return fmt.Errorf("dataset: %w: %d classes", ErrOneClass, d.Classes)
	}
	for i, y := range d.Y {
		if y != float64(int(y)) || y < 0 || int(y) >= d.Classes {
			return fmt.Errorf("dataset: row %d: label %g is not a class in [0, %d)", i, y, d.Classes)
		}
	}
	if d.ClassWeights != nil {
		if len(d.ClassWeights) != d.Classes {
			return fmt.Errorf("dataset: %d class weights for %d classes", len(d.ClassWeights), d.Classes)
		}
		for k, w := range d.ClassWeights {
			if !(w > 0) || math.IsInf(w, 0) {
				return fmt.Errorf("dataset: class %d: weight %g is not a positive number", k, w)
			}
		}
	}
	return nil
}

// Trainer fits a model. Fit may use valid (which may be nil) for early
// stopping; it stops when ctx is cancelled and returns ctx's error.
type Trainer interface {
	Name() string
	Fit(ctx context.Context, train, valid *Dataset) (Model, error)
}

// ErrOneClass means the labels hold fewer than two classes.
var ErrOneClass = errors.New("fewer than two classes")
