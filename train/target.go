package train

import (
	"context"
	"fmt"
	"math"
)

// Target transforms. A regression whose target has a long right tail
// (prices, counts, durations) is often fitted better on log(1+y); its
// metrics and predictions must still be on the original scale. Log1p
// wraps a trainer so that the model it returns does both: it was fitted
// on log(1+y) and predicts expm1 of what it learned. Every consumer of
// the model (evaluation, selection, serving) sees the original scale.

// Log1p returns a trainer that fits t on log(1+y) of a regression's
// targets and returns a *Log1pModel. Every target must be above -1.
func Log1p(t Trainer) Trainer { return log1pTrainer{t} }

type log1pTrainer struct{ Trainer }

func (t log1pTrainer) Fit(ctx context.Context, tr, valid *Dataset) (Model, error) {
	ltr, err := log1pTarget(tr)
	if err != nil {
		return nil, fmt.Errorf("%s: training set: %w", t.Name(), err)
	}
	lvalid, err := log1pTarget(valid)
	if err != nil {
		return nil, fmt.Errorf("%s: validation set: %w", t.Name(), err)
	}
	m, err := t.Trainer.Fit(ctx, ltr, lvalid)
	if err != nil {
		return nil, err
	}
	return &Log1pModel{Inner: m}, nil
}

// log1pTarget returns a copy of d with log(1+y) as its targets.
func log1pTarget(d *Dataset) (*Dataset, error) {
	if d == nil {
		return nil, nil
	}
	if d.Task != Regression {
		return nil, fmt.Errorf("the log1p target transform applies to a regression, not a %s task", ClassTask(d.Classes))
	}
	out := *d
	out.Y = make([]float64, len(d.Y))
	for i, y := range d.Y {
		if !(y > -1) {
			return nil, fmt.Errorf("row %d: target %g is not above -1, so log(1+y) is undefined", i, y)
		}
		out.Y[i] = math.Log1p(y)
	}
	return &out, nil
}
