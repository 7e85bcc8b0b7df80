package train_test

import (
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
