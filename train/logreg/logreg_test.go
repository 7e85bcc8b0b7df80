package logreg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/internal/flightstest"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/logreg"
)

var decoders = map[string]train.Decoder{logreg.Name: logreg.Decode}

func fit(t *testing.T, p logreg.Params, ds *train.Dataset) *logreg.Model {
	t.Helper()
	m, err := logreg.New(p).Fit(context.Background(), ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*logreg.Model)
}

// TestEmpiricalRates is the hand-checkable case: one binary feature and no
// penalty (C = +Inf). The maximum-likelihood model then predicts, for
// each value of the feature, the share of positive rows with that value:
// 3 of 4 rows with x = 0 are positive (0.75) and 1 of 5 with x = 1 (0.2).
// The feature is given once as a numeric column (logit = b + w·x) and
// once as a categorical one (logit = b + w[code]); both must reach the
// rates.
func TestEmpiricalRates(t *testing.T) {
	x := []float64{0, 0, 0, 0, 1, 1, 1, 1, 1}
	y := []float64{1, 1, 1, 0, 1, 0, 0, 0, 0}
	want := map[float64]float64{0: 3.0 / 4, 1: 1.0 / 5}
	const tol = 1e-6 // the fit stops at a gradient below 1e-10 per row
	for _, info := range []features.ColumnInfo{
		{Name: "x", Kind: features.Numeric},
		{Name: "x", Kind: features.Categorical, Card: 2},
	} {
		t.Run(info.Kind.String(), func(t *testing.T) {
			ds := &train.Dataset{X: features.FromRows(oneValueRows(x), []features.ColumnInfo{info}), Y: y, Classes: 2}
			m := fit(t, logreg.Params{C: math.Inf(1), Tol: 1e-10}, ds)
			p := m.Predict(ds.X)
			for i, v := range x {
				if math.Abs(p[i]-want[v]) > tol {
					t.Errorf("row %d (x = %g): P(y=1) = %.9f, want %g", i, v, p[i], want[v])
				}
			}
		})
	}
}

// oneValueRows turns values into one-value rows.
func oneValueRows(v []float64) [][]float64 {
	rows := make([][]float64, len(v))
	for i := range v {
		rows[i] = []float64{v[i]}
	}
	return rows
}

// TestPredictRow checks that PredictRow gives Predict's numbers bit
// for bit, on rows with NaN numeric values, and that a categorical value
// that is not a code of its column scores as code 0 (unknown).
func TestPredictRow(t *testing.T) {
	for _, classes := range []int{2, 3} {
		ds := logreg.Synthetic(7, 2000, 2, []int{5, 3}, classes, 0.1)
		m := fit(t, logreg.Params{}, ds)
		k := m.Outputs()
		probs := m.Predict(ds.X)
		row, out := make([]float64, len(ds.X.Cols)), make([]float64, k)
		for i := 0; i < ds.X.Rows; i++ {
			m.PredictRow(ds.X.Row(i, row), out)
			for c := range out {
				if math.Float64bits(out[c]) != math.Float64bits(probs[i*k+c]) {
					t.Fatalf("%d classes: row %d output %d: PredictRow %v, Predict %v", classes, i, c, out[c], probs[i*k+c])
				}
			}
		}
		cat := 2 // the first categorical column (5 codes)
		unknown := ds.X.Row(0, nil)
		unknown[cat] = 0
		want := make([]float64, k)
		m.PredictRow(unknown, want)
		for _, bad := range []float64{-1, 5, 99, 2.5, math.NaN(), math.Inf(1)} {
			r := slices.Clone(unknown)
			r[cat] = bad
			m.PredictRow(r, out)
			if !slices.Equal(out, want) {
				t.Errorf("%d classes: code %g scores %v, code 0 scores %v", classes, bad, out, want)
			}
		}
	}
}

// TestDeterminism fits the same data with different Parallelism and
// expects the same model, byte for byte. The data has 10,000 rows, so the
// objective is summed over 3 blocks of rows.
func TestDeterminism(t *testing.T) {
	for _, classes := range []int{2, 3} {
		ds := logreg.Synthetic(3, 10_000, 3, []int{24, 7, 50}, classes, 0.05)
		var first []byte
		for _, par := range []int{1, 2, 3} {
			m := fit(t, logreg.Params{Parallelism: par}, ds)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Errorf("%d classes: Parallelism %d gives a different model", classes, par)
			}
		}
	}
}

