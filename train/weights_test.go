package train_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/train"
)

func TestParseClassWeight(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string // String(), or the error's text
		err  bool
	}{
		{nil, "{}", false},
		{"balanced", "balanced", false},
		{map[string]any{"rain": 3, "sun": 0.5}, "{rain: 3, sun: 0.5}", false},
		{"balance", `class_weight "balance": want balanced or a weight per class ({rain: 3, sun: 1})`, true},
		{map[string]any{"rain": -1}, `class_weight: class "rain": weight -1 is not a positive number`, true},
		{map[string]any{"rain": "lots"}, `class_weight: class "rain": weight lots is not a positive number`, true},
		{map[string]any{}, "class_weight: the mapping is empty (want balanced or a weight per class)", true},
		{3, "class_weight 3: want balanced or a weight per class ({rain: 3, sun: 1})", true},
	} {
		cw, err := train.ParseClassWeight(tc.in)
		got := cw.String()
		if err != nil {
			got = err.Error()
		}
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseClassWeight(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestClassWeightFor(t *testing.T) {
	// 6 rows: four of class 0, two of class 1.
	binary := &train.Dataset{X: features.NewMatrix(6, nil), Y: []float64{0, 0, 1, 0, 1, 0}, Classes: 2, ClassNames: []string{"0", "1"}}
	multi := &train.Dataset{X: features.NewMatrix(4, nil), Y: []float64{0, 1, 2, 2}, Classes: 3, ClassNames: []string{"rain", "snow", "sun"}}
	for _, tc := range []struct {
		name string
		cw   train.ClassWeight
		d    *train.Dataset
		want []float64
		err  string
	}{
		// n / (K n_k): 6/(2·4) and 6/(2·2).
		{"balanced binary", train.ClassWeight{Balanced: true}, binary, []float64{0.75, 1.5}, ""},
		{"balanced multiclass", train.ClassWeight{Balanced: true}, multi, []float64{4.0 / 3, 4.0 / 3, 4.0 / 6}, ""},
		{"positive", train.ClassWeight{Weights: map[string]float64{"positive": 5}}, binary, []float64{1, 5}, ""},
		{"by value", train.ClassWeight{Weights: map[string]float64{"0": 2}}, binary, []float64{2, 1}, ""},
		{"by name", train.ClassWeight{Weights: map[string]float64{"sun": 0.5, "rain": 2}}, multi, []float64{2, 1, 0.5}, ""},
		{"unknown class", train.ClassWeight{Weights: map[string]float64{"hail": 2}}, multi, nil,
			`class_weight names class "hail", which the label does not have (its classes: rain, snow, sun)`},
		{"none", train.ClassWeight{}, multi, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cw.For(tc.d)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("For = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := (train.ClassWeight{Balanced: true}).For(&train.Dataset{Y: []float64{1}, Task: train.Regression}); err == nil {
		t.Error("class weights on a regression: no error")
	}
}

// recorder is a trainer that keeps the datasets it was given.
type recorder struct{ tr, valid *train.Dataset }

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Fit(_ context.Context, tr, valid *train.Dataset) (train.Model, error) {
	r.tr, r.valid = tr, valid
	return nil, nil
}

func TestWithClassWeight(t *testing.T) {
	d := &train.Dataset{X: features.NewMatrix(3, nil), Y: []float64{0, 0, 1}, Classes: 2}
	v := &train.Dataset{X: features.NewMatrix(1, nil), Y: []float64{1}, Classes: 2}
	r := &recorder{}
	if _, err := train.WithClassWeight(r, train.ClassWeight{Balanced: true}).Fit(context.Background(), d, v); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.75, 1.5}
	if !slices.Equal(r.tr.ClassWeights, want) || !slices.Equal(r.valid.ClassWeights, want) {
		t.Errorf("weights %v and %v, want %v on both", r.tr.ClassWeights, r.valid.ClassWeights, want)
	}
	if d.ClassWeights != nil || v.ClassWeights != nil {
		t.Error("the caller's datasets were changed")
	}
	if got := r.tr.RowWeights(); !slices.Equal(got, []float64{0.75, 0.75, 1.5}) {
		t.Errorf("RowWeights = %v", got)
	}
	if train.WithClassWeight(r, train.ClassWeight{}) != train.Trainer(r) {
		t.Error("no class weight should return the trainer itself")
	}
	bad := *d
	bad.ClassWeights = []float64{1, 0}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "not a positive number") {
		t.Errorf("Validate with a zero weight: %v", err)
	}
}
