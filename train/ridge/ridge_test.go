package ridge_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/ridge"
)

var (
	_ train.Trainer = (*ridge.Trainer)(nil)
	_ train.Model   = (*ridge.Model)(nil)
)

// penguins reads testdata/design.csv (written by testdata/reference.py):
// three numeric columns, island (4 codes) and sex (3 codes), and body
// mass as the target.
func penguins(t *testing.T) *train.Dataset {
	t.Helper()
	f, err := os.Open("testdata/design.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := []features.ColumnInfo{
		{Name: "beak_length_mm", Kind: features.Numeric}, {Name: "beak_depth_mm", Kind: features.Numeric},
		{Name: "flipper_length_mm", Kind: features.Numeric},
		{Name: "island", Kind: features.Categorical, Card: 4}, {Name: "sex", Kind: features.Categorical, Card: 3},
	}
	rows := make([][]float64, 0, len(recs)-1)
	var y []float64
	for _, r := range recs[1:] {
		v := make([]float64, len(r))
		for j, s := range r {
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		rows, y = append(rows, v[:5]), append(y, v[5])
	}
	return &train.Dataset{X: features.FromRows(rows, cols), Y: y, Task: train.Regression}
}

// TestMatchesScikitLearn compares the fitted weights with scikit-learn
// 1.2.1's Ridge on the same one-hot design (testdata/reference.json, from
// testdata/reference.py), for three penalties.
func TestMatchesScikitLearn(t *testing.T) {
	var ref struct {
		Fits []struct {
			Alpha     float64   `json:"alpha"`
			Intercept float64   `json:"intercept"`
			Coef      []float64 `json:"coef"`
		} `json:"fits"`
	}
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	d := penguins(t)
	// 1e-6 relative (the bar); an absolute floor for sklearn's
	// exact zeros (island code 0, which no row has).
	const rel, abs = 1e-6, 1e-9
	for _, fit := range ref.Fits {
		for _, par := range []int{1, 3} {
			m, err := ridge.New(ridge.Params{Alpha: fit.Alpha, Parallelism: par}).Fit(context.Background(), d, nil)
			if err != nil {
				t.Fatal(err)
			}
			rm := m.(*ridge.Model)
			var got []float64
			for _, c := range rm.Columns {
				got = append(got, c.Weights...)
			}
			if len(got) != len(fit.Coef) {
				t.Fatalf("alpha %g: %d weights, sklearn %d", fit.Alpha, len(got), len(fit.Coef))
			}
			for k, w := range fit.Coef {
				if math.Abs(got[k]-w) > rel*math.Abs(w)+abs {
					t.Errorf("alpha %g, parallelism %d: weight %d = %.12g, sklearn %.12g", fit.Alpha, par, k, got[k], w)
				}
			}
			if math.Abs(rm.Intercept-fit.Intercept) > rel*math.Abs(fit.Intercept) {
				t.Errorf("alpha %g: intercept %.12g, sklearn %.12g", fit.Alpha, rm.Intercept, fit.Intercept)
			}
		}
	}
}

// TestPredict checks Predict against PredictRow bit for bit, a save and
// load round trip, and how a row's odd values are read: NaN counts as 0
// and a value that is not a code as code 0.
func TestPredict(t *testing.T) {
	d := penguins(t)
	m, err := ridge.New(ridge.Params{}).Fit(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := train.Load(&buf, catalog.Decoders())
	if err != nil {
		t.Fatal(err)
	}
	if back.Kind() != "ridge" || back.Task() != train.Regression || back.Outputs() != 1 {
		t.Fatalf("loaded %s %s with %d outputs", back.Kind(), back.Task(), back.Outputs())
	}
	pred := back.Predict(d.X)
	row, out := make([]float64, 5), make([]float64, 1)
	for i := range d.X.Rows {
		m.PredictRow(d.X.Row(i, row), out)
		if math.Float64bits(out[0]) != math.Float64bits(pred[i]) {
			t.Fatalf("row %d: PredictRow %v, Predict after a round trip %v", i, out[0], pred[i])
		}
	}
	rm := m.(*ridge.Model)
	m.PredictRow([]float64{math.NaN(), 0, 0, 7.5, -1}, out)
	want := rm.Intercept + rm.Columns[3].Weights[0] + rm.Columns[4].Weights[0]
	if out[0] != want {
		t.Errorf("row of NaN and non-codes: %v, want intercept + the code-0 weights %v", out[0], want)
	}
}

// TestLargeDesign fits 200,000 rows with a 300-code column in parallel
// and checks the fit recovers the generating weights.
func TestLargeDesign(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 rows")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n, card = 200_000, 300
	x := features.NewMatrix(n, []features.ColumnInfo{{Name: "a", Kind: features.Numeric}, {Name: "c", Kind: features.Categorical, Card: card}})
	effect := make([]float64, card)
	for k := range effect {
		effect[k] = rng.NormFloat64()
	}
	y := make([]float64, n)
	for i := range n {
		a, c := rng.NormFloat64(), rng.IntN(card)
		x.Data[0][i], x.Data[1][i] = a, float64(c)
		y[i] = 3 + 2*a + effect[c] + 0.1*rng.NormFloat64()
	}
	m, err := ridge.New(ridge.Params{Alpha: 1e-3}).Fit(context.Background(), &train.Dataset{X: x, Y: y, Task: train.Regression}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rm := m.(*ridge.Model)
	if w := rm.Columns[0].Weights[0]; math.Abs(w-2) > 1e-3 {
		t.Errorf("numeric weight %g, want 2", w)
	}
	// The intercept and the codes' weights are identified up to a shared
	// shift (the penalty picks one): compare differences between codes.
	for k := 1; k < card; k++ {
		got := rm.Columns[1].Weights[k] - rm.Columns[1].Weights[0]
		if want := effect[k] - effect[0]; math.Abs(got-want) > 0.02 {
			t.Fatalf("code %d - code 0: %g, want %g", k, got, want)
		}
	}
}

func TestFitErrors(t *testing.T) {
	d := penguins(t)
	tests := []struct {
		name string
		p    ridge.Params
		d    *train.Dataset
		want string
		is   error
	}{
		{"classification", ridge.Params{}, &train.Dataset{X: d.X, Y: make([]float64, len(d.Y)), Classes: 2}, "ridge fits a regression target only", ridge.ErrNotRegression},
		{"negative alpha", ridge.Params{Alpha: -1}, d, "alpha is -1, want a positive number", nil},
		{"NaN target", ridge.Params{}, &train.Dataset{X: d.X, Y: append([]float64{math.NaN()}, d.Y[1:]...), Task: train.Regression}, "row 0: target NaN", nil},
	}
	for _, tt := range tests {
		_, err := ridge.New(tt.p).Fit(context.Background(), tt.d, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ridge.New(ridge.Params{}).Fit(ctx, d, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
