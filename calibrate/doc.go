// Package calibrate maps a binary model's scores to calibrated
// probabilities: the share of rows with a given score whose label is
// positive.
//
// In: a model's scores on held-out rows (the validation split) and their
// labels, 0 or 1. Out: a Map, fitted by isotonic regression (the pool
// adjacent violators algorithm, then linear interpolation between the
// fitted steps, as scikit-learn's IsotonicRegression with
// out_of_bounds="clip") or by Platt scaling (a logistic regression of the
// label on the score's log-odds, with Platt's smoothed targets), which
// marshals to JSON and applies to one score (Apply) or many (ApplyAll).
//
// Fit chooses: isotonic with at least MinIsotonicRows rows, where its
// step function has enough rows per step; Platt's two parameters below
// that, where isotonic regression overfits. A bundle keeps the map
// (CalibrationFile); the monitor estimates performance without labels
// from the calibrated probabilities (docs/monitoring.md).
//
// The tests hold both fits to scikit-learn 1.2.1 (testdata/reference.py).
package calibrate
