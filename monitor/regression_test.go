package monitor_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/monitor"
	"github.com/mlpipe/mlpipe/predlog"
	"github.com/mlpipe/mlpipe/train"
)

// The regression task: the synthetic rows, whose model predicts
// 100·score grams and whose true target is that plus normal noise of sd
// noise.

func predictionOf(r row) float64 { return 100 * r.score }

func targets(rows []row, noise float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	y := make([]float64, len(rows))
	for i, r := range rows {
		y[i] = predictionOf(r) + noise*rng.NormFloat64()
	}
	return y
}

// makeRegressionBundle writes a synthetic regression bundle: the test
// RMSE and MAE are measured on a test draw with noise of sd 5, and the
// reference scores are the validation draw's predictions.
func makeRegressionBundle(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	tbl := table(t, draw(rand.New(rand.NewPCG(1, 1)), 20_000, gen{}))
	prof, err := ingest.ProfileTable(context.Background(), tbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	test := draw(rand.New(rand.NewPCG(3, 3)), 5000, gen{})
	y, p := targets(test, 5, 4), make([]float64, len(test))
	for i, r := range test {
		p[i] = predictionOf(r)
	}
	rmse, _ := evaluate.RMSE(y, p)
	mae, _ := evaluate.MAE(y, p)
	files := map[string]any{
		bundle.InfoFile:       bundle.Info{Name: "synthetic", Kind: "ridge", Task: train.Regression, Target: "weight"},
		bundle.SignatureFile:  bundle.Signature{Inputs: inputs},
		bundle.ProfileFile:    prof,
		bundle.EvaluationFile: monitor.TestMetrics{Rows: 5000, RMSE: &rmse, MAE: &mae},
	}
	for name, v := range files {
		if err := fsx.WriteJSON(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
	valid := draw(rand.New(rand.NewPCG(2, 2)), 5000, gen{start: time.Date(2001, 5, 1, 0, 0, 0, 0, time.UTC), days: 31})
	scores := make([]float64, len(valid))
	for i, r := range valid {
		scores[i] = predictionOf(r)
	}
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	if err := monitor.WriteReference(dir, tbl, names, scores, 0, 7); err != nil {
		t.Fatal(err)
	}
	return dir
}

// regressionLog turns rows into a regression's predictions and their
// labels (the true values, with noise of sd noise).
func regressionLog(rows []row, noise float64) ([]predlog.Record, []predlog.Label) {
	preds, labels := records(rows), labelsOf(rows)
	y := targets(rows, noise, 11)
	for i, r := range rows {
		v := predictionOf(r)
		preds[i].Prediction, preds[i].Probability, preds[i].Predicted = &v, 0, ""
		labels[i].Label = y[i]
	}
	return preds, labels
}

// TestRegressionMonitor: the live RMSE and MAE against the test split's,
// with retraining recommended when RMSE rises past rmse_rise, and the
// drift of the predictions.
func TestRegressionMonitor(t *testing.T) {
	b, err := monitor.LoadBaseline(makeRegressionBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		noise      float64 // of the labels; the test split's is 5
		scoreShift float64 // shifts the predictions (and the labels with them)
		retrain    bool
		predStatus string
		reason     string
	}{
		{"Steady", 5, 0, false, monitor.StatusOK, "RMSE 5.109 is +1.6% from the test split's 5.029 (rmse_rise 20%)"},
		// Noise of sd 6.5: RMSE rises by about 30%, past 20%.
		{"ErrorsGrow", 6.5, 0, true, monitor.StatusOK, "(rmse_rise 20%)"},
		// The predictions move up (the model is as accurate as before):
		// the prediction drifts, which does not decide alone.
		{"PredictionsDrift", 5, 1.5, false, monitor.StatusDrift, "the prediction drifts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := june
			g.scoreShift = tt.scoreShift
			preds, labels := regressionLog(draw(rand.New(rand.NewPCG(10, 10)), 5000, g), tt.noise)
			dir := writeLog(t, preds, labels)
			r, err := monitor.Run(context.Background(), b, dir, logTime, logTime.Add(24*time.Hour), nil)
			if err != nil {
				t.Fatal(err)
			}
			assertFinite(t, r)
			p := r.Performance
			if p == nil || p.Status != monitor.StatusOK || p.Labelled != 5000 || p.RMSE == nil || p.MAE == nil || p.RMSERise == nil || p.ROCAUC != nil {
				t.Fatalf("performance %+v", p)
			}
			if r.Retrain != tt.retrain {
				t.Errorf("retrain %v, want %v: %v (RMSE %.3f, test %.3f)", r.Retrain, tt.retrain, r.Reasons, *p.RMSE, *p.Test.RMSE)
			}
			if s := feature(t, r, "prediction"); s.Status != tt.predStatus {
				t.Errorf("prediction: %s (%s), want %s", s.Status, s.Reason, tt.predStatus)
			}
			if !strings.Contains(strings.Join(r.Reasons, "; "), tt.reason) {
				t.Errorf("reasons %q lack %q", r.Reasons, tt.reason)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "performance  5,000 labelled predictions: rmse ") {
				t.Errorf("text:\n%s", text.String())
			}
		})
	}
}

// TestRegressionHugeLabels: labels posted near the float64 limit
// (mlserve takes any float64) squared to +Inf in the RMSE, and the
// monitor could not write its report until they left the window. Such
// labels are unusable, as a label that is no number is: counted, not
// scored.
func TestRegressionHugeLabels(t *testing.T) {
	b, err := monitor.LoadBaseline(makeRegressionBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	preds, labels := regressionLog(draw(rand.New(rand.NewPCG(10, 10)), 5000, june), 5)
	huge := []float64{1e300, -1.7e308, 1.7e308, 1.0000001e150}
	for i, v := range huge {
		labels[i].Label = v
	}
	dir := writeLog(t, preds, labels)
	r, err := monitor.Run(context.Background(), b, dir, logTime, logTime.Add(24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFinite(t, r)
	if p := r.Performance; p == nil || p.BadLabels != len(huge) || p.Labelled != 5000-len(huge) || p.RMSE == nil {
		t.Fatalf("performance %+v, want %d bad labels and %d labelled", p, len(huge), 5000-len(huge))
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "left out: 4 unusable labels (bad_labels)") {
		t.Errorf("the text does not name the unusable labels:\n%s", text.String())
	}
}
