package train

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Class weights. A classifier's training loss is the sum of its rows'
// losses; with class weights each row's loss (and so its gradient and
// hessian) is multiplied by the weight of its class, so that a rare class
// counts as much as its weight says. Dataset.ClassWeights carries them
// to the trainer; a trainer that honours them says so in the catalog.
//
// A ClassWeight is the `class_weight` parameter of a model in a config:
// "balanced", or a weight per class name.

// Balanced is the class_weight that weights each class by n / (K·n_k):
// n training rows, K classes, n_k rows of class k (scikit-learn's
// class_weight="balanced"). Every class then carries the same total
// weight, and the weights of all rows still sum to n.
const Balanced = "balanced"

// The names a binary label's classes can be given in a class_weight,
// besides "1" and "0".
const (
	PositiveClass = "positive"
	NegativeClass = "negative"
)

// ClassWeight is a parsed class_weight: Balanced, or Weights by class
// name (a class not named keeps weight 1). The zero value weights
// nothing.
type ClassWeight struct {
	Balanced bool
	Weights  map[string]float64
}

// IsZero reports whether cw weights nothing.
func (cw ClassWeight) IsZero() bool { return !cw.Balanced && len(cw.Weights) == 0 }

// ParseClassWeight reads a class_weight as decoded from YAML or JSON: the
// string "balanced", or a mapping from class names to positive numbers.
// nil is the zero ClassWeight.
func ParseClassWeight(v any) (ClassWeight, error) {
	switch v := v.(type) {
	case nil:
		return ClassWeight{}, nil
	case string:
		if v == Balanced {
			return ClassWeight{Balanced: true}, nil
		}
		return ClassWeight{}, fmt.Errorf("class_weight %q: want %s or a weight per class ({rain: 3, sun: 1})", v, Balanced)
	case map[string]any:
		cw := ClassWeight{Weights: make(map[string]float64, len(v))}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			w, ok := Number(v[name])
			if !ok || !(w > 0) || math.IsInf(w, 0) {
				return ClassWeight{}, fmt.Errorf("class_weight: class %q: weight %v is not a positive number", name, v[name])
			}
			cw.Weights[name] = w
		}
		if len(cw.Weights) == 0 {
			return ClassWeight{}, fmt.Errorf("class_weight: the mapping is empty (want %s or a weight per class)", Balanced)
		}
		return cw, nil
	}
	return ClassWeight{}, fmt.Errorf("class_weight %v: want %s or a weight per class ({rain: 3, sun: 1})", v, Balanced)
}

// Number reads a YAML or JSON number (a config value decoded as any).
func Number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

// CheckClasses reports whether every class cw names is among classes (a
// binary label's "0" and "1" may also be called negative and positive).
func (cw ClassWeight) CheckClasses(classes []string) error {
	for _, name := range slices.Sorted(maps.Keys(cw.Weights)) {
		if classIndex(name, classes) < 0 {
			return fmt.Errorf("class_weight names class %q, which the label does not have (its classes: %s)", name, strings.Join(classes, ", "))
		}
	}
	return nil
}

// classIndex is the index of class name among classes, or -1.
func classIndex(name string, classes []string) int {
	if i := slices.Index(classes, name); i >= 0 {
		return i
	}
	if len(classes) == 2 && classes[0] == "0" && classes[1] == "1" {
		switch name {
		case NegativeClass:
			return 0
		case PositiveClass:
			return 1
		}
	}
	// An int64 label's classes are its values as text: 1.0 is class "1".
	if f, err := strconv.ParseFloat(name, 64); err == nil {
		for i, c := range classes {
			if g, err := strconv.ParseFloat(c, 64); err == nil && g == f {
				return i
			}
		}
	}
	return -1
}

// For returns the weight of each class of d (len d.Classes), or nil for
// the zero ClassWeight. Balanced counts the classes of d's labels; a
// class with no rows gets weight 1 (it contributes nothing to the loss
// either way). Named classes must be d's (see CheckClasses); when d has
// no class names, classes are named by index ("0", "1", ...).
func (cw ClassWeight) For(d *Dataset) ([]float64, error) {
	if cw.IsZero() {
		return nil, nil
	}
	if d.Task == Regression || d.Classes < 2 {
		return nil, fmt.Errorf("class_weight applies to a class label, not a regression")
	}
	w := make([]float64, d.Classes)
	for k := range w {
		w[k] = 1
	}
	if cw.Balanced {
		counts := make([]float64, d.Classes)
		for _, y := range d.Y {
			if k := int(y); k >= 0 && k < d.Classes {
				counts[k]++
			}
		}
		for k, n := range counts {
			if n > 0 {
				w[k] = float64(len(d.Y)) / (float64(d.Classes) * n)
			}
		}
		return w, nil
	}
	names := d.ClassNames
	if len(names) != d.Classes {
		names = make([]string, d.Classes)
		for k := range names {
			names[k] = strconv.Itoa(k)
		}
	}
	if err := cw.CheckClasses(names); err != nil {
		return nil, err
	}
	for name, v := range cw.Weights {
		w[classIndex(name, names)] = v
	}
	return w, nil
}

// String is the class_weight as a config writes it.
func (cw ClassWeight) String() string {
	if cw.Balanced {
		return Balanced
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(cw.Weights)) {
		parts = append(parts, fmt.Sprintf("%s: %g", name, cw.Weights[name]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// WithClassWeight returns a trainer that fits t with the class weights
// cw computes from each training set: it sets ClassWeights on (copies
// of) the training and the validation set, so that early stopping
// weighs the validation rows the same way. t must honour
// Dataset.ClassWeights. The zero cw returns t itself.
func WithClassWeight(t Trainer, cw ClassWeight) Trainer {
	if cw.IsZero() {
		return t
	}
	return weightedTrainer{t, cw}
}

type weightedTrainer struct {
	Trainer
	cw ClassWeight
}

func (t weightedTrainer) Fit(ctx context.Context, tr, valid *Dataset) (Model, error) {
	w, err := t.cw.For(tr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name(), err)
	}
	wtr := *tr
	wtr.ClassWeights = w
	if valid != nil {
		wv := *valid
		wv.ClassWeights = w
		valid = &wv
	}
	return t.Trainer.Fit(ctx, &wtr, valid)
}

// RowWeights returns the weight of each row of d, the weight of its
// class, or nil when d has no ClassWeights.
func (d *Dataset) RowWeights() []float64 {
	if d.ClassWeights == nil {
		return nil
	}
	w := make([]float64, len(d.Y))
	for i, y := range d.Y {
		w[i] = d.ClassWeights[int(y)]
	}
	return w
}
