package logreg

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// Model is a fitted logistic regression. It is plain data: its JSON is its
// saved form.
//
// A binary model has one output, the logit of class 1:
//
//	P(class 1 | x) = σ(Intercept[0] + Σ_j contribution_j(x))
//
// A K-class model has K outputs and predicts softmax(z) with
// z_k = Intercept[k] + Σ_j contribution_{j,k}(x). The contribution of a
// numeric column j is Weights[k][0]·x_j (0 when x_j is NaN); that of a
// categorical column is Weights[k][code], the weight of the row's code.
type Model struct {
	// Classes is the number of classes: 2 for a binary model.
	Classes int `json:"classes"`
	// ClassNames names the classes, when the training set did.
	ClassNames []string `json:"class_names,omitempty"`
	// Intercept has one value per output. The intercepts of a K-class
	// model sum to zero, up to rounding (softmax is unchanged by a common
	// shift).
	Intercept []float64 `json:"intercept"`
	// Columns are the weights of the design matrix's columns, in order.
	Columns []Column `json:"columns"`
	// Fit says how the fit went.
	Fit FitInfo `json:"fit"`
	// ImportanceSD is the importance of each column: the standard
	// deviation of its contribution to the logits over the training rows
	// (onehot.Design.ContributionSD). Models saved before it have none.
	ImportanceSD []float64 `json:"importance,omitempty"`

	shapOnce sync.Once
	shap     *linearSHAP // the explainer (shap.go), built on first use
	shapErr  error
}

// Column holds the weights of one design matrix column.
type Column struct {
	Name string        `json:"name"`
	Kind features.Kind `json:"kind"`
	// Levels names the codes of a categorical column, when the matrix
	// did (for Coefficients).
	Levels []string `json:"levels,omitempty"`
	// Weights[k] holds the column's weights for output k: one weight for
	// a numeric column, Card weights (one per code) for a categorical one.
	Weights [][]float64 `json:"weights"`
	// Mean is the mean over the training rows of what each weight
	// multiplies: the column's value (NaN read as 0) for a numeric
	// column, the share of rows with each code for a categorical one. It
	// is what explanations measure contributions from (shap.go); a model
	// saved before explanations has none.
	Mean []float64 `json:"mean,omitempty"`
}

// FitInfo records the solver's run.
type FitInfo struct {
	// L2 is the strength of the penalty, 1/C (0 for C = +Inf, no penalty).
	L2 float64 `json:"l2"`
	// Rows is the number of training rows.
	Rows int `json:"rows"`
	// Iterations is the number of L-BFGS iterations, Evaluations the
	// number of objective and gradient evaluations.
	Iterations  int `json:"iterations"`
	Evaluations int `json:"evaluations"`
	// GradNorm is the largest absolute component of the gradient of the
	// per-row objective at the returned weights.
	GradNorm float64 `json:"grad_norm"`
	// Converged is true when GradNorm fell below Params.Tol.
	Converged bool `json:"converged"`
	// Stop says why the solver stopped: "converged", "max iterations", or
	// the line search's error when it could not decrease the objective
	// further (rounding, usually very near the minimum).
	Stop string `json:"stop"`
}

// Kind implements model.Model.
func (m *Model) Kind() string { return Name }

// Importance implements model.Importancer: per column, the standard
// deviation over the training rows of the column's contribution to the
// logit (for a numeric column |w|·sd(x), the standardised coefficient;
// for K classes, the root of the sum of the K variances). nil for a
// model saved without it.
func (m *Model) Importance() []float64 { return slices.Clone(m.ImportanceSD) }

// ImportanceKind implements model.Importancer.
func (m *Model) ImportanceKind() string { return model.ImportanceCoefficient }

// Task implements model.Model: Binary for a 2-class model, Multiclass
// otherwise.
func (m *Model) Task() model.Task { return model.ClassTask(m.Classes) }

// Outputs implements model.Model: 1 for a binary model, Classes otherwise.
func (m *Model) Outputs() int { return len(m.Intercept) }

// Predict implements model.Model. It scores each row with
// PredictRow, so both give the same numbers bit for bit. It panics if x
// does not have the model's columns.
func (m *Model) Predict(x *features.Matrix) []float64 {
	return model.PredictByRow(m, len(m.Columns), x)
}

// PredictRow implements model.Model. A NaN numeric value counts as 0; a
// categorical value that is not a code of the column (out of range, not
// an integer, NaN) counts as code 0, the unknown level. An infinite
// numeric value (which Fit refuses and the features stage never emits)
// gives probabilities of 0 and 1, or NaN where its weight is 0. It panics
// if row or out has the wrong length.
func (m *Model) PredictRow(row []float64, out []float64) {
	m.marginRow(row, out)
	if len(out) == 1 {
		out[0] = sigmoid(out[0])
	} else {
		softmax(out)
	}
}

