package monitor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlpipe/mlpipe/calibrate"
	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/monitor"
)

// TestEstimateBinary draws windows whose calibrated probabilities are
// known, then their labels many times: the estimate is the mean of the
// realized metrics, its standard error their standard deviation, and the
// realized metric falls within the 95% band about 95% of the time.
func TestEstimateBinary(t *testing.T) {
	identity := &calibrate.Map{Method: calibrate.Isotonic, X: []float64{0, 1}, Y: []float64{0, 1}}
	// An over-confident model: its score is further from the base rate
	// than the truth, which Platt's map with A = −0.6 undoes.
	platt := &calibrate.Map{Method: calibrate.Platt, A: -0.6, B: 0.4}
	for _, tc := range []struct {
		name string
		m    *calibrate.Map
		rows int
		// beta parameters of the scores
		a, b float64
		// ties rounds the scores to two decimals.
		ties bool
	}{
		{"calibrated", identity, 5000, 2, 5, false},
		{"over-confident", platt, 5000, 1, 3, false},
		{"ties", identity, 3000, 2, 2, true},
		{"small", identity, 400, 2, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(22, 1))
			scores := make([]float64, tc.rows)
			for i := range scores {
				scores[i] = betaDraw(rng, tc.a, tc.b)
				if tc.ties {
					scores[i] = math.Round(scores[i]*100) / 100
				}
			}
			const threshold = 0.3
			e, err := monitor.EstimateBinary(scores, tc.m, threshold)
			if err != nil {
				t.Fatal(err)
			}
			c := tc.m.ApplyAll(scores)
			const draws = 400
			var aucs, lls, accs []float64
			inAUC, inLL := 0, 0
			labels := make([]float64, len(scores))
			for range draws {
				for i := range labels {
					labels[i] = 0
					if rng.Float64() < c[i] {
						labels[i] = 1
					}
				}
				auc, err := evaluate.ROCAUC(labels, scores)
				if err != nil {
					t.Fatal(err)
				}
				ll, _ := evaluate.LogLoss(labels, scores)
				cm, _ := evaluate.ConfusionAt(labels, scores, threshold)
				aucs, lls, accs = append(aucs, auc), append(lls, ll), append(accs, cm.Accuracy())
				if e.ROCAUC.Contains(auc) {
					inAUC++
				}
				if e.LogLoss.Contains(ll) {
					inLL++
				}
			}
			for _, m := range []struct {
				name     string
				est      monitor.Interval
				realized []float64
				in       int
			}{{"roc_auc", e.ROCAUC, aucs, inAUC}, {"log_loss", e.LogLoss, lls, inLL}, {"accuracy", e.Accuracy, accs, -1}} {
				mean, sd := meanSD(m.realized)
				// The estimate is the expectation: within four standard
				// errors of the mean of the draws (sd/√draws).
				if d := math.Abs(m.est.Value - mean); d > 4*sd/math.Sqrt(draws)+1e-4 {
					t.Errorf("%s: estimate %.5f, mean of %d draws %.5f (sd %.5f)", m.name, m.est.Value, draws, mean, sd)
				}
				// The standard error is the draws' spread, within 15% (the
				// sd of 400 draws is itself uncertain by about 3.5%).
				if r := m.est.SE / sd; r < 0.85 || r > 1.15 {
					t.Errorf("%s: standard error %.5f, sd of the draws %.5f", m.name, m.est.SE, sd)
				}
				if m.in >= 0 {
					if cover := float64(m.in) / draws; cover < 0.91 || cover > 0.99 {
						t.Errorf("%s: the 95%% band [%.4f, %.4f] holds %.1f%% of the draws", m.name, m.est.Low, m.est.High, 100*cover)
					}
				}
			}
			if e.Rows != tc.rows || e.Calibration != tc.m.Method {
				t.Errorf("rows %d, calibration %q", e.Rows, e.Calibration)
			}
			cm := e.Confusion
			if s := cm.TP + cm.FP + cm.FN + cm.TN; math.Abs(s-float64(tc.rows)) > 1e-6 {
				t.Errorf("the expected confusion matrix holds %g rows, want %d", s, tc.rows)
			}
		})
	}
}

func TestEstimateBinaryErrors(t *testing.T) {
	identity := &calibrate.Map{Method: calibrate.Isotonic, X: []float64{0, 1}, Y: []float64{0, 1}}
	for name, scores := range map[string][]float64{
		"empty":   nil,
		"one row": {0.5},
		"nan":     {math.NaN(), math.NaN(), 0.3},
		"all 0":   {0, 0, 0},
	} {
		if e, err := monitor.EstimateBinary(scores, identity, 0.5); err == nil {
			t.Errorf("%s: no error, estimate %+v", name, e)
		}
	}
	// Certain labels: the AUC is known exactly.
	e, err := monitor.EstimateBinary([]float64{0, 1, 1, 0}, identity, 0.5)
	if err != nil || e.ROCAUC.Value != 1 || e.ROCAUC.SE != 0 || e.Accuracy.Value != 1 {
		t.Errorf("certain labels: %+v, %v; want AUC 1 ± 0", e, err)
	}
}

// betaDraw draws from Beta(a, b) as X/(X+Y) of two gamma draws, each by
// Marsaglia and Tsang's method (a, b >= 1).
func betaDraw(rng *rand.Rand, a, b float64) float64 {
	x, y := gammaDraw(rng, a), gammaDraw(rng, b)
	return x / (x + y)
}

func gammaDraw(rng *rand.Rand, k float64) float64 {
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		z := rng.NormFloat64()
		v := 1 + c*z
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := rng.Float64(); math.Log(u) < 0.5*z*z+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func meanSD(x []float64) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(x)-1))
}
