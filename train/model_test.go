package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

func TestDatasetValidate(t *testing.T) {
	x := features.FromRows([][]float64{{1}, {2}, {3}}, []features.ColumnInfo{{Name: "a", Kind: features.Numeric}})
	tests := []struct {
		name    string
		d       train.Dataset
		wantErr string // "" for none
		is      error
	}{
		{"binary", train.Dataset{X: x, Y: []float64{0, 1, 1}, Classes: 2}, "", nil},
		{"multiclass", train.Dataset{X: x, Y: []float64{0, 2, 1}, Classes: 3, Task: train.Multiclass}, "", nil},
		{"regression", train.Dataset{X: x, Y: []float64{-1.5, 0, 1e9}, Task: train.Regression}, "", nil},
		{"rows", train.Dataset{X: x, Y: []float64{0, 1}, Classes: 2}, "2 labels for 3 rows", nil},
		{"one class", train.Dataset{X: x, Y: []float64{0, 0, 0}, Classes: 1}, "fewer than two classes", train.ErrOneClass},
		{"class out of range", train.Dataset{X: x, Y: []float64{0, 2, 1}, Classes: 2}, "row 1: label 2", nil},
		{"regression NaN", train.Dataset{X: x, Y: []float64{1, math.NaN(), 2}, Task: train.Regression}, "row 1: target NaN", nil},
		{"regression Inf", train.Dataset{X: x, Y: []float64{1, 2, math.Inf(-1)}, Task: train.Regression}, "row 2: target -Inf", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Validate: %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestClassTask(t *testing.T) {
	for classes, want := range map[int]train.Task{2: train.Binary, 3: train.Multiclass, 10: train.Multiclass} {
		if got := train.ClassTask(classes); got != want {
			t.Errorf("ClassTask(%d) = %q, want %q", classes, got, want)
		}
	}
}

// meanModel predicts the mean of its training targets: the smallest
// regression model, to test the target transform with.
type meanModel struct{ Mean float64 }

func (m *meanModel) Kind() string     { return "mean" }
func (m *meanModel) Task() train.Task { return train.Regression }
func (m *meanModel) Outputs() int     { return 1 }
func (m *meanModel) Predict(x *features.Matrix) []float64 {
	out := make([]float64, x.Rows)
	for i := range out {
		out[i] = m.Mean
	}
	return out
}
func (m *meanModel) PredictRow(_ []float64, out []float64) { out[0] = m.Mean }

type meanTrainer struct{}

func (meanTrainer) Name() string { return "mean" }
func (meanTrainer) Fit(_ context.Context, tr, _ *train.Dataset) (train.Model, error) {
	var s float64
	for _, y := range tr.Y {
		s += y
	}
	return &meanModel{s / float64(len(tr.Y))}, nil
}

// TestLog1p: the wrapped trainer fits log(1+y), so a mean model predicts
// the geometric-style mean expm1(mean(log1p(y))); the saved model loads
// back wrapped; a target at or below -1 is refused with its row.
func TestLog1p(t *testing.T) {
	x := features.FromRows([][]float64{{1}, {2}, {3}}, []features.ColumnInfo{{Name: "a", Kind: features.Numeric}})
	d := &train.Dataset{X: x, Y: []float64{0, 9, 99}, Task: train.Regression}
	m, err := train.Log1p(meanTrainer{}).Fit(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	// mean(log 1, log 10, log 100) = log 10: the prediction is 10 - 1 = 9.
	if p := m.Predict(x); math.Abs(p[0]-9) > 1e-12 || m.Kind() != "mean" || m.Task() != train.Regression {
		t.Fatalf("prediction %v of %s %s, want 9 of a mean regression", p, m.Kind(), m.Task())
	}
	if d.Y[1] != 9 {
		t.Fatalf("the dataset's targets changed: %v", d.Y)
	}
	var buf bytes.Buffer
	if err := train.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"target":"log1p"`) {
		t.Errorf("saved envelope %s has no target", buf.String())
	}
	dec := map[string]train.Decoder{"mean": func(b []byte) (train.Model, error) {
		var mm meanModel
		return &mm, json.Unmarshal(b, &mm)
	}}
	back, err := train.Load(&buf, dec)
	if err != nil {
		t.Fatal(err)
	}
	out := []float64{0}
	if back.PredictRow([]float64{5}, out); math.Abs(out[0]-9) > 1e-12 {
		t.Errorf("loaded model predicts %v, want 9", out[0])
	}
	bad := &train.Dataset{X: x, Y: []float64{0, -1, 3}, Task: train.Regression}
	if _, err := train.Log1p(meanTrainer{}).Fit(context.Background(), bad, nil); err == nil || !strings.Contains(err.Error(), "row 1: target -1 is not above -1") {
		t.Errorf("a target of -1: %v", err)
	}
}
