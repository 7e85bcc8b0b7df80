package gbdt_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// weightTask is a seeded classification task on two integer-valued
// columns (fewer distinct values than bins, so binning is exact whatever
// the row counts), with classes of unequal size.
func weightTask(n, classes int, seed uint64) *train.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := features.NewMatrix(n, numeric("a", "b"))
	y := make([]float64, n)
	for i := range n {
		a, b := float64(rng.IntN(20)), float64(rng.IntN(10))
		x.Data[0][i], x.Data[1][i] = a, b
		// Class k grows likelier with a; the last class is rare.
		k := min(int(a+b+rng.Float64()*8)/10, classes-1)
		if k == classes-1 && rng.Float64() < 0.7 {
			k = 0
		}
		y[i] = float64(k)
	}
	return &train.Dataset{X: x, Y: y, Classes: classes}
}

// duplicated returns d with each row of class k repeated times[k] times.
func duplicated(d *train.Dataset, times []int) *train.Dataset {
	var idx []int
	for i, y := range d.Y {
		for range times[int(y)] {
			idx = append(idx, i)
		}
	}
	out := &train.Dataset{X: d.X.Take(idx), Y: make([]float64, len(idx)), Classes: d.Classes}
	for k, i := range idx {
		out.Y[k] = d.Y[i]
	}
	return out
}

// TestClassWeightsAreRepeatedRows checks that an integer class weight
// fits the model that repeating each row of the class that many times
// fits: the weights multiply the rows' gradients and hessians, and the
// starting margins count weighted rows. Row counts (min_samples_leaf) are
// the one thing weights do not scale, so the test sets it to 1.
func TestClassWeightsAreRepeatedRows(t *testing.T) {
	for _, tc := range []struct {
		name    string
		classes int
		weights []int
	}{
		{"binary", 2, []int{1, 4}},
		{"multiclass", 3, []int{2, 1, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := weightTask(600, tc.classes, 3)
			p := gbdt.Params{Rounds: 15, MaxLeaves: 8, MinSamplesLeaf: 1, MinChildWeight: -1, Parallelism: 1}
			w := make([]float64, tc.classes)
			for k, v := range tc.weights {
				w[k] = float64(v)
			}
			weighted := *d
			weighted.ClassWeights = w
			got := fit(t, p, &weighted, nil).Predict(d.X)
			want := fit(t, p, duplicated(d, tc.weights), nil).Predict(d.X)
			unweighted := fit(t, p, d, nil).Predict(d.X)
			var worst, moved float64
			for i := range got {
				worst = max(worst, math.Abs(got[i]-want[i]))
				moved = max(moved, math.Abs(unweighted[i]-want[i]))
			}
			// float32 sums of one weighted gradient and of repeated ones
			// round differently in the last bits, nothing more.
			if worst > 1e-5 {
				t.Errorf("weighted and repeated rows differ by up to %.3g", worst)
			}
			if moved < 0.01 {
				t.Errorf("the weights moved the predictions by %.3g only: the test would not notice weights being ignored", moved)
			}
		})
	}
}

// TestBalancedRaisesRareClass checks the effect that class_weight:
// balanced is for: the mean predicted probability of a rare class rises
// to about one half.
func TestBalancedRaisesRareClass(t *testing.T) {
	d := weightTask(2000, 2, 5)
	var rare float64
	for _, y := range d.Y {
		rare += y
	}
	rare /= float64(len(d.Y))
	tr := train.WithClassWeight(gbdt.New(gbdt.Params{Rounds: 30, MaxLeaves: 8}), train.ClassWeight{Balanced: true})
	m, err := tr.Fit(t.Context(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for _, p := range m.Predict(d.X) {
		mean += p
	}
	mean /= float64(d.X.Rows)
	if rare > 0.3 || math.Abs(mean-0.5) > 0.05 {
		t.Errorf("positive rate %.3f, mean predicted probability %.3f with balanced weights; want a rare class and about 0.5", rare, mean)
	}
}
