package ridge_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/ridge"
)

// TestImportance checks the standardised coefficients of a ridge fit
// against their definition: |w|·sd(x) for a numeric column, the standard
// deviation of the code's weight over the rows for a categorical one,
// in the target's units. The column with the larger effect on y ranks
// first whatever its scale.
func TestImportance(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	n := 500
	x := features.NewMatrix(n, []features.ColumnInfo{
		{Name: "small", Kind: features.Numeric},
		{Name: "big", Kind: features.Numeric},
		{Name: "cat", Kind: features.Categorical, Card: 3},
	})
	y := make([]float64, n)
	for i := range n {
		a, b, c := rng.NormFloat64()*0.01, rng.NormFloat64()*100, rng.IntN(3)
		x.Data[0][i], x.Data[1][i], x.Data[2][i] = a, b, float64(c)
		y[i] = 500*a + 0.001*b + []float64{0, 1, -1}[c] + rng.NormFloat64()*0.1
	}
	fitted, err := ridge.New(ridge.Params{Alpha: 1e-6}).Fit(context.Background(), &train.Dataset{X: x, Y: y, Task: train.Regression}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := fitted.(*ridge.Model)
	got := m.Importance()
	sd := func(f func(i int) float64) float64 {
		var s, ss float64
		for i := range n {
			v := f(i)
			s, ss = s+v, ss+v*v
		}
		return math.Sqrt(ss/float64(n) - (s/float64(n))*(s/float64(n)))
	}
	want := []float64{
		math.Abs(m.Columns[0].Weights[0]) * sd(func(i int) float64 { return x.Data[0][i] }),
		math.Abs(m.Columns[1].Weights[0]) * sd(func(i int) float64 { return x.Data[1][i] }),
		sd(func(i int) float64 { return m.Columns[2].Weights[int(x.Data[2][i])] }),
	}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-9*want[j] {
			t.Errorf("column %d: importance %.12g, by hand %.12g", j, got[j], want[j])
		}
	}
	// small moves y by 500·0.01 = 5 per sd, big by 0.001·100 = 0.1.
	if !(got[0] > 10*got[1]) {
		t.Errorf("importances %v: the small-scale column with the large effect should rank first", got)
	}
}
