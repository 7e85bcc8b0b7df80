package evaluate_test

import (
	"errors"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/evaluate"
)

func TestMulticlassErrors(t *testing.T) {
	tests := []struct {
		name          string
		labels, probs []float64
		want          error
	}{
		{"empty", nil, nil, evaluate.ErrEmpty},
		{"label out of range", []float64{0, 3}, []float64{1, 0, 0, 0, 1, 0}, evaluate.ErrInvalid},
		{"label not an integer", []float64{0, 0.5}, []float64{1, 0, 0, 0, 1, 0}, evaluate.ErrInvalid},
		{"label negative", []float64{-1, 1}, []float64{1, 0, 0, 0, 1, 0}, evaluate.ErrInvalid},
		{"probability NaN", []float64{0, 1}, []float64{math.NaN(), 0.5, 0.5, 0, 1, 0}, evaluate.ErrInvalid},
		{"probability above 1", []float64{0, 1}, []float64{1.5, -0.5, 0, 0, 1, 0}, evaluate.ErrInvalid},
		{"row sums to 0.9", []float64{0, 1}, []float64{0.5, 0.4, 0, 0, 1, 0}, evaluate.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := evaluate.MulticlassConfusion(tc.labels, tc.probs, 3); !errors.Is(err, tc.want) {
				t.Errorf("MulticlassConfusion: error %v, want %v", err, tc.want)
			}
			if _, err := evaluate.MulticlassLogLoss(tc.labels, tc.probs, 3); !errors.Is(err, tc.want) {
				t.Errorf("MulticlassLogLoss: error %v, want %v", err, tc.want)
			}
			if _, err := evaluate.EvaluateMulticlass(tc.labels, tc.probs, 3, evaluate.Options{}); !errors.Is(err, tc.want) {
				t.Errorf("EvaluateMulticlass: error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEvaluateMulticlassOneClass(t *testing.T) {
	labels := []float64{2, 2}
	probs := []float64{0.1, 0.1, 0.8, 0.3, 0.3, 0.4}
	if _, err := evaluate.EvaluateMulticlass(labels, probs, 3, evaluate.Options{}); !errors.Is(err, evaluate.ErrOneClass) {
		t.Errorf("error %v, want ErrOneClass", err)
	}
	// The log loss alone is defined: −(ln 0.8 + ln 0.4)/2.
	got, err := evaluate.MulticlassLogLoss(labels, probs, 3)
	if want := -(math.Log(0.8) + math.Log(0.4)) / 2; err != nil || !near(got, want) {
		t.Errorf("MulticlassLogLoss = %g, %v; want %g", got, err, want)
	}
}

func TestEvaluateMulticlassReport(t *testing.T) {
	tc := multiclassCases[0]
	r, err := evaluate.EvaluateMulticlass(tc.labels, tc.probs, tc.k, evaluate.Options{ClassNames: []string{"early", "on time", "late"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task != evaluate.MulticlassTask || r.Rows != 8 || r.Classes != 3 || r.BinaryMetrics != nil {
		t.Errorf("report header = %s, %d rows, %d classes", r.Task, r.Rows, r.Classes)
	}
	// The values of TestMulticlassReference (sklearn 1.2.1).
	if !near(r.Accuracy, tc.accuracy) || !near(r.MacroF1, tc.macroF1) || !near(r.WeightedF1, tc.weightedF1) || !near(r.LogLoss, tc.logLoss) {
		t.Errorf("report = %+v", r.MulticlassMetrics)
	}
	if r.PerClass[1].Name != "on time" {
		t.Errorf("class 1 name = %q", r.PerClass[1].Name)
	}
}
