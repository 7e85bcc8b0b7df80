// Package ridge fits ridge regression: least squares with an L2 penalty,
// solved in closed form on gonum.
//
// In: a train.Dataset of Task Regression (a features.Matrix and a finite
// target per row). The matrix is read as the same sparse one-hot design
// as logistic regression (train/internal/onehot): a numeric column is one
// feature (NaN read as 0, the mean of a standardised column), a
// categorical column one indicator per code, never expanded in memory.
// Out: a *Model (train.Model, kind "ridge"): an intercept and a weight
// per numeric column and per code, which predicts the target for a batch
// (Predict) or one row (PredictRow), bit for bit the same, and is saved
// and loaded as JSON through train.Save and train.Load with Decode. The
// fitted model and its prediction are in package model/ridge, which
// serving imports without this trainer.
//
// # The fit
//
// Ridge minimises, over the weights w and the intercept b,
//
//	Σ_i (y_i - b - x_i·w)² + Alpha·‖w‖²
//
// (the intercept is not penalised), which is scikit-learn's Ridge with
// fit_intercept. As scikit-learn does, the fit centres the features and
// the target, solves (XcᵀXc + Alpha·I) w = Xcᵀyc by Cholesky
// factorisation, and sets b = ȳ - x̄·w. XᵀX is accumulated row by row
// from each row's few non-zero features (one per column), so the cost is
// O(rows · columns²) for the sums plus O(features³) for the solve: about
// a second for the flights task's 2.1M rows and ~550 features. The
// weights match scikit-learn 1.2.1's within 1e-6 relative
// (TestMatchesScikitLearn, testdata/reference.py).
//
// A one-hot design with an intercept is singular (each column's
// indicators sum to the intercept's column), so Alpha must be positive;
// the penalty then splits each column's effect evenly between its codes
// and the intercept, and a code never seen in training gets weight 0.
//
// valid is not used: there is no early stopping and Alpha is the
// regulariser.
package ridge
