package model

import (
	"math"

	"github.com/mlpipe/mlpipe/features"
)

// TargetLog1p names the log(1+y) transform in the saved envelope and in
// a config's label.transform.
const TargetLog1p = "log1p"

// Log1pModel is a regression model fitted on log(1+y): it predicts
// expm1 of its Inner model's output, on the target's original scale. Its
// Kind is the inner model's.
type Log1pModel struct {
	Inner Model
}

// Kind is the inner model's kind.
func (m *Log1pModel) Kind() string { return m.Inner.Kind() }

// Task is Regression.
func (m *Log1pModel) Task() Task { return Regression }

// Outputs is 1.
func (m *Log1pModel) Outputs() int { return 1 }

// Predict returns expm1 of the inner model's predictions.
func (m *Log1pModel) Predict(x *features.Matrix) []float64 {
	out := m.Inner.Predict(x)
	for i, v := range out {
		out[i] = math.Expm1(v)
	}
	return out
}

// PredictRow gives Predict's number for one row.
func (m *Log1pModel) PredictRow(row []float64, out []float64) {
	m.Inner.PredictRow(row, out)
	out[0] = math.Expm1(out[0])
}

// Unwrap returns the model on the log(1+y) scale.
func (m *Log1pModel) Unwrap() Model { return m.Inner }

// Note forwards the inner model's leaderboard note, if it has one.
func (m *Log1pModel) Note() string {
	if n, ok := m.Inner.(interface{ Note() string }); ok {
		return n.Note()
	}
	return ""
}
