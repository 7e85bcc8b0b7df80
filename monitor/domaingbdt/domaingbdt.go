package domaingbdt

import (
	"context"
	"fmt"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// Params is the small gbdt: 30 rounds of trees of at most 16 leaves,
// each leaf at least 50 rows. It is meant to find a difference quickly,
// not to fit every detail: deeper trees raise the AUC under no drift
// (they fit noise) as much as under drift.
var Params = gbdt.Params{Rounds: 30, LearningRate: 0.2, MaxLeaves: 16, MaxDepth: 6, MinSamplesLeaf: 50, EarlyStoppingRounds: -1}

// Fit is a monitor.DomainFit: it fits Params (seeded with seed) on x and
// y and returns the model's probability of label 1.
func Fit(ctx context.Context, x *features.Matrix, y []float64, seed uint64) (func(*features.Matrix) []float64, error) {
	p := Params
	p.Seed = seed
	m, err := gbdt.New(p).Fit(ctx, &train.Dataset{X: x, Y: y, Classes: 2}, nil)
	if err != nil {
		return nil, fmt.Errorf("domain classifier: %w", err)
	}
	return m.Predict, nil
}

var _ monitor.DomainFit = Fit
