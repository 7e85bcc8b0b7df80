// Package logreg fits L2-regularised logistic regression: binary, and
// multinomial (softmax) for more than two classes.
//
// In: a train.Dataset, whose features.Matrix columns are read as follows.
//   - A Numeric column is read as its values, with NaN read as 0. The
//     features stage standardises numeric columns and imputes missing
//     values upstream, so 0 is the training mean.
//   - A Categorical column with Card codes is read as a one-hot block of
//     Card indicators: a sparse row with one active index. The model has
//     one weight per code and never expands the matrix.
//
// Out: a *Model (a train.Model): per output, an intercept, a weight per
// numeric column and a weight per code of each categorical column. A
// binary model has one output (the logit of class 1), a K-class model K.
// It is plain data, saved as JSON by train.Save and rebuilt by Decode,
// and explains a row with exact linear SHAP. The fitted model, its
// prediction and its explanations are in package model/logreg, which
// serving imports without this trainer (and without gonum/optimize).
//
// # Objective
//
// Fit minimises over the weights w and the intercepts b
//
//	Σ_i −log P(y_i | x_i; w, b) + ‖w‖² / (2C)
//
// the sum (not the mean) of the rows' log losses plus the penalty, which
// leaves the intercepts out. This is scikit-learn's
// LogisticRegression(penalty="l2", C=C); with the same C the two agree on
// the weights (see testdata/reference.py and TestReference). A K-class
// model has K weight vectors, like scikit-learn's multinomial model; the
// penalty makes them unique, and the intercepts sum to 0. With the
// training set's ClassWeights, each row's log loss is multiplied by its
// class's weight, as scikit-learn's class_weight does (TestReference
// checks balanced and explicit weights).
//
// # Solver
//
// gonum's L-BFGS (optimize.LBFGS: 15 stored pairs, its default line
// search), on the objective divided by the number of rows n, which moves
// no minimum but makes Tol independent of n.
//
// L-BFGS runs on rescaled weights u_f = s_f·θ_f, with s_f the root mean
// square of feature f over the rows (with the penalty added): a diagonal
// (Jacobi) preconditioner. Without it, the curvature of a code's weight
// is proportional to the code's frequency, which spans orders of
// magnitude between a busy airport and a small one, and L-BFGS spends
// its iterations learning those scales. On the flights task (2 million
// rows, about 500 weights) the rescaling takes L-BFGS from 65 to 16
// iterations at the default Tol, and from more than 300 to 40 at Tol 1e-6.
//
// Newton's method would need fewer iterations, but its Hessian has
// (weights·outputs)² entries, which grows with the square of the
// categorical cardinalities; Newton-CG avoids storing it at the price of
// several passes over the rows per iteration. L-BFGS makes one pass per
// iteration (and a few more for its line search) and stores 15 vectors.
//
// The fit stops when every component of the gradient of the per-row
// objective is below Tol in absolute value (converged), after MaxIter
// iterations, or when the line search can make no more progress (which
// rounding causes very close to the minimum). Model.Fit records which,
// with the iterations and objective evaluations used. Note that
// scikit-learn's tol applies to the gradient of the summed objective, so
// tol=1e-4 there is Tol=1e-4/n here. With C = +Inf and separable classes
// there is no minimum: the weights grow until MaxIter.
//
// # Parallelism and determinism
//
// Each evaluation of the objective and its gradient is one pass over the
// rows. The rows are cut into fixed blocks (at most 64, of at least 4,096
// rows), which Parallelism goroutines evaluate; the blocks' sums are then
// added in block order. The blocks depend on the number of rows only, so
// the same data and parameters give a bit-identical model for any
// Parallelism.
//
// # Prediction
//
// PredictRow and Predict give the same numbers bit for bit
// (Predict calls PredictRow on each row). A NaN numeric value counts
// as 0. A categorical value that is not a code of its column (out of
// range, not an integer, NaN) counts as code 0, the unknown level.
//
// # Parameters
//
// Params: C (default 1), MaxIter (default 100), Tol (default 1e-4),
// Parallelism (default runtime.GOMAXPROCS(0)). The zero value of each
// means its default. Fit ignores the validation set except to check that
// it has the training set's columns and classes: there is no early
// stopping.
package logreg