// TestSaveLoad saves a model in the envelope and loads it back: the
// loaded model predicts the same numbers.
func TestSaveLoad(t *testing.T) {
	for _, classes := range []int{2, 3} {
		ds := logreg.Synthetic(5, 1000, 2, []int{4}, classes, 0.1)
		ds.X.Cols[2].Levels = []string{"(unknown)", "a", "b", "c"}
		m := fit(t, logreg.Params{}, ds)
		var buf bytes.Buffer
		if err := train.Save(&buf, m); err != nil {
			t.Fatal(err)
		}
		loaded, err := train.Load(&buf, decoders)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.Kind() != "logreg" || loaded.Outputs() != m.Outputs() {
			t.Fatalf("loaded %s model with %d outputs", loaded.Kind(), loaded.Outputs())
		}
		want, got := m.Predict(ds.X), loaded.Predict(ds.X)
		if !slices.Equal(got, want) {
			t.Errorf("%d classes: loaded model predicts differently", classes)
		}
	}
}

// TestIterations checks the iteration count and the stop reasons.
func TestIterations(t *testing.T) {
	ds := logreg.Synthetic(11, 3000, 2, []int{6}, 2, 0)
	m := fit(t, logreg.Params{MaxIter: 1}, ds)
	if m.Fit.Iterations != 1 || m.Fit.Stop != "max iterations" || m.Fit.Converged {
		t.Errorf("MaxIter 1: %+v", m.Fit)
	}
	m = fit(t, logreg.Params{}, ds)
	if !m.Fit.Converged || m.Fit.Stop != "converged" || m.Fit.GradNorm >= logreg.DefaultTol ||
		m.Fit.Iterations < 2 || m.Fit.Iterations >= logreg.DefaultMaxIter || m.Fit.Evaluations < m.Fit.Iterations {
		t.Errorf("defaults: %+v", m.Fit)
	}
}

// TestPenalty checks that a smaller C shrinks the weights.
func TestPenalty(t *testing.T) {
	ds := logreg.Synthetic(13, 500, 2, []int{4}, 2, 0)
	norm := func(m *logreg.Model) float64 {
		var sq float64
		for _, c := range m.Coefficients() {
			sq += c.Weight * c.Weight
		}
		return sq
	}
	loose, tight := fit(t, logreg.Params{C: 10}, ds), fit(t, logreg.Params{C: 0.01}, ds)
	if !(norm(tight) < norm(loose)/10) {
		t.Errorf("‖w‖² is %g with C = 0.01 and %g with C = 10", norm(tight), norm(loose))
	}
}

func TestOneClass(t *testing.T) {
	one := logreg.Synthetic(1, 50, 1, nil, 2, 0)
	clear(one.Y) // every label 0
	empty := &train.Dataset{X: features.NewMatrix(0, one.X.Cols), Classes: 2}
	declared := logreg.Synthetic(1, 50, 1, nil, 2, 0)
	declared.Classes = 1
	for name, ds := range map[string]*train.Dataset{"one label": one, "no rows": empty, "one class declared": declared} {
		_, err := logreg.New(logreg.Params{}).Fit(context.Background(), ds, nil)
		if !errors.Is(err, train.ErrOneClass) {
			t.Errorf("%s: error %v, want ErrOneClass", name, err)
		}
	}
}

// cancelAfter is a context that reports cancellation from its n-th call
// to Err on, so that a test can cancel a fit between two evaluations
// deterministically.
type cancelAfter struct {
	context.Context
	calls, n atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return context.Canceled
	}
	return nil
}

func TestCancel(t *testing.T) {
	ds := logreg.Synthetic(17, 5000, 2, []int{8}, 2, 0)
	for _, n := range []int64{1, 5} { // before the first evaluation; during the fit
		ctx := &cancelAfter{Context: context.Background()}
		ctx.n.Store(n)
		_, err := logreg.New(logreg.Params{Tol: 1e-12}).Fit(ctx, ds, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at call %d: error %v, want context.Canceled", n, err)
		}
	}
}

