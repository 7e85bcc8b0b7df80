package ridge

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// Model is a fitted ridge regression. It is plain data: its JSON is its
// saved form. It predicts
//
//	Intercept + Σ_j contribution_j(x)
//
// where the contribution of a numeric column j is Weights[0]·x_j (0 when
// x_j is NaN) and that of a categorical column is Weights[code], the
// weight of the row's code (code 0, the unknown level, for a value that
// is not a code).
type Model struct {
	Intercept float64  `json:"intercept"`
	Columns   []Column `json:"columns"`
	Fit       Info     `json:"fit"`
	// ImportanceSD is the importance of each column: the standard
	// deviation of its contribution to the prediction over the training
	// rows, in the target's units (onehot.Design.ContributionSD). Models
	// saved before it have none.
	ImportanceSD []float64 `json:"importance,omitempty"`
}

// Column holds the weights of one matrix column.
type Column struct {
	Name string        `json:"name"`
	Kind features.Kind `json:"kind"`
	// Levels names the codes of a categorical column, when the matrix did.
	Levels []string `json:"levels,omitempty"`
	// Weights has one weight for a numeric column and Card (one per
	// code) for a categorical one.
	Weights []float64 `json:"weights"`
}

// Kind implements model.Model.
func (m *Model) Kind() string { return Name }

// Importance implements model.Importancer: per column, the standard
// deviation over the training rows of the column's contribution to the
// prediction (for a numeric column |w|·sd(x), the standardised
// coefficient), in the target's units. nil for a model saved without it.
func (m *Model) Importance() []float64 { return slices.Clone(m.ImportanceSD) }

// ImportanceKind implements model.Importancer.
func (m *Model) ImportanceKind() string { return model.ImportanceCoefficient }

// Task implements model.Model: always Regression.
func (m *Model) Task() model.Task { return model.Regression }

// Outputs implements model.Model: 1, the predicted target.
func (m *Model) Outputs() int { return 1 }

// Predict implements model.Model with PredictRow on each row, so both
// give the same numbers bit for bit. It panics if x does not have the
// model's columns.
func (m *Model) Predict(x *features.Matrix) []float64 {
	return model.PredictByRow(m, len(m.Columns), x)
}

// PredictRow implements model.Model. It panics if row or out has the
// wrong length.
func (m *Model) PredictRow(row []float64, out []float64) {
	if len(row) != len(m.Columns) || len(out) != 1 {
		panic(fmt.Sprintf("ridge: predict: row of %d values and %d outputs, want %d and 1", len(row), len(out), len(m.Columns)))
	}
	z := m.Intercept
	for j, col := range m.Columns {
		v := row[j]
		if col.Kind == features.Categorical {
			z += col.Weights[model.Code(v, len(col.Weights))]
			continue
		}
		if !math.IsNaN(v) {
			// The conversion rounds the product, so that no platform
			// fuses it into a multiply-add and changes the last bit.
			z += float64(v * col.Weights[0])
		}
	}
	out[0] = z
}

// Decode is the model.Decoder of ridge models.
func Decode(data []byte) (model.Model, error) {
	m := &Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("ridge: decode: %w: %v", model.ErrFormat, err)
	}
	for j, c := range m.Columns {
		switch {
		case c.Kind == features.Numeric && len(c.Weights) != 1:
			return nil, fmt.Errorf("ridge: decode: %w: column %d (%s): numeric with %d weights", model.ErrFormat, j, c.Name, len(c.Weights))
		case c.Kind == features.Categorical && len(c.Weights) < 1:
			return nil, fmt.Errorf("ridge: decode: %w: column %d (%s): categorical with no weights", model.ErrFormat, j, c.Name)
		case c.Kind != features.Numeric && c.Kind != features.Categorical:
			return nil, fmt.Errorf("ridge: decode: %w: column %d (%s): unknown kind %v", model.ErrFormat, j, c.Name, c.Kind)
		}
	}
	return m, nil
}

// Info records the fit.
type Info struct {
	// Alpha is the penalty the model was fitted with.
	Alpha float64 `json:"alpha"`
	// Rows is the number of training rows.
	Rows int `json:"rows"`
}

// Name is the model kind, and the name of its trainer.
const Name = "ridge"
