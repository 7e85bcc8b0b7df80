package explain_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
	"github.com/mlpipe/mlpipe/train/logreg"
)

// tol is the bound on |base + Σ contributions − margin|.
const tol = 1e-9

// TestExplainFlights10k: with the project's feature pipeline on the
// 10k-row fixture, for gbdt and logreg, every row's contributions by
// input are the sums of the model's contributions by feature column, and
// with the base value they add up to the margin; the inputs are the
// config's raw columns, the route a cross of its own.
func TestExplainFlights10k(t *testing.T) {
	sp := flightstest.Load(t, "../testdata/flights-10k.parquet")
	p, xtr, err := features.Fit(sp.Train, sp.YTrain, sp.Config.Features, 1)
	if err != nil {
		t.Fatal(err)
	}
	xte, err := p.Transform(sp.Test)
	if err != nil {
		t.Fatal(err)
	}
	ds := &train.Dataset{X: xtr, Y: sp.YTrain, Classes: 2}
	for _, tr := range []train.Trainer{gbdt.New(gbdt.Params{Rounds: 10}), logreg.New(logreg.Params{})} {
		t.Run(tr.Name(), func(t *testing.T) {
			m, err := tr.Fit(context.Background(), ds, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, err := explain.New(p, m)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"date", "distance", "origin", "destination", "origin × destination"}; !slices.Equal(e.Inputs(), want) {
				t.Fatalf("inputs %q, want %q", e.Inputs(), want)
			}
			inner, _ := train.Explain(m)
			cols := p.ColumnInputs()
			phi, margin := make([]float64, len(cols)), make([]float64, 1)
			var x explain.Explanation
			mats := []*features.Matrix{xtr, xte}
			if testing.Short() {
				mats = mats[1:] // the race detector makes every row slow: the test split only
			}
			for _, mat := range mats {
				for i := range mat.Rows {
					row := mat.Row(i, nil)
					e.Explain(row, &x)
					sum := e.Base()[0]
					for _, v := range x.Output(0) {
						sum += v
					}
					if d := math.Abs(sum - x.Margin[0]); !(d <= tol) {
						t.Fatalf("row %d: base + contributions %v, margin %v", i, sum, x.Margin[0])
					}
					inner.ExplainRow(row, phi, margin)
					for g, name := range e.Inputs() {
						var want float64
						for j, c := range cols {
							if c == name {
								want += phi[j]
							}
						}
						if x.Contrib[g] != want {
							t.Fatalf("row %d input %s: %v, the sum of its columns %v", i, name, x.Contrib[g], want)
						}
					}
				}
			}
			xs, err := e.Sample(context.Background(), xte, []int{3, 1, 2}, 2)
			if err != nil {
				t.Fatal(err)
			}
			e.Explain(xte.Row(1, nil), &x)
			if !slices.Equal(xs[1].Contrib, x.Contrib) {
				t.Errorf("Sample's second row %v, Explain %v", xs[1].Contrib, x.Contrib)
			}
			imp := explain.Importance(xs)
			for g := range imp {
				want := (math.Abs(xs[0].Contrib[g]) + math.Abs(xs[1].Contrib[g]) + math.Abs(xs[2].Contrib[g])) / 3
				if math.Abs(imp[g]-want) > 1e-15 {
					t.Errorf("importance of %s %v, want %v", e.Inputs()[g], imp[g], want)
				}
			}
		})
	}
}

func TestTop(t *testing.T) {
	for _, tc := range []struct {
		contrib []float64
		n       int
		want    []int
	}{
		{[]float64{0.1, -0.5, 0.3, 0}, 0, []int{1, 2, 0, 3}},
		{[]float64{0.1, -0.5, 0.3, 0}, 2, []int{1, 2}},
		{[]float64{0.2, -0.2, 0.2}, 9, []int{0, 1, 2}}, // ties keep input order
		{nil, 3, []int{}},
	} {
		if got := explain.Top(tc.contrib, tc.n, nil); !slices.Equal(got, tc.want) {
			t.Errorf("Top(%v, %d) = %v, want %v", tc.contrib, tc.n, got, tc.want)
		}
	}
}
