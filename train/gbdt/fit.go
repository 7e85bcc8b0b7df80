package gbdt

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/train"
)

// Trainer fits gradient-boosted tree models. It implements train.Trainer.
type Trainer struct {
	params Params
}

// New returns a trainer with parameters p (zero fields take defaults).
func New(p Params) *Trainer { return &Trainer{params: p} }

// Name returns "gbdt".
func (t *Trainer) Name() string { return Name }

// Second words of the PCG seeds: one random stream per purpose, so that,
// for example, changing Subsample does not change the binning sample.
const (
	seedBins    = 0x62696e73 // "bins"
	seedRows    = 0x726f7773 // "rows"
	seedCols    = 0x636f6c73 // "cols"
	seedMonitor = 0x6d6f6e69 // "moni"
	seedGOSS    = 0x676f7373 // "goss"
)

// Fit trains a model on tr, using valid (which may be nil) for early
// stopping. It returns an error wrapping train.ErrOneClass when the
// training labels hold a single class, and ctx's error when ctx is
// cancelled (checked between trees).
func (t *Trainer) Fit(ctx context.Context, tr, valid *train.Dataset) (train.Model, error) {
	m, err := t.fit(ctx, tr, valid)
	if err != nil {
		return nil, fmt.Errorf("gbdt fit: %w", err)
	}
	return m, nil
}

func (t *Trainer) fit(ctx context.Context, tr, valid *train.Dataset) (*Model, error) {
	p, err := t.params.resolve()
	if err != nil {
		return nil, err
	}
	if err := checkData(tr, valid); err != nil {
		return nil, err
	}
	if p.Objective, err = p.objectiveFor(tr.Task); err != nil {
		return nil, err
	}
	if p.Objective == Huber && p.Delta == 0 {
		p.Delta = defaultDelta(tr.Y)
	}
	if err := checkPrebinned(tr, p); err != nil {
		return nil, err
	}
	if err := checkValidBins(tr, valid); err != nil {
		return nil, err
	}
	b := newBooster(tr, valid, p)
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	return b.model(tr), nil
}

// defaultDelta is huber's default Delta for targets y: the 0.9-quantile
// of their absolute deviations from their median (or 1 if that is 0).
func defaultDelta(y []float64) float64 {
	med := quantileOf(slices.Clone(y), 0.5)
	dev := make([]float64, len(y))
	for i, v := range y {
		dev[i] = math.Abs(v - med)
	}
	if d := quantileOf(dev, 0.9); d > 0 {
		return d
	}
	return 1
}

// checkData validates both datasets and that they agree.
func checkData(tr, valid *train.Dataset) error {
	if err := tr.Validate(); err != nil {
		return fmt.Errorf("training set: %w", err)
	}
	if tr.X.Rows > math.MaxInt32 {
		return fmt.Errorf("training set: %d rows, at most %d are supported", tr.X.Rows, math.MaxInt32)
	}
	seen := make(map[float64]bool)
	for _, y := range tr.Y {
		if seen[y] = true; len(seen) > 1 {
			break
		}
	}
	if len(seen) < 2 {
		return fmt.Errorf("training set: %w: every label is the same", train.ErrOneClass)
	}
	if valid != nil && valid.Task != tr.Task && (valid.Task == train.Regression || tr.Task == train.Regression) {
		return fmt.Errorf("validation set: task %q, training set %q", valid.Task, tr.Task)
	}
	if valid == nil {
		return nil
	}
	if err := valid.Validate(); err != nil {
		return fmt.Errorf("validation set: %w", err)
	}
	if valid.Classes != tr.Classes {
		return fmt.Errorf("validation set: %d classes, training set %d", valid.Classes, tr.Classes)
	}
	if len(valid.X.Cols) != len(tr.X.Cols) {
		return fmt.Errorf("validation set: %d columns, training set %d", len(valid.X.Cols), len(tr.X.Cols))
	}
	for j, c := range tr.X.Cols {
		if v := valid.X.Cols[j]; v.Kind != c.Kind || v.Card != c.Card {
			return fmt.Errorf("validation set: column %d (%s) is %s with %d codes, in the training set %s with %d", j, c.Name, v.Kind, v.Card, c.Kind, c.Card)
		}
	}
	return nil
}
