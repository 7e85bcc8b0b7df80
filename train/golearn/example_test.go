package golearn_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/golearn"
)

// Fit golearn's ID3 tree on a small table, score two new rows, and save
// and load the model.
func ExampleNewID3() {
	// Flights: the hour of departure and the origin airport (code 0 is
	// unknown, 1 and 2 are two airports); the label is "delayed".
	cols := []features.ColumnInfo{
		{Name: "hour", Kind: features.Numeric},
		{Name: "origin", Kind: features.Categorical, Card: 3, Levels: []string{"?", "ORD", "SFO"}},
	}
	rows := [][]float64{
		{7, 1}, {8, 1}, {9, 2}, {10, 2}, {17, 1}, {18, 1}, {19, 2}, {20, 2}, {21, 1},
	}
	delayed := []float64{0, 0, 0, 0, 1, 1, 0, 1, 1}
	ds := &train.Dataset{X: features.FromRows(rows, cols), Y: delayed, Classes: 2}

	m, err := golearn.NewID3(golearn.ID3Params{}).Fit(context.Background(), ds, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.(*golearn.Model).Note())

	var saved bytes.Buffer
	if err := train.Save(&saved, m); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := train.Load(&saved, golearn.Decoders())
	if err != nil {
		fmt.Println(err)
		return
	}
	out := make([]float64, loaded.Outputs())
	for _, row := range [][]float64{{8, 2}, {19, 1}, {19, 2}} {
		loaded.PredictRow(row, out)
		fmt.Printf("hour %v, origin %s: P(delayed) = %.2f\n", row[0], cols[1].Levels[int(row[1])], out[0])
	}
	// Output:
	// golearn ID3 tree, unpruned, on all 9 training rows; scores are leaf class shares; category codes split as numbers; repeatable for a fixed seed
	// hour 8, origin SFO: P(delayed) = 0.00
	// hour 19, origin ORD: P(delayed) = 1.00
	// hour 19, origin SFO: P(delayed) = 0.50
}
