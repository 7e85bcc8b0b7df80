package logreg_test

import (
	"context"
	"fmt"
	"math"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/logreg"
)

// One categorical feature and no penalty: the fitted model predicts, for
// each code, the share of positive rows with that code: 3 of 4 on
// weekdays, 1 of 5 at weekends.
func ExampleTrainer_Fit() {
	cols := []features.ColumnInfo{{
		Name: "day", Kind: features.Categorical, Card: 3,
		Levels: []string{"(unknown)", "weekday", "weekend"},
	}}
	x := features.FromRows([][]float64{{1}, {1}, {1}, {1}, {2}, {2}, {2}, {2}, {2}}, cols)
	ds := &train.Dataset{X: x, Y: []float64{1, 1, 1, 0, 1, 0, 0, 0, 0}, Classes: 2}

	m, err := logreg.New(logreg.Params{C: math.Inf(1), Tol: 1e-10}).Fit(context.Background(), ds, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := make([]float64, m.Outputs())
	for _, code := range []float64{1, 2} {
		m.PredictRow([]float64{code}, p)
		fmt.Printf("%s: P(positive) = %.3f\n", cols[0].Levels[int(code)], p[0])
	}
	// Output:
	// weekday: P(positive) = 0.750
	// weekend: P(positive) = 0.200
}
