package model

import (
	"errors"
	"fmt"
)

// Explanations.
//
// A model that can say why it predicted what it did implements
// Explainable. Its Explainer attributes each margin (the log-odds of a
// binary model, the K softmax inputs of a K-class one) to the columns of
// the row: SHAP values (Lundberg and Lee, "A Unified Approach to
// Interpreting Model Predictions", 2017), one set per output. The
// attributions start from a base value, the model's mean margin over its
// reference data, and add up to the row's margin:
//
//	margin[k] = Base()[k] + Σ_j phi[k·cols + j]
//
// to within rounding. gbdt computes them exactly with path-dependent
// TreeSHAP, logreg with linear SHAP (each package's shap.go says how).
// Attributions are per matrix column; package explain sums them per raw
// input column.

// ErrNotExplainable means a model cannot explain its predictions: its
// kind has no explainer, or it was saved without what its explainer
// needs (a model saved before explanations existed; retrain it).
var ErrNotExplainable = errors.New("model cannot explain its predictions")

// Explainable is a Model that can attribute its predictions to its input
// columns.
type Explainable interface {
	Model
	// Explainer returns the model's explainer, built on first use. It
	// returns an error wrapping ErrNotExplainable when the saved model
	// lacks what the explainer needs.
	Explainer() (Explainer, error)
}

// Explainer attributes a model's margins to the columns of a row. It is
// safe for concurrent use.
type Explainer interface {
	// Base returns the base value of each output (len Outputs()): the
	// margin the attributions start from. The slice must not be changed.
	Base() []float64
	// ExplainRow explains one row (as PredictRow reads it): it writes
	// into phi (len Outputs()·len(row)) the contribution of column j to
	// margin k at phi[k·len(row)+j], and the margins into margin (len
	// Outputs()). A column the model does not use gets exactly 0.
	ExplainRow(row, phi, margin []float64)
}

// Explain returns m's explainer, or an error wrapping ErrNotExplainable
// when m's kind cannot explain its predictions.
func Explain(m Model) (Explainer, error) {
	e, ok := m.(Explainable)
	if !ok {
		return nil, fmt.Errorf("explain %s model: %w: the kind has no explainer", m.Kind(), ErrNotExplainable)
	}
	return e.Explainer()
}

// Explainer explains a log1p regression on the scale it was fitted on:
// the contributions add up to log(1 + prediction).
func (m *Log1pModel) Explainer() (Explainer, error) { return Explain(m.Inner) }
