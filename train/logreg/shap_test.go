package logreg_test

import (
	"bytes"
	"errors"
	"math"
	"math/bits"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/logreg"
)

var _ train.Explainable = (*logreg.Model)(nil)

// shapTol is the bound on explanations: exact values to 1e-9,
// far above the rounding of sums of a few terms (about 1e-15).
const shapTol = 1e-9

// margins returns the model's margins for a row: the log-odds (or the
// softmax inputs) that PredictRow turns into probabilities.
func margins(m *logreg.Model, row []float64) []float64 {
	ex, err := m.Explainer()
	if err != nil {
		panic(err)
	}
	phi, out := make([]float64, m.Outputs()*len(row)), make([]float64, m.Outputs())
	ex.ExplainRow(row, phi, out)
	return out
}

// TestShapMatchesBruteForce: the explainer's values equal the exact
// Shapley values of the game in which a column outside the coalition
// takes, independently of the others, each training row's value in turn
// (v(S) is the mean margin over the training rows of the row with the
// columns in S taken from x): enumerated over every subset of 5 columns,
// with the margins of PredictRow. Numeric columns have NaN, categorical
// ones skewed codes, and the rows explained include codes the model does
// not have.
func TestShapMatchesBruteForce(t *testing.T) {
	for _, classes := range []int{2, 3} {
		ds := logreg.Synthetic(uint64(classes), 300, 3, []int{4, 6}, classes, 0.1)
		m := fit(t, logreg.Params{}, ds)
		ex, err := m.Explainer()
		if err != nil {
			t.Fatal(err)
		}
		k, cols := m.Outputs(), len(ds.X.Cols)
		// v[S][out]: the mean margin over the training rows with the
		// columns of S set from x.
		game := func(x []float64) [][]float64 {
			v := make([][]float64, 1<<cols)
			hybrid := make([]float64, cols)
			for s := range v {
				v[s] = make([]float64, k)
				for i := range ds.X.Rows {
					ds.X.Row(i, hybrid)
					for j := range cols {
						if s&(1<<j) != 0 {
							hybrid[j] = x[j]
						}
					}
					for out, z := range margins(m, hybrid) {
						v[s][out] += z / float64(ds.X.Rows)
					}
				}
			}
			return v
		}
		fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
		rows := [][]float64{ds.X.Row(0, nil), ds.X.Row(1, nil), {math.NaN(), 2, -1, 9, 0.5}, {0.3, 0.1, 4, 3, 5}}
		for r, x := range rows {
			v := game(x)
			phi, margin := make([]float64, k*cols), make([]float64, k)
			ex.ExplainRow(x, phi, margin)
			for out := range k {
				if d := math.Abs(ex.Base()[out] - v[0][out]); d > shapTol {
					t.Errorf("%d classes, output %d: base %v, v(∅) = %v", classes, out, ex.Base()[out], v[0][out])
				}
				for j := range cols {
					var want float64
					for s := range v {
						if s&(1<<j) == 0 {
							n := bits.OnesCount(uint(s))
							want += fact(n) * fact(cols-n-1) / fact(cols) * (v[s|1<<j][out] - v[s][out])
						}
					}
					if d := math.Abs(phi[out*cols+j] - want); !(d <= shapTol) {
						t.Errorf("%d classes, row %d %v, output %d column %d: %v, brute force %v", classes, r, x, out, j, phi[out*cols+j], want)
					}
				}
			}
		}
	}
}

// TestShapAdditive: on every row of the 10k-row fixture, and for each
// class of a 3-class model, the contributions and the base value add up
// to the margin, and the margin gives PredictRow's probability.
func TestShapAdditive(t *testing.T) {
	sets := loadFlights(t, "../../testdata/flights-10k.parquet")
	binary := fit(t, logreg.Params{}, sets.train)
	multi := logreg.Synthetic(5, 2000, 4, []int{3, 7}, 3, 0.05)
	for _, tc := range []struct {
		m *logreg.Model
		x []*features.Matrix
	}{
		{binary, []*features.Matrix{sets.train.X, sets.valid.X, sets.test.X}},
		{fit(t, logreg.Params{}, multi), []*features.Matrix{multi.X}},
	} {
		ex, err := tc.m.Explainer()
		if err != nil {
			t.Fatal(err)
		}
		k := tc.m.Outputs()
		for _, x := range tc.x {
			cols := len(x.Cols)
			phi, margin, p := make([]float64, k*cols), make([]float64, k), make([]float64, k)
			for i := range x.Rows {
				row := x.Row(i, nil)
				ex.ExplainRow(row, phi, margin)
				for out := range k {
					sum := ex.Base()[out]
					for _, v := range phi[out*cols : (out+1)*cols] {
						sum += v
					}
					if d := math.Abs(sum - margin[out]); !(d <= shapTol) {
						t.Fatalf("%d outputs, row %d output %d: base + contributions %v, margin %v", k, i, out, sum, margin[out])
					}
				}
				tc.m.PredictRow(row, p)
				if k == 1 && math.Abs(p[0]-1/(1+math.Exp(-margin[0]))) > 1e-15 {
					t.Fatalf("row %d: margin %v, probability %v", i, margin[0], p[0])
				}
			}
		}
	}
}

// TestShapOldModel: a model saved without training means loads and
// predicts, but refuses to explain; a zero-weight column gets exactly 0.
func TestShapOldModel(t *testing.T) {
	ds := logreg.Synthetic(1, 300, 2, []int{3}, 2, 0)
	m := fit(t, logreg.Params{}, ds)
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := train.Load(bytes.NewReader(buf.Bytes()), decoders)
	if err != nil {
		t.Fatal(err)
	}
	zero := back.(*logreg.Model)
	zero.Columns[1].Weights[0][0] = 0
	ex, err := train.Explain(zero)
	if err != nil {
		t.Fatal(err)
	}
	phi, margin := make([]float64, 3), make([]float64, 1)
	ex.ExplainRow(ds.X.Row(0, nil), phi, margin)
	if phi[1] != 0 {
		t.Errorf("a column with weight 0 gets %v, want exactly 0", phi[1])
	}

	old, err := train.Load(bytes.NewReader(buf.Bytes()), decoders)
	if err != nil {
		t.Fatal(err)
	}
	for j := range old.(*logreg.Model).Columns {
		old.(*logreg.Model).Columns[j].Mean = nil
	}
	if _, err := train.Explain(old); !errors.Is(err, train.ErrNotExplainable) {
		t.Errorf("explaining a model without means: %v, want ErrNotExplainable", err)
	}
}
