package gbdt_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

var _ train.Explainable = (*gbdt.Model)(nil)

// additivityTol bounds |base + Σ contributions − margin|: the issue's
// 1e-9, far above the rounding of the sums (about 1e-13 here).
const additivityTol = 1e-9

// checkAdditive explains every row of x and checks that each output's
// contributions and base value add up to its margin, and that the
// margins are PredictRow's before the link.
func checkAdditive(t *testing.T, m *gbdt.Model, x *features.Matrix) {
	t.Helper()
	ex, err := m.Explainer()
	if err != nil {
		t.Fatal(err)
	}
	k, cols := m.Outputs(), len(x.Cols)
	phi, margin, prob, row := make([]float64, k*cols), make([]float64, k), make([]float64, k), make([]float64, cols)
	for i := range x.Rows {
		x.Row(i, row)
		ex.ExplainRow(row, phi, margin)
		m.PredictRow(row, prob)
		for out := range k {
			sum := ex.Base()[out]
			for _, v := range phi[out*cols : (out+1)*cols] {
				sum += v
			}
			if d := math.Abs(sum - margin[out]); !(d <= additivityTol) {
				t.Fatalf("row %d output %d: base %v + contributions = %v, margin %v (off by %g)", i, out, ex.Base()[out], sum, margin[out], d)
			}
		}
		if k == 1 {
			if p := 1 / (1 + math.Exp(-margin[0])); math.Abs(p-prob[0]) > 1e-15 {
				t.Fatalf("row %d: the margin %v gives p = %v, PredictRow %v", i, margin[0], p, prob[0])
			}
		}
	}
}

// TestShapAdditiveFlights10k: on every row of the 10k-row fixture (all
// three splits, with the default parameters and the stand-in encoder),
// the contributions and the base value add up to the margin.
func TestShapAdditiveFlights10k(t *testing.T) {
	sp := small(t)
	m := fit(t, gbdt.Params{}, sp.train, sp.valid)
	for _, d := range []*train.Dataset{sp.train, sp.valid, sp.test} {
		checkAdditive(t, m, d.X)
	}
}

// TestShapAdditiveMulticlass: each class's contributions add up to that
// class's margin.
func TestShapAdditiveMulticlass(t *testing.T) {
	tr, test := multiclassTask(1500, 1), multiclassTask(1000, 3)
	m := fit(t, gbdt.Params{Rounds: 30, Seed: 1}, tr, nil)
	checkAdditive(t, m, test.X)
}

// TestShapSaveLoad: the covers are saved, so a loaded model explains as
// the fitted one did; a model saved without covers (before
// explanations) loads and predicts, but refuses to explain.
func TestShapSaveLoad(t *testing.T) {
	tr := multiclassTask(500, 1)
	m := fit(t, gbdt.Params{Rounds: 5}, tr, nil)
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	loaded, err := train.Load(bytes.NewReader(buf.Bytes()), map[string]train.Decoder{gbdt.Name: gbdt.Decode})
	if err != nil {
		t.Fatal(err)
	}
	row := tr.X.Row(0, nil)
	want, got := make([]float64, 3*len(row)), make([]float64, 3*len(row))
	wm, gm := make([]float64, 3), make([]float64, 3)
	ex, err := m.Explainer()
	if err != nil {
		t.Fatal(err)
	}
	ex.ExplainRow(row, want, wm)
	lex, err := train.Explain(loaded)
	if err != nil {
		t.Fatal(err)
	}
	lex.ExplainRow(row, got, gm)
	if sameBits(want, got) >= 0 || sameBits(wm, gm) >= 0 {
		t.Errorf("loaded model explains %v %v, fitted %v %v", got, gm, want, wm)
	}

	back, err := train.Load(bytes.NewReader(buf.Bytes()), map[string]train.Decoder{gbdt.Name: gbdt.Decode})
	if err != nil {
		t.Fatal(err)
	}
	old := back.(*gbdt.Model)
	for i := range old.Trees {
		old.Trees[i].Cover, old.Trees[i].LeafCover = nil, nil
	}
	buf.Reset()
	if err := train.Save(&buf, old); err != nil {
		t.Fatal(err)
	}
	if back, err = train.Load(&buf, map[string]train.Decoder{gbdt.Name: gbdt.Decode}); err != nil {
		t.Fatalf("a model without covers should load: %v", err)
	}
	if _, err := train.Explain(back); !errors.Is(err, train.ErrNotExplainable) {
		t.Errorf("explaining a model without covers: %v, want ErrNotExplainable", err)
	}
}
