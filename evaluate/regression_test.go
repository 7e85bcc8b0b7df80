package evaluate_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

// regressionCase holds targets, predictions and scikit-learn 1.2.1's
// values for them (testdata/reference.py, "== regression NAME"). mape is
// NaN where a target is 0 (evaluate omits MAPE there). The baselines are
// constant predictions of the mean and median of the first half of y.
type regressionCase struct {
	name                 string
	y, p                 []float64
	rmse, mae, r2, medae float64
	mape                 float64
	mean, median         float64
	meanBase, medianBase [4]float64 // rmse, mae, r2, median_ae
}

var regressionCases = []regressionCase{
	{
		name: "outlier",
		y:    []float64{3.0, -0.5, 2.0, 7.0, 0.0, 1.5, 4.2, 40.0},
		p:    []float64{2.5, 0.0, 2.0, 8.0, -0.3, 1.0, 3.9, 3.1},
		rmse: 13.055362882739031, mae: 4.999999999999999, r2: -0.07098872097772424, medae: 0.5,
		mape: math.NaN(), mean: 2.875, median: 2.5,
		meanBase:   [4]float64{13.319933370704224, 6.4, -0.11483631279650597, 2.125},
		medianBase: [4]float64{13.444980475999213, 6.4, -0.13586666247761459, 2.1},
	},
	{
		name: "line30",
		y: []float64{0.2, 2.5, 4.8, 2.6, 4.9, 2.7, 5.0, 7.3, 5.1, 7.4, 5.2, 7.5, 9.8, 7.6, 9.9, 7.7, 10.0, 12.3, 10.1, 12.4,
			10.2, 12.5, 14.8, 12.6, 14.9, 12.7, 15.0, 17.3, 15.1, 17.4},
		p: []float64{2.3, 2.78, 3.26, 3.74, 4.22, 4.7, 5.18, 5.66, 6.14, 6.62, 7.1, 7.58, 8.06, 8.54, 9.02, 9.5, 9.98, 10.46,
			10.94, 11.42, 11.9, 12.38, 12.86, 13.34, 13.82, 14.3, 14.78, 15.26, 15.74, 16.22},
		rmse: 1.2984862982206116, mae: 1.122, r2: 0.920652574610769, medae: 1.06,
		mape: 0.49806208857131834, mean: 5.5, median: 5.1,
		meanBase:   [4]float64{5.942362044395028, 4.85, -0.6617906584571944, 4.45},
		medianBase: [4]float64{6.2025532377132135, 5.016666666666667, -0.8105023726420648, 4.85},
	},
	{
		name: "negative_r2",
		y:    []float64{1.0, 2.0, 3.0, 4.0},
		p:    []float64{4.0, 3.0, 2.0, 1.0},
		rmse: 2.23606797749979, mae: 2.0, r2: -3.0, medae: 2.0,
		mape: 1.1458333333333335, mean: 1.5, median: 1.5,
		meanBase:   [4]float64{1.5, 1.25, -0.8, 1.0},
		medianBase: [4]float64{1.5, 1.25, -0.8, 1.0},
	},
}

