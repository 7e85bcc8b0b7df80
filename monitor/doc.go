// Package monitor watches a served model: it compares a window of the
// prediction log with the data the model was trained on (drift), and
// the predictions whose labels have arrived with the model's test
// metrics (decay), and says whether to retrain.
//
// In: a model bundle (LoadBaseline reads training.json, the inputs,
// profile.json — the training split's profile.Profile — evaluation.json,
// and the reference sample that WriteReference adds), and a window of
// predlog Records with the Labels that have arrived for them (Run reads
// them from the log directory; Compute takes them as slices).
//
// Out: a Report, which marshals to JSON and prints as text
// (Report.WriteText). Per series (each raw input; a timestamp input's
// hour and day of the week; the predicted probability):
//
//   - numeric: PSI over bins at the training deciles (equal deciles
//     merged, open ends), the two-sample KS statistic D with its
//     p-value, and the Wasserstein distance divided by the training
//     standard deviation;
//   - categorical: PSI and the Jensen–Shannon distance over the training
//     categories plus "(other)" (unseen) and "(missing)", and a
//     chi-square test of the training counts against the window's.
//
// With labels: ROC AUC, log loss and ECE (package evaluate) beside the
// test split's. Then the decision: retrain when at least DriftShare of
// the evaluated features drift, or the ROC AUC fell by more than
// AUCDrop.
//
// Decisions use effect sizes, never p-values: at hundreds of thousands
// of rows a p-value is tiny for a shift nobody cares about (January–April
// against June flights: distance KS D = 0.0087, p ≈ 1e-26, PSI =
// 0.0008). The p-values are reported beside the effect sizes.
//
// Edge cases, each defined so that no statistic is ever NaN or infinite:
// an empty PSI bin counts as a share of Epsilon; a category never seen
// in training goes to "(other)"; a vanished category is an empty window
// bin; a constant training column gets two bins and an unnormalised
// Wasserstein distance; a window of fewer than MinSamples rows, or too
// few rows for its number of bins (see Feature.PSINoise), is "not enough
// data", never "drift". docs/monitoring.md has the formulas and rules.
//
// Without a bundle or a log (a backtest replaying history), NewBaseline
// builds the same baseline in memory from a training table, and
// CompareTable compares a window held as a table. Summarize takes from a
// training table what a bundle's monitor files need (its profile and the
// reference sample of its inputs), so that the table can be released
// before the model's validation scores exist; SummarizeFrom takes the
// same from a tables.Source, reading the rows a range at a time for the
// profile and only the sampled rows for the sample (the rows to sample
// depend on the row count and the seed alone). Their Baseline and
// WriteReference then add the scores (the pipeline's features stage
// does this, and calibrates the thresholds, which need no scores, at
// the same time). Calibrate reads a training table; an Observer takes
// the same rows a table or a range at a time (a time, a bucket per
// judged series and a numeric series' value a row) and calibrates
// without them, so the caller can release the table first.
//
// For serving, Live keeps running PSI gauges over the last N requests:
// Observe is lock-free and never blocks; Refresh (or Run in the
// background) computes the values that PSI returns.
//
// The statistics (stats.go) are pure functions; Compute does no I/O and
// no logging; Run and the reference files do I/O and take a context or
// report errors naming their file.
package monitor
