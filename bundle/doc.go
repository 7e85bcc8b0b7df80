// Package bundle reads and writes a model bundle: the directory that
// holds one trained model and everything needed to serve and monitor it.
//
// In: a directory. Out: a *Bundle with the fitted feature pipeline, the
// model, its description (threshold, classes, lineage) and its input
// signature with an example request. The same directory is what
// `mlpipe train --out` writes and what the registry stores as a version.
//
// The files (each written atomically by whoever writes the bundle):
//
//	training.json     Info: kind, classes, threshold, validation score, lineage
//	features.json     the fitted features.Pipeline
//	model.json        the model, in train.Save's envelope
//	signature.json    Signature: raw inputs, an example request and its output
//	leaderboard.json  every candidate's validation score (informational)
//	profile.json      the training split's profile: the drift baseline (registry)
//	evaluation.json   the test-split evaluation (registry)
//	gate.json         the promotion gate's decision (registry)
//
// Load needs only the first four; serving imports this package and not
// the training pipeline.
package bundle
