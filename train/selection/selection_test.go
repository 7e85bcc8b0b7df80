package selection_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

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
	res, err := selection.Select(context.Background(), cands, ds, ds, selection.Options{Metric: distance})
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
	_, err = selection.Select(context.Background(), cands[1:2], ds, ds, selection.Options{Metric: distance})
	if !errors.Is(err, selection.ErrNoModel) {
		t.Errorf("err = %v, want ErrNoModel", err)
	}

	// Cancellation stops the selection.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := selection.Select(ctx, cands, ds, ds, selection.Options{Metric: distance}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestValidPredict: with a validation set held only as a trainer's bins
// (a shape-only matrix), candidates are scored on the predictions
// ValidPredict gives; without it, that is an error, not a score of
// nothing.
func TestValidPredict(t *testing.T) {
	tr := &train.Dataset{X: features.NewMatrix(2, []features.ColumnInfo{{Name: "x"}}), Y: []float64{0, 1}, Classes: 2}
	valid := &train.Dataset{X: &features.Matrix{Rows: 2, Cols: tr.X.Cols}, Y: []float64{0, 1}, Classes: 2, Prebinned: "bins"}
	cands := []selection.Candidate{
		{Name: "a", Trainer: fakeTrainer{m: constModel{0.2}}},
		{Name: "b", Trainer: fakeTrainer{m: constModel{0.6}}},
	}
	// The predictions turned around: b's 0.6 scores as 0.4, a's 0.2 as
	// 0.8, which is closer to 0.7.
	var scored []float64
	opts := selection.Options{Metric: distance, ValidPredict: func(_ context.Context, m train.Model) ([]float64, error) {
		p := 1 - m.(constModel).p
		scored = append(scored, p)
		return []float64{p, p}, nil
	}}
	res, err := selection.Select(context.Background(), cands, tr, valid, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != 0 || len(scored) != 2 || math.Abs(res.Leaderboard[0].Valid-0.1) > 1e-12 {
		t.Errorf("best %d, validation scores %v of predictions %v; want a, from ValidPredict's", res.Best, res.Leaderboard, scored)
	}
	opts.ValidPredict = nil
	res, err = selection.Select(context.Background(), cands, tr, valid, opts)
	if !errors.Is(err, selection.ErrNoModel) || !strings.Contains(res.Leaderboard[0].Error, train.ErrPrebinned.Error()) {
		t.Errorf("no ValidPredict for a shape-only validation matrix: %v, %+v; want every candidate failed", err, res)
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

// TestFolds checks the folds: a partition of the rows, seeded, of even
// sizes, and stratified (each fold has each class's share, to a row).
func TestFolds(t *testing.T) {
	// 103 rows: 70 of class 0, 25 of class 1, 8 of class 2.
	y := make([]float64, 103)
	for i := range y {
		switch {
		case i%13 == 0 && i < 104:
			y[i] = 2
		case i%4 == 1:
			y[i] = 1
		}
	}
	var counts [3]int
	for _, v := range y {
		counts[int(v)]++
	}
	d := &train.Dataset{X: features.NewMatrix(len(y), nil), Y: y, Classes: 3}
	folds := selection.Folds(d, 5, 7)
	if len(folds) != 5 {
		t.Fatalf("%d folds, want 5", len(folds))
	}
	seen := make([]int, len(y))
	for f, rows := range folds {
		if !slices.IsSorted(rows) {
			t.Errorf("fold %d is not sorted", f)
		}
		if n := len(rows); n < len(y)/5 || n > len(y)/5+1 {
			t.Errorf("fold %d has %d rows, want %d or %d", f, n, len(y)/5, len(y)/5+1)
		}
		var in [3]int
		for _, i := range rows {
			seen[i]++
			in[int(y[i])]++
		}
		for k := range in {
			if lo := counts[k] / 5; in[k] < lo || in[k] > lo+1 {
				t.Errorf("fold %d has %d rows of class %d (of %d), want %d or %d", f, in[k], k, counts[k], lo, lo+1)
			}
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("row %d is in %d folds", i, n)
		}
	}
	if again := selection.Folds(d, 5, 7); !slices.EqualFunc(again, folds, slices.Equal) {
		t.Error("the same seed gave other folds")
	}
	if other := selection.Folds(d, 5, 8); slices.EqualFunc(other, folds, slices.Equal) {
		t.Error("another seed gave the same folds")
	}
	// The smallest class bounds the folds: 8 rows of class 2.
	if got := len(selection.Folds(d, 10, 7)); got != 8 {
		t.Errorf("10 folds asked with a class of 8 rows: %d folds, want 8", got)
	}
	one := &train.Dataset{X: features.NewMatrix(3, nil), Y: []float64{0, 0, 1}, Classes: 2}
	if f := selection.Folds(one, 5, 1); f != nil {
		t.Errorf("a class of one row: folds %v, want none", f)
	}
}

// TestGroupFolds: with groups, every group's rows are in one fold; the
// folds are about even in size and in each class's rows; k is lowered to
// the number of groups; a regression's groups are dealt by size alone.
func TestGroupFolds(t *testing.T) {
	// 60 groups of 1 to 6 rows (group g has 1 + g%6), 210 rows in a
	// seeded random order; one row a group is class 1.
	var groups []int
	for g := range 60 {
		for range 1 + g%6 {
			groups = append(groups, g)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	y := make([]float64, len(groups))
	first := map[int]bool{}
	for i, g := range groups {
		if !first[g] {
			first[g], y[i] = true, 1
		}
	}
	for _, tc := range []struct {
		name string
		d    *train.Dataset
	}{
		{"binary", &train.Dataset{X: features.NewMatrix(len(y), nil), Y: y, Classes: 2, Groups: groups}},
		{"regression", &train.Dataset{X: features.NewMatrix(len(y), nil), Y: y, Task: train.Regression, Groups: groups}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			folds := selection.Folds(tc.d, 5, 7)
			if len(folds) != 5 {
				t.Fatalf("%d folds, want 5", len(folds))
			}
			foldOf := map[int]int{}
			seen := 0
			for f, rows := range folds {
				if !slices.IsSorted(rows) {
					t.Errorf("fold %d is not sorted", f)
				}
				seen += len(rows)
				pos := 0
				for _, i := range rows {
					if k, ok := foldOf[groups[i]]; ok && k != f {
						t.Fatalf("group %d is in folds %d and %d", groups[i], k, f)
					}
					foldOf[groups[i]] = f
					pos += int(y[i])
				}
				// 210 rows in 5 folds, groups of up to 6: within 6 of 42.
				if n := len(rows); n < 42-6 || n > 42+6 {
					t.Errorf("fold %d has %d rows, want 42 ± 6", f, n)
				}
				// 60 groups, one positive row each: 12 a fold, ± 2.
				if tc.d.Classes == 2 && (pos < 10 || pos > 14) {
					t.Errorf("fold %d has %d positive rows, want 12 ± 2", f, pos)
				}
			}
			if seen != len(y) {
				t.Errorf("the folds hold %d rows of %d", seen, len(y))
			}
			if again := selection.Folds(tc.d, 5, 7); !slices.EqualFunc(again, folds, slices.Equal) {
				t.Error("the same seed gave other folds")
			}
		})
	}
	three := &train.Dataset{X: features.NewMatrix(6, nil), Y: []float64{0, 1, 0, 1, 0, 1}, Classes: 2, Groups: []int{0, 0, 1, 1, 2, 2}}
	if got := len(selection.Folds(three, 5, 1)); got != 3 {
		t.Errorf("5 folds asked of 3 groups: %d folds, want 3", got)
	}
	one := &train.Dataset{X: features.NewMatrix(3, nil), Y: []float64{0, 1, 0}, Classes: 2, Groups: []int{4, 4, 4}}
	if f := selection.Folds(one, 5, 1); f != nil {
		t.Errorf("one group: folds %v, want none", f)
	}
}

// meanTrainer predicts, for every row, the mean label of the rows it was
// fitted on, and counts its fits.
type meanTrainer struct{ fits *int }

func (m meanTrainer) Name() string { return "mean" }
func (m meanTrainer) Fit(_ context.Context, tr, _ *train.Dataset) (train.Model, error) {
	*m.fits++
	var s float64
	for _, y := range tr.Y {
		s += y
	}
	return constModel{s / float64(len(tr.Y))}, nil
}

// meanLabel scores the mean label of the scored rows minus the first
// prediction: how far a fold's positive rate is from the rest's.
var meanLabel = selection.Metric{Name: "gap", Score: func(y, p []float64, _ int) (float64, error) {
	var s float64
	for _, v := range y {
		s += v
	}
	return s/float64(len(y)) - p[0], nil
}}

// TestCrossValidate checks that with folds every candidate is fitted once
// per fold on the other folds and scored on its own, that the scores'
// mean and sd are reported, and that the winner is fitted once more on
// the whole training set and scored on validation.
func TestCrossValidate(t *testing.T) {
	y := make([]float64, 40)
	for i := range y {
		if i%4 == 0 {
			y[i] = 1
		}
	}
	tr := &train.Dataset{X: features.NewMatrix(len(y), nil), Y: y, Classes: 2}
	valid := &train.Dataset{X: features.NewMatrix(2, nil), Y: []float64{1, 1}, Classes: 2}
	var fitsA, fitsB int
	cands := []selection.Candidate{
		{Name: "a", Trainer: meanTrainer{&fitsA}},
		{Name: "b", Trainer: meanTrainer{&fitsB}},
	}
	res, err := selection.Select(context.Background(), cands, tr, valid, selection.Options{Metric: meanLabel, Folds: 4, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Folds != 4 || fitsA != 5 || fitsB != 4 {
		t.Errorf("folds %d, fits %d and %d; want 4 folds, 4 fits each and a refit of the best (a)", res.Folds, fitsA, fitsB)
	}
	a := res.Leaderboard[0]
	// Stratified: each fold of 10 rows has 2 or 3 positives of the 10,
	// so the gaps are small and the folds' gaps sum to ~0.
	if a.CV == nil || len(a.CV.Scores) != 4 || math.Abs(a.CV.Mean) > 0.05 || !(a.CV.SD > 0) {
		t.Fatalf("cv = %+v", a.CV)
	}
	var want float64
	for _, s := range a.CV.Scores {
		want += s / 4
	}
	if a.CV.Mean != want {
		t.Errorf("mean %g, want %g", a.CV.Mean, want)
	}
	// The refit model predicts the whole training rate, 0.25; valid's
	// rate is 1.
	if !a.Best || res.Model.(constModel).p != 0.25 || a.Valid != 0.75 {
		t.Errorf("best %v, model %v, valid %g; want a, 0.25, 0.75", a.Best, res.Model, a.Valid)
	}
	if b := res.Leaderboard[1]; !math.IsNaN(b.Valid) || b.CV == nil {
		t.Errorf("b: valid %g, cv %+v; want no validation score and a cv", b.Valid, b.CV)
	}
	// One candidate has nothing to be ranked against: one fit, no folds.
	fitsA = 0
	res, err = selection.Select(context.Background(), cands[:1], tr, valid, selection.Options{Metric: meanLabel, Folds: 4, Seed: 3})
	if err != nil || res.Folds != 0 || fitsA != 1 || res.Leaderboard[0].CV != nil {
		t.Errorf("one candidate: folds %d, %d fits, cv %+v, %v; want one fit", res.Folds, fitsA, res.Leaderboard[0].CV, err)
	}
}

// slowTrainer sleeps, then returns its model.
type slowTrainer struct {
	m     train.Model
	sleep time.Duration
}

func (s slowTrainer) Name() string { return "slow" }
func (s slowTrainer) Fit(context.Context, *train.Dataset, *train.Dataset) (train.Model, error) {
	time.Sleep(s.sleep)
	return s.m, nil
}

// TestBudget checks that the time budget skips random-search trials
// once spent, never the config's own candidates, and that progress is
// reported after each candidate.
func TestBudget(t *testing.T) {
	ds := &train.Dataset{X: features.NewMatrix(2, []features.ColumnInfo{{Name: "x"}}), Y: []float64{0, 1}, Classes: 2}
	cands := []selection.Candidate{
		{Name: "fixed", Trainer: slowTrainer{constModel{0.1}, 60 * time.Millisecond}},
		{Name: "t1", Trial: 1, Trainer: slowTrainer{constModel{0.5}, 0}},
		{Name: "t2", Trial: 2, Trainer: slowTrainer{constModel{0.7}, 0}},
	}
	var calls []int
	res, err := selection.Select(context.Background(), cands, ds, ds, selection.Options{
		Metric: distance, Budget: 30 * time.Millisecond,
		Progress: func(done, total int, e, best *selection.Entry) {
			calls = append(calls, done)
			if total != 3 || best == nil {
				t.Errorf("progress %d/%d, best %v", done, total, best)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leaderboard) != 1 || res.Skipped != 2 || res.Leaderboard[0].Model != "fixed" {
		t.Errorf("leaderboard %+v, skipped %d; want the fixed candidate only, 2 skipped", res.Leaderboard, res.Skipped)
	}
	if !slices.Equal(calls, []int{1}) {
		t.Errorf("progress calls %v", calls)
	}
	res, err = selection.Select(context.Background(), cands, ds, ds, selection.Options{Metric: distance})
	if err != nil || len(res.Leaderboard) != 3 || res.Best != 2 || res.Leaderboard[2].Trial != 2 {
		t.Errorf("no budget: %+v, %v; want every trial, t2 best", res, err)
	}
}
