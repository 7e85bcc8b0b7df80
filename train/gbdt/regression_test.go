package gbdt_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/gbdt"
)

// regressionTask is y = 10·sin(x0) + 5·[x1 > 0] + noise, with Student-t
// noise of 2 degrees of freedom (heavy tails: a few huge residuals) when
// heavy is set and normal noise of sd 1 otherwise.
func regressionTask(n int, heavy bool, seed uint64) *train.Dataset {
	rng := rand.New(rand.NewPCG(seed, 0))
	x := features.NewMatrix(n, numeric("x0", "x1"))
	y := make([]float64, n)
	for i := range n {
		x0, x1 := rng.Float64()*6-3, rng.NormFloat64()
		x.Data[0][i], x.Data[1][i] = x0, x1
		noise := rng.NormFloat64()
		if heavy {
			// t(2) = Z / sqrt(χ²(2)/2), and χ²(2) is exponential with mean 2.
			noise /= math.Sqrt(rng.ExpFloat64())
		}
		y[i] = 10*math.Sin(x0) + noise
		if x1 > 0 {
			y[i] += 5
		}
	}
	return &train.Dataset{X: x, Y: y, Task: train.Regression}
}

// truth is the noise-free target of row i of d.
func truth(d *train.Dataset, i int) float64 {
	v := 10 * math.Sin(d.X.Data[0][i])
	if d.X.Data[1][i] > 0 {
		v += 5
	}
	return v
}

// TestRegressionObjectives fits each objective on data with a known
// conditional distribution and checks what each should predict: the
// conditional mean (squared_error, and huber and absolute_error, whose
// median equals the mean for symmetric noise) within a tolerance, and
// for quantile the share of targets below the prediction.
func TestRegressionObjectives(t *testing.T) {
	tests := []struct {
		objective string
		alpha     float64
		heavy     bool
		maxErr    float64 // largest RMSE of predictions against the noise-free target
	}{
		// Normal noise of sd 1: the mean is learned to within 0.21-0.25
		// (bins and 20-row leaves smooth the sine a little).
		{gbdt.SquaredError, 0, false, 0.3},
		{gbdt.Huber, 0, false, 0.3},
		{gbdt.AbsoluteError, 0, false, 0.3},
		// t(2) noise has infinite variance: squared_error chases the
		// outliers (0.39 here), the robust losses less (0.31-0.34).
		{gbdt.Huber, 0, true, 0.37},
		{gbdt.AbsoluteError, 0, true, 0.37},
		{gbdt.Quantile, 0.9, false, -1},
	}
	for _, tt := range tests {
		name := tt.objective
		if tt.heavy {
			name += "/heavy"
		}
		t.Run(name, func(t *testing.T) {
			tr, valid, test := regressionTask(8000, tt.heavy, 1), regressionTask(2000, tt.heavy, 2), regressionTask(4000, tt.heavy, 3)
			m := fit(t, gbdt.Params{Objective: tt.objective, Alpha: tt.alpha, Rounds: 200, LearningRate: 0.1, MaxLeaves: 16}, tr, valid)
			if m.Task() != train.Regression || m.Outputs() != 1 {
				t.Fatalf("Task %q, Outputs %d; want regression, 1", m.Task(), m.Outputs())
			}
			pred := m.Predict(test.X)
			if tt.objective == gbdt.Quantile {
				below := 0
				for i, p := range pred {
					if test.Y[i] <= p {
						below++
					}
				}
				if share := float64(below) / float64(len(pred)); math.Abs(share-tt.alpha) > 0.03 {
					t.Errorf("%.3f of the targets are at or below the 0.9-quantile prediction, want 0.9 ± 0.03", share)
				}
				return
			}
			var se float64
			for i, p := range pred {
				se += (p - truth(test, i)) * (p - truth(test, i))
			}
			if rmse := math.Sqrt(se / float64(len(pred))); rmse > tt.maxErr {
				t.Errorf("RMSE against the noise-free target %.3f, want <= %.2f", rmse, tt.maxErr)
			}
		})
	}
}

// TestRegressionBase: with no rounds, every prediction is the base score,
// the training targets' mean (squared_error) or median (huber,
// absolute_error) or α-quantile (quantile, numpy's linear
// interpolation).
func TestRegressionBase(t *testing.T) {
	x := features.NewMatrix(5, numeric("x"))
	d := &train.Dataset{X: x, Y: []float64{1, 2, 3, 4, 100}, Task: train.Regression}
	for _, tt := range []struct {
		objective string
		alpha     float64
		want      float64
	}{
		{gbdt.SquaredError, 0, 22},
		{gbdt.Huber, 0, 3},
		{gbdt.AbsoluteError, 0, 3},
		{gbdt.Quantile, 0.9, 61.6}, // numpy.quantile([1,2,3,4,100], 0.9) = 4 + 0.6·96
	} {
		m := fit(t, gbdt.Params{Objective: tt.objective, Alpha: tt.alpha, Rounds: 1}, d, nil)
		if math.Abs(m.Base[0]-tt.want) > 1e-12 {
			t.Errorf("%s: base %g, want %g", tt.objective, m.Base[0], tt.want)
		}
	}
}

