package selection_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/selection"
)

// constModel predicts the same probability for every row.
type constModel struct{ p float64 }

func (m constModel) Kind() string     { return "const" }
func (m constModel) Outputs() int     { return 1 }
func (m constModel) Task() train.Task { return train.Binary }
func (m constModel) Predict(x *features.Matrix) []float64 {
	out := make([]float64, x.Rows)
	for i := range out {
		out[i] = m.p
	}
	return out
}
func (m constModel) PredictRow(_, out []float64) { out[0] = m.p }

// fakeTrainer returns its model or its error.
type fakeTrainer struct {
	m   train.Model
	err error
}

func (f fakeTrainer) Name() string { return "fake" }
func (f fakeTrainer) Fit(ctx context.Context, _, _ *train.Dataset) (train.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.m, f.err
}

// distance scores |mean prediction − 0.7|, lower is better, so the
// candidate closest to 0.7 wins.
var distance = selection.Metric{Name: "distance", Score: func(_, p []float64, _ int) (float64, error) {
	d := p[0] - 0.7
	if d < 0 {
		d = -d
	}
	return d, nil
}}

func TestSelect(t *testing.T) {
	ds := &train.Dataset{X: features.NewMatrix(2, []features.ColumnInfo{{Name: "x"}}), Y: []float64{0, 1}, Classes: 2}
	cands := []selection.Candidate{
		{Name: "a", Trainer: fakeTrainer{m: constModel{0.2}}},
		{Name: "b", Trainer: fakeTrainer{err: errors.New("boom")}},
		{Name: "c", Trainer: fakeTrainer{m: constModel{0.6}}},
		{Name: "d", Trainer: fakeTrainer{m: constModel{0.95}}},
	}
	res, err := selection.Select(context.Background(), cands, ds, ds, distance, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != 2 || !res.Leaderboard[2].Best || res.Model.(constModel).p != 0.6 {
		t.Errorf("best = %d (%+v), want c", res.Best, res.Leaderboard)
	}
	if res.Leaderboard[1].Error != "boom" {
		t.Errorf("failed candidate not recorded: %+v", res.Leaderboard[1])
	}
	if len(res.Leaderboard) != 4 {
		t.Errorf("leaderboard has %d entries, want 4", len(res.Leaderboard))
	}

	// Every candidate failing is an error.
	_, err = selection.Select(context.Background(), cands[1:2], ds, ds, distance, nil)
	if !errors.Is(err, selection.ErrNoModel) {
		t.Errorf("err = %v, want ErrNoModel", err)
	}

	// Cancellation stops the selection.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := selection.Select(ctx, cands, ds, ds, distance, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCandidates(t *testing.T) {
	s := train.ModelSpec{Name: "m", Params: map[string]any{"a": 1}, Grid: map[string][]any{"c": {1, 2}, "b": {"x", "y", "z"}}}
	got := s.Candidates()
	if len(got) != 6 {
		t.Fatalf("%d candidates, want 3×2 = 6", len(got))
	}
	// Parameters are expanded in name order: b varies slowest.
	if got[0]["b"] != "x" || got[0]["c"] != 1 || got[1]["c"] != 2 || got[5]["b"] != "z" || got[5]["a"] != 1 {
		t.Errorf("candidates = %v", got)
	}
}
