package logreg

import (
	"fmt"
	"math"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// Explanations: exact linear SHAP.
//
// A margin of the model is a sum over columns, z_k = b_k + Σ_j c_kj(x),
// where c_kj is the weight of a numeric value times the value, or the
// weight of a categorical column's code: each column's one-hot block
// times its weights. If the columns are taken as independent, and a
// column left out of a coalition is averaged over the training rows,
// the Shapley value of column j is exactly its term minus that term's
// training mean (Lundberg and Lee 2017, "linear SHAP"):
//
//	φ_kj = Σ_f w_kf·(x_f − mean_f) = c_kj(x) − E_train[c_kj]
//
// summed over the features f of the column (one for a numeric column, a
// code's indicator each for a categorical one), with the base value
// b_k + Σ_j E_train[c_kj], the mean margin over the training rows.
//
// The independence is an assumption, not a property of the data: columns
// computed from the same input (an airport's code and its target
// encoding) or from related inputs are credited as though each could
// change alone. Summing a raw input's columns (package explain) removes
// the first case, not the second. Column.Mean holds the training means;
// Fit records them.

// Explainer returns the model's linear SHAP explainer (model.Explainer).
// It fails with model.ErrNotExplainable for a model saved without the
// training means of its columns.
func (m *Model) Explainer() (model.Explainer, error) {
	m.shapOnce.Do(func() { m.shap, m.shapErr = newLinearSHAP(m) })
	if m.shapErr != nil {
		return nil, m.shapErr
	}
	return m.shap, nil
}

// linearSHAP is the model.Explainer of a Model.
type linearSHAP struct {
	m    *Model
	mean [][]float64 // mean[k][j]: E_train[c_kj]
	base []float64
}

func newLinearSHAP(m *Model) (*linearSHAP, error) {
	k := m.Outputs()
	e := &linearSHAP{m: m, mean: make([][]float64, k), base: append([]float64(nil), m.Intercept...)}
	for out := range k {
		e.mean[out] = make([]float64, len(m.Columns))
		for j, col := range m.Columns {
			if len(col.Mean) == 0 {
				return nil, fmt.Errorf("logreg explainer: %w: column %s has no training mean (the model was saved before explanations; retrain it)", model.ErrNotExplainable, col.Name)
			}
			var s float64
			for f, w := range col.Weights[out] {
				s += w * col.Mean[f]
			}
			e.mean[out][j] = s
			e.base[out] += s
		}
	}
	return e, nil
}

// Base implements model.Explainer.
func (e *linearSHAP) Base() []float64 { return e.base }

// ExplainRow implements model.Explainer. Each contribution is the
// column's term of the margin, as PredictRow computes it, minus the
// term's training mean.
func (e *linearSHAP) ExplainRow(row, phi, margin []float64) {
	m := e.m
	cols := len(m.Columns)
	if len(phi) != m.Outputs()*cols {
		panic(fmt.Sprintf("logreg: explain: %d contributions for %d outputs of %d columns", len(phi), m.Outputs(), cols))
	}
	m.marginRow(row, margin)
	for out := range margin {
		for j, col := range m.Columns {
			v := row[j]
			var term float64
			switch {
			case col.Kind == features.Categorical:
				term = col.Weights[out][model.Code(v, len(col.Weights[out]))]
			case !math.IsNaN(v):
				term = float64(v * col.Weights[out][0])
			}
			phi[out*cols+j] = term - e.mean[out][j]
		}
	}
}