func TestRegressionReference(t *testing.T) {
	for _, c := range regressionCases {
		t.Run(c.name, func(t *testing.T) {
			check := func(name string, got, want float64) {
				t.Helper()
				if !near(got, want) {
					t.Errorf("%s = %.17g, sklearn %.17g", name, got, want)
				}
			}
			must := func(v float64, err error) float64 {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			check("RMSE", must(evaluate.RMSE(c.y, c.p)), c.rmse)
			check("MAE", must(evaluate.MAE(c.y, c.p)), c.mae)
			check("R2", must(evaluate.R2(c.y, c.p)), c.r2)
			check("MedianAE", must(evaluate.MedianAE(c.y, c.p)), c.medae)
			mape, err := evaluate.MAPE(c.y, c.p)
			if math.IsNaN(c.mape) {
				if !errors.Is(err, evaluate.ErrInvalid) || !strings.Contains(err.Error(), "row 4: a target of 0") {
					t.Errorf("MAPE with a zero target: %v, %v", mape, err)
				}
			} else {
				check("MAPE", must(mape, err), c.mape)
			}

			r, err := evaluate.EvaluateRegression(c.y, c.p, evaluate.Options{TrainTargets: c.y[:len(c.y)/2]})
			if err != nil {
				t.Fatal(err)
			}
			m := r.RegressionMetrics
			if r.Task != evaluate.RegressionTask || r.Rows != len(c.y) || r.ClassificationMetrics != nil || r.BinaryMetrics != nil {
				t.Fatalf("report %s of %d rows", r.Task, r.Rows)
			}
			check("report RMSE", m.RMSE, c.rmse)
			check("report MAE", m.MAE, c.mae)
			check("report R2", m.R2, c.r2)
			check("report MedianAE", m.MedianAE, c.medae)
			if math.IsNaN(c.mape) != (m.MAPE == nil) || (m.MAPE == nil) != (m.MAPENote != "") {
				t.Errorf("MAPE %v with note %q; want it omitted, with a note, exactly when a target is 0", m.MAPE, m.MAPENote)
			} else if m.MAPE != nil {
				check("report MAPE", *m.MAPE, c.mape)
			}
			if len(m.Baselines) != 2 {
				t.Fatalf("%d baselines", len(m.Baselines))
			}
			for k, want := range []struct {
				value float64
				s     [4]float64
			}{{c.mean, c.meanBase}, {c.median, c.medianBase}} {
				b := m.Baselines[k]
				check(b.Name+" value", b.Value, want.value)
				check(b.Name+" RMSE", b.RMSE, want.s[0])
				check(b.Name+" MAE", b.MAE, want.s[1])
				check(b.Name+" R2", b.R2, want.s[2])
				check(b.Name+" MedianAE", b.MedianAE, want.s[3])
			}
		})
	}
}

// TestRegressionPlotsData checks the residual histogram, the
// predicted-vs-actual grid and the deciles on 1,000 rows: y = i,
// prediction y + (i mod 7) - 3, and one wild prediction.
func TestRegressionPlotsData(t *testing.T) {
	const n = 1000
	y, p := make([]float64, n), make([]float64, n)
	for i := range n {
		y[i] = float64(i)
		p[i] = float64(i + i%7 - 3)
	}
	p[500] = 1e6 // a wild prediction: outside the histogram and the grid
	r, err := evaluate.EvaluateRegression(y, p, evaluate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := r.RegressionMetrics
	h := m.Residuals
	total := h.Below + h.Above
	for _, c := range h.Counts {
		total += c
	}
	if total != n || len(h.Counts) != evaluate.HistogramBins || len(h.Edges) != evaluate.HistogramBins+1 {
		t.Errorf("histogram holds %d rows in %d bins (%d edges)", total, len(h.Counts), len(h.Edges))
	}
	// Residuals y - p are in {-3..3} but for row 500; the range is their
	// 0.5% and 99.5% quantiles, so the wild one is below.
	if h.Below != 1 || h.Above != 0 || h.Edges[0] != -3 || h.Edges[len(h.Edges)-1] != 3 {
		t.Errorf("histogram range [%g, %g], below %d, above %d; want [-3, 3], 1, 0", h.Edges[0], h.Edges[len(h.Edges)-1], h.Below, h.Above)
	}
	g := m.PredictedVsActual
	inside := 0
	for i, row := range g.Counts {
		for j, c := range row {
			inside += c
			if c > 0 && (i-j > 1 || j-i > 1) {
				t.Errorf("grid cell (%d, %d) holds %d rows; every row is within 3 of the diagonal (one bin is %.0f wide)", i, j, c, g.Edges[1]-g.Edges[0])
			}
		}
	}
	if inside+g.Outside != n || g.Outside < 1 {
		t.Errorf("grid holds %d rows inside and %d outside", inside, g.Outside)
	}
	if len(m.Deciles) != 10 {
		t.Fatalf("%d deciles", len(m.Deciles))
	}
	for k, d := range m.Deciles {
		if d.Rows != 100 {
			t.Errorf("decile %d has %d rows", k, d.Rows)
		}
		if k > 0 && d.MinPrediction < m.Deciles[k-1].MaxPrediction {
			t.Errorf("decile %d starts at %g, below the previous one's end %g", k, d.MinPrediction, m.Deciles[k-1].MaxPrediction)
		}
	}
	// The first decile holds the 100 lowest predictions: rows 0-99 but
	// for row 500's. Its mean target is below 100.
	if d := m.Deciles[0]; d.MeanTarget > 100 || math.Abs(d.MeanPrediction-d.MeanTarget) > 1 {
		t.Errorf("first decile: mean prediction %g, mean target %g", d.MeanPrediction, d.MeanTarget)
	}
}

// TestRegressionSlices: slices are ranked by RMSE and by MAE, which can
// disagree: slice "spiky" has one large error (high RMSE, low MAE),
// slice "steady" many middling ones.
func TestRegressionSlices(t *testing.T) {
	var keys []string
	var y, p []float64
	add := func(key string, errs ...float64) {
		for _, e := range errs {
			keys, y, p = append(keys, key), append(y, 10), append(p, 10+e)
		}
	}
	add("spiky", 0, 0, 0, 0, 0, 0, 0, 0, 0, 20)           // RMSE 6.32, MAE 2
	add("steady", 4, -4, 4, -4, 4, -4, 4, -4, 4, -4)      // RMSE 4, MAE 4
	add("good", 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1) // RMSE 1, MAE 1
	add("tiny", 100)                                      // too small to rank
	rep, err := evaluate.EvaluateRegressionSlices(keys, y, p, evaluate.SliceOptions{Largest: 2, Worst: 2, MinRows: 5})
	if err != nil {
		t.Fatal(err)
	}
	names := func(s []evaluate.RegressionSlice) string {
		var out []string
		for _, x := range s {
			out = append(out, x.Key)
		}
		return strings.Join(out, " ")
	}
	if got := names(rep.Largest); got != "good spiky" {
		t.Errorf("largest: %s", got)
	}
	if got := names(rep.WorstRMSE); got != "spiky steady" {
		t.Errorf("worst by RMSE: %s", got)
	}
	if got := names(rep.WorstMAE); got != "steady spiky" {
		t.Errorf("worst by MAE: %s", got)
	}
	if s := rep.WorstRMSE[0]; !near(s.RMSE, math.Sqrt(40)) || !near(s.MAE, 2) || s.Rows != 10 {
		t.Errorf("spiky: %+v", s)
	}
	if rep.Slices != 4 {
		t.Errorf("%d slices, want 4", rep.Slices)
	}
}

func TestRegressionErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		y, p []float64
		is   error
		msg  string
	}{
		{"empty", nil, nil, evaluate.ErrEmpty, "no rows"},
		{"NaN target", []float64{1, math.NaN()}, []float64{1, 2}, evaluate.ErrInvalid, "row 1: target NaN is not finite"},
		{"Inf prediction", []float64{1, 2}, []float64{math.Inf(1), 2}, evaluate.ErrInvalid, "row 0: prediction +Inf is not finite"},
	} {
		_, err := evaluate.EvaluateRegression(tt.y, tt.p, evaluate.Options{})
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %v with %q", tt.name, err, tt.is, tt.msg)
		}
	}
	// A constant target: R² follows scikit-learn's force_finite.
	if v, _ := evaluate.R2([]float64{2, 2}, []float64{2, 2}); v != 1 {
		t.Errorf("R2 of exact predictions of a constant: %g, want 1", v)
	}
	if v, _ := evaluate.R2([]float64{2, 2}, []float64{2, 3}); v != 0 {
		t.Errorf("R2 of inexact predictions of a constant: %g, want 0", v)
	}
}