// TestRegressionSaveLoad: a regression model loads back as a regression
// and predicts the same numbers, PredictRow bit for bit like Predict.
func TestRegressionSaveLoad(t *testing.T) {
	tr, test := regressionTask(3000, true, 1), regressionTask(500, true, 2)
	m := fit(t, gbdt.Params{Objective: gbdt.Huber, Rounds: 20}, tr, nil)
	if p, err := gbdt.ParamsOf(m); err != nil || p.Delta <= 0 {
		t.Fatalf("huber's default delta was not resolved: %g (%v)", p.Delta, err)
	}
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := train.Load(&buf, catalog.Decoders())
	if err != nil {
		t.Fatal(err)
	}
	if back.Task() != train.Regression {
		t.Fatalf("loaded task %q", back.Task())
	}
	want := m.Predict(test.X)
	if i := sameBits(back.Predict(test.X), want); i >= 0 {
		t.Fatalf("loaded model differs at row %d", i)
	}
	row, out := make([]float64, 2), make([]float64, 1)
	for i := range test.X.Rows {
		back.PredictRow(test.X.Row(i, row), out)
		if math.Float64bits(out[0]) != math.Float64bits(want[i]) {
			t.Fatalf("row %d: PredictRow %v, Predict %v", i, out[0], want[i])
		}
	}
}

// TestRegressionEarlyStopping: early stopping watches the validation
// loss of the objective and keeps the best round.
func TestRegressionEarlyStopping(t *testing.T) {
	tr, valid := regressionTask(2000, false, 1), regressionTask(1000, false, 2)
	var losses []float64
	p := gbdt.Params{Rounds: 500, LearningRate: 0.5, MaxLeaves: 64, MinSamplesLeaf: 1, EarlyStoppingRounds: 10,
		Progress: func(_ int, _, v float64) { losses = append(losses, v) }}
	m := fit(t, p, tr, valid)
	if len(losses) >= 500 {
		t.Fatalf("ran all %d rounds: early stopping never stopped an overfitting model", len(losses))
	}
	best := slices.Index(losses, slices.Min(losses))
	if m.BestRound != best || len(losses) != best+11 {
		t.Errorf("best round %d, stopped after %d rounds; the lowest validation MSE was at round %d", m.BestRound, len(losses), best)
	}
	// The validation loss of squared_error is the mean squared error.
	pred := m.Predict(valid.X)
	var se float64
	for i, v := range pred {
		se += (v - valid.Y[i]) * (v - valid.Y[i])
	}
	if mse := se / float64(len(pred)); math.Abs(mse-losses[best]) > 1e-9*mse {
		t.Errorf("validation MSE %g, the loss reported at the best round %g", mse, losses[best])
	}
}

// TestObjectiveTask: objectives and tasks must agree, at config time
// (catalog.CheckTask) and at fit time.
func TestObjectiveTask(t *testing.T) {
	for _, tt := range []struct {
		params map[string]any
		task   train.Task
		err    string
	}{
		{nil, train.Regression, ""},
		{map[string]any{"objective": "huber", "delta": 5}, train.Regression, ""},
		{map[string]any{"objective": "quantile", "alpha": 0.1}, train.Regression, ""},
		{nil, train.Binary, ""},
		{map[string]any{"objective": "log_loss"}, train.Multiclass, ""},
		{map[string]any{"objective": "huber"}, train.Binary, "objective huber is for a regression; a binary label takes log_loss"},
		{map[string]any{"objective": "log_loss"}, train.Regression, "objective log_loss is for a class label"},
		{map[string]any{"objective": "poisson"}, train.Regression, `unknown objective "poisson"`},
		{map[string]any{"objective": "quantile", "alpha": 1.5}, train.Regression, "alpha 1.5 is not in (0, 1)"},
	} {
		err := catalog.CheckTask("gbdt", tt.params, tt.task)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckTask(%v, %s) = %v, want %q", tt.params, tt.task, err, tt.err)
		}
	}
	d := regressionTask(100, false, 1)
	if _, err := gbdt.New(gbdt.Params{Objective: gbdt.LogLoss}).Fit(t.Context(), d, nil); err == nil || !strings.Contains(err.Error(), "is for a class label") {
		t.Errorf("fit of a regression with log_loss: %v", err)
	}
}
