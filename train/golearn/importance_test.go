package golearn_test

import (
	"context"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/golearn"
)

// TestImportance checks the information gain of a hand-made forest of
// two trees against the entropies worked out by hand, and that a fitted
// ID3 tree gives a perfectly separating column the label's whole entropy
// and a constant column nothing.
func TestImportance(t *testing.T) {
	// h2 is the entropy in bits of the shares p and 1-p.
	h2 := func(p float64) float64 { return -p*math.Log2(p) - (1-p)*math.Log2(1-p) }
	m := &golearn.Model{
		Name: golearn.NameRF, Classes: 2,
		Columns: []golearn.Column{{Name: "a"}, {Name: "b"}, {Name: "unused"}},
		Trees: []golearn.Tree{
			{Nodes: []golearn.Node{
				{Col: 0, Threshold: 1, Children: []int{1, 2}, Counts: []int{6, 4}},
				{Col: 1, Threshold: 1, Children: []int{3, 4}, Counts: []int{4, 1}},
				{Col: -1, Counts: []int{2, 3}},
				{Col: -1, Counts: []int{3, 0}},
				{Col: -1, Counts: []int{1, 1}},
			}},
			{Nodes: []golearn.Node{
				{Col: 1, Threshold: 1, Children: []int{1, -1}, Counts: []int{5, 5}},
				{Col: 2, Threshold: 1, Children: []int{-1, 2}, Counts: []int{5, 5}}, // all rows one side: no gain
				{Col: -1, Counts: []int{5, 5}},
			}},
		},
	}
	// Tree 1, 10 rows: a splits 6:4 into 4:1 and 2:3; b splits 4:1 into
	// 3:0 and 1:1. Tree 2: b's split sends every row one way, a gain of 0.
	a := (10*h2(0.6) - 5*h2(0.8) - 5*h2(0.4)) / 10 / 2
	b := (5*h2(0.8) - 0 - 2*h2(0.5)) / 10 / 2
	want := []float64{a, b, 0}
	got := m.Importance()
	for i := range want {
		if len(got) != 3 || math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("importance %v, want %v", got, want)
		}
	}
	if m.ImportanceKind() != train.ImportanceGain {
		t.Errorf("kind %q", m.ImportanceKind())
	}

	// y = x > 49.5 on 100 rows, 30 of them positive; c is constant.
	x := features.NewMatrix(100, []features.ColumnInfo{{Name: "x", Kind: features.Numeric}, {Name: "c", Kind: features.Numeric}})
	y := make([]float64, 100)
	for i := range 100 {
		x.Data[0][i] = float64(i)
		if i >= 70 {
			y[i] = 1
		}
	}
	fit, err := golearn.NewID3(golearn.ID3Params{}).Fit(context.Background(), &train.Dataset{X: x, Y: y, Classes: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = fit.(train.Importancer).Importance()
	if len(got) != 2 || math.Abs(got[0]-h2(0.3)) > 1e-12 || got[1] != 0 {
		t.Errorf("fitted importance %v, want [%v 0] (the label's entropy, then none)", got, h2(0.3))
	}
}