// TestBadInput checks that bad data and parameters give errors, not
// panics or models.
func TestBadInput(t *testing.T) {
	good := func() *train.Dataset { return logreg.Synthetic(19, 100, 1, []int{3}, 2, 0) }
	for _, tc := range []struct {
		name   string
		p      logreg.Params
		change func(tr, va *train.Dataset)
	}{
		{"label not a class", logreg.Params{}, func(tr, _ *train.Dataset) { tr.Y[3] = 2 }},
		{"label NaN", logreg.Params{}, func(tr, _ *train.Dataset) { tr.Y[3] = math.NaN() }},
		{"labels short", logreg.Params{}, func(tr, _ *train.Dataset) { tr.Y = tr.Y[1:] }},
		{"no matrix", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X = nil }},
		{"code out of range", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[1][5] = 3 }},
		{"code negative", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[1][5] = -1 }},
		{"code not an integer", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[1][5] = 1.5 }},
		{"code NaN", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[1][5] = math.NaN() }},
		{"infinite value", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[0][5] = math.Inf(-1) }},
		{"short column", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Data[0] = tr.X.Data[0][1:] }},
		{"no codes", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Cols[1].Card = 0 }},
		{"unknown kind", logreg.Params{}, func(tr, _ *train.Dataset) { tr.X.Cols[0].Kind = 7 }},
		{"C negative", logreg.Params{C: -1}, nil},
		{"C NaN", logreg.Params{C: math.NaN()}, nil},
		{"Tol negative", logreg.Params{Tol: -1}, nil},
		{"MaxIter negative", logreg.Params{MaxIter: -1}, nil},
		{"Parallelism negative", logreg.Params{Parallelism: -1}, nil},
		{"validation columns differ", logreg.Params{}, func(_, va *train.Dataset) { va.X.Cols[1].Card = 4 }},
		{"validation classes differ", logreg.Params{}, func(_, va *train.Dataset) { va.Classes = 3 }},
		{"validation labels bad", logreg.Params{}, func(_, va *train.Dataset) { va.Y[0] = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, va := good(), good()
			if tc.change != nil {
				tc.change(tr, va)
			}
			m, err := logreg.New(tc.p).Fit(context.Background(), tr, va)
			if err == nil || m != nil {
				t.Errorf("got a model (%v) and error %v, want an error", m, err)
			}
		})
	}
}

func TestDecodeBadShapes(t *testing.T) {
	m := fit(t, logreg.Params{}, logreg.Synthetic(23, 200, 1, []int{3}, 3, 0))
	for _, tc := range []struct {
		name   string
		change func(m *logreg.Model)
	}{
		{"one class", func(m *logreg.Model) { m.Classes = 1 }},
		{"intercepts", func(m *logreg.Model) { m.Intercept = m.Intercept[:2] }},
		{"weight vectors", func(m *logreg.Model) { m.Columns[0].Weights = m.Columns[0].Weights[:1] }},
		{"numeric with two weights", func(m *logreg.Model) { m.Columns[0].Weights[1] = []float64{1, 2} }},
		{"ragged codes", func(m *logreg.Model) { m.Columns[1].Weights[2] = m.Columns[1].Weights[2][:2] }},
		{"no codes", func(m *logreg.Model) {
			for k := range m.Columns[1].Weights {
				m.Columns[1].Weights[k] = nil
			}
		}},
		{"unknown kind", func(m *logreg.Model) { m.Columns[1].Kind = 9 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(m)
			var c logreg.Model
			if err := json.Unmarshal(b, &c); err != nil { // a deep copy
				t.Fatal(err)
			}
			tc.change(&c)
			b, _ = json.Marshal(&c)
			if _, err := logreg.Decode(b); !errors.Is(err, train.ErrFormat) {
				t.Errorf("error %v, want ErrFormat", err)
			}
		})
	}
	if _, err := logreg.Decode([]byte("{")); !errors.Is(err, train.ErrFormat) {
		t.Errorf("truncated JSON: error %v, want ErrFormat", err)
	}
}

func TestCoefficients(t *testing.T) {
	cols := []features.ColumnInfo{
		{Name: "n", Kind: features.Numeric},
		{Name: "c", Kind: features.Categorical, Card: 3, Levels: []string{"?", "a", "b"}},
	}
	ds := &train.Dataset{X: features.FromRows([][]float64{{0.5, 1}, {-1, 2}, {2, 1}, {0, 2}}, cols), Y: []float64{1, 0, 1, 0}, Classes: 2}
	m := fit(t, logreg.Params{}, ds)
	got := m.Coefficients()
	want := []logreg.Coefficient{
		{Column: "n", Class: 1, Weight: m.Columns[0].Weights[0][0]},
		{Column: "c", Level: "?", Class: 1, Weight: m.Columns[1].Weights[0][0]},
		{Column: "c", Level: "a", Class: 1, Weight: m.Columns[1].Weights[0][1]},
		{Column: "c", Level: "b", Class: 1, Weight: m.Columns[1].Weights[0][2]},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Coefficients() = %+v, want %+v", got, want)
	}
}

// TestFlightsSample fits the flights task on the 10,000-row fixture.
func TestFlightsSample(t *testing.T) {
	sets := loadFlights(t, "../../testdata/flights-10k.parquet")
	m := fit(t, logreg.Params{}, sets.train)
	auc := flightstest.AUC(m.Predict(sets.test.X), sets.test.Y)
	// The full data gives about 0.66 (see BenchmarkFitFlights); this
	// sample, 6,597 training rows, gave 0.6325 when this test was written.
	// The bar only catches a broken fit: a constant model gives 0.5.
	t.Logf("test AUC %.4f, fit %+v", auc, m.Fit)
	if !m.Fit.Converged || auc < 0.62 {
		t.Errorf("test AUC %.4f, fit %+v", auc, m.Fit)
	}
}