// marginRow writes one row's margins (the logits) into out: PredictRow
// before the link.
func (m *Model) marginRow(row []float64, out []float64) {
	if len(row) != len(m.Columns) || len(out) != m.Outputs() {
		panic(fmt.Sprintf("logreg: predict: row of %d values and %d outputs, want %d and %d",
			len(row), len(out), len(m.Columns), m.Outputs()))
	}
	copy(out, m.Intercept)
	for j, col := range m.Columns {
		v := row[j]
		if col.Kind == features.Categorical {
			c := model.Code(v, len(col.Weights[0]))
			for k := range out {
				out[k] += col.Weights[k][c]
			}
			continue
		}
		if math.IsNaN(v) {
			continue
		}
		for k := range out {
			// The conversion rounds the product, so that no platform
			// fuses it into a multiply-add and changes the last bit.
			out[k] += float64(v * col.Weights[k][0])
		}
	}
}

// sigmoid is 1/(1+e^-z), computed without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softmax replaces z by e^z / Σ e^z, computed without overflow.
func softmax(z []float64) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var sum float64
	for k, v := range z {
		z[k] = math.Exp(v - m)
		sum += z[k]
	}
	for k := range z {
		z[k] /= sum
	}
}

// Coefficient is one weight of a model, named for reports.
type Coefficient struct {
	Column string `json:"column"`
	// Level names the code of a categorical column (its Levels entry, or
	// its number when the column has no level names); it is empty for a
	// numeric column.
	Level string `json:"level,omitempty"`
	// Class is the class whose score the weight adds to; for a binary
	// model it is always 1, the positive class.
	Class  int     `json:"class"`
	Weight float64 `json:"weight"`
}

// Coefficients lists every weight of m (not the intercepts), column by
// column in matrix order, then by code, then by class.
func (m *Model) Coefficients() []Coefficient {
	var out []Coefficient
	class := func(k int) int {
		if m.Outputs() == 1 {
			return 1
		}
		return k
	}
	for _, col := range m.Columns {
		for c := range col.Weights[0] {
			level := ""
			if col.Kind == features.Categorical {
				level = fmt.Sprint(c)
				if c < len(col.Levels) {
					level = col.Levels[c]
				}
			}
			for k := range col.Weights {
				out = append(out, Coefficient{Column: col.Name, Level: level, Class: class(k), Weight: col.Weights[k][c]})
			}
		}
	}
	return out
}

// Decode is the model.Decoder of logreg models: it rebuilds a Model from
// its JSON and checks that its shapes agree.
func Decode(data []byte) (model.Model, error) {
	m := &Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("logreg: decode: %w: %v", model.ErrFormat, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("logreg: decode: %w: %v", model.ErrFormat, err)
	}
	return m, nil
}

// check reports whether the model's shapes agree, so that prediction
// cannot index out of range.
func (m *Model) check() error {
	if m.Classes < 2 {
		return fmt.Errorf("%d classes", m.Classes)
	}
	outputs := m.Classes
	if m.Classes == 2 {
		outputs = 1
	}
	if len(m.Intercept) != outputs {
		return fmt.Errorf("%d intercepts for %d classes", len(m.Intercept), m.Classes)
	}
	for j, col := range m.Columns {
		if len(col.Weights) != outputs {
			return fmt.Errorf("column %d (%s): %d weight vectors, want %d", j, col.Name, len(col.Weights), outputs)
		}
		want := len(col.Weights[0])
		switch {
		case col.Kind == features.Numeric && want != 1:
			return fmt.Errorf("column %d (%s): numeric with %d weights", j, col.Name, want)
		case col.Kind == features.Categorical && want < 1:
			return fmt.Errorf("column %d (%s): categorical with no weights", j, col.Name)
		case col.Kind != features.Numeric && col.Kind != features.Categorical:
			return fmt.Errorf("column %d (%s): unknown kind %v", j, col.Name, col.Kind)
		}
		for k, w := range col.Weights {
			if len(w) != want {
				return fmt.Errorf("column %d (%s): output %d has %d weights, output 0 has %d", j, col.Name, k, len(w), want)
			}
		}
		if len(col.Mean) != 0 && len(col.Mean) != want {
			return fmt.Errorf("column %d (%s): %d means for %d weights", j, col.Name, len(col.Mean), want)
		}
	}
	return nil
}

// Name is the model kind, and the name of its trainer.
const Name = "logreg"
