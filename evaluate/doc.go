// Package evaluate measures how good a model's predictions are.
//
// In: plain slices. A binary task gives a label per row, 0 or 1, and a
// score per row, higher meaning "more likely positive"; for the metrics
// that read scores as probabilities (log loss, Brier score, calibration)
// the score is the probability of class 1, in [0, 1]. A K-class task gives
// a class index per row, in [0, K), and an n×K row-major slice of class
// probabilities, each row summing to 1 (as train.Model.Predict
// returns). A regression gives a target and a prediction per row, both
// finite. Labels are float64, like train.Dataset.Y.
//
// Out:
//   - binary metrics: ROCAUC, AveragePrecision (PR AUC), LogLoss, Brier,
//     and at a threshold ConfusionAt with its Accuracy, Precision, Recall
//     and F1;
//   - thresholds chosen on validation data: MaxF1Threshold and
//     MinCostThreshold;
//   - calibration: Calibration (reliability bins) and ECE;
//   - curves as data: ROC, PrecisionRecall, each with a Downsample for
//     reports;
//   - multiclass metrics: MulticlassConfusion (with Accuracy, PerClass,
//     MacroF1, WeightedF1) and MulticlassLogLoss;
//   - regression metrics: RMSE, MAE, R2, MedianAE, MAPE;
//   - sliced metrics: EvaluateSlices, the binary metrics of the largest
//     slices and of the worst ones by ROC AUC; EvaluateRegressionSlices,
//     the largest slices and the worst by RMSE and by MAE;
//   - a Report of one evaluation (EvaluateBinary, EvaluateMulticlass,
//     EvaluateRegression, which adds the training mean and median as
//     baselines, the residual histogram, a predicted-vs-actual grid and
//     the deciles of the prediction), which marshals to JSON.
//
// Package evaluate/plots draws a Report's plots (gonum/plot), so that
// what only reads metrics (the monitor, and through it mlserve) links no
// plotting.
//
// The definitions follow scikit-learn's, and the tests check them against
// scikit-learn 1.2.1 (testdata/reference.py). Where a ratio would be 0/0
// (precision with no predicted positive, say) it is 0, as scikit-learn's
// zero_division=0 gives.
//
// Errors. Bad data is an error, never a panic and never a NaN: no rows
// wraps ErrEmpty; a label that is not 0 or 1 (or not a class index), a NaN
// or infinite score, a probability outside [0, 1] wrap ErrInvalid; a
// metric that needs both classes (ROC AUC) on labels of one class wraps
// ErrOneClass. Slices of different lengths are a programmer error, and
// panic.
//
// The package is pure computation: no context, no logging, no I/O. The
// metrics that depend on the order of the scores share one sort (see
// rank.go), so ROC AUC on a million rows takes about 0.15 s on one core;
// EvaluateBinary sorts the rows once, and each slice's rows once more.
package evaluate
