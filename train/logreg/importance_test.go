package logreg_test

import (
	"context"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/logreg"
)

// TestImportance checks the standardised coefficients against their
// definition, worked out from the fitted weights: |w|·sd(x) for a numeric
// column (NaN read as 0, as the model reads it), and for a categorical
// one the standard deviation of the row's code weight; for 3 classes the
// root of the summed variances over the outputs.
func TestImportance(t *testing.T) {
	x, y2, y3 := readReference(t)
	for _, tc := range []struct {
		name    string
		y       []float64
		classes int
	}{{"binary", y2, 2}, {"multinomial", y3, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			fitted, err := logreg.New(logreg.Params{C: referenceC}).Fit(context.Background(), &train.Dataset{X: x, Y: tc.y, Classes: tc.classes}, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := fitted.(*logreg.Model)
			got := m.Importance()
			if len(got) != 3 || m.ImportanceKind() != train.ImportanceCoefficient {
				t.Fatalf("importance %v (%s)", got, m.ImportanceKind())
			}
			n := float64(x.Rows)
			for j := range 3 {
				var want float64
				for k := range m.Outputs() {
					var s, ss float64
					for i := range x.Rows {
						v := x.Data[j][i]
						var c float64
						switch {
						case j == 2:
							c = m.Columns[j].Weights[k][int(v)]
						case math.IsNaN(v):
							c = 0
						default:
							c = m.Columns[j].Weights[k][0] * v
						}
						s, ss = s+c, ss+c*c
					}
					want += ss/n - (s/n)*(s/n)
				}
				want = math.Sqrt(want)
				if math.Abs(got[j]-want) > 1e-12*want {
					t.Errorf("column %d: importance %.15g, by hand %.15g", j, got[j], want)
				}
			}
		})
	}
}
