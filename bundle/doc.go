// Package bundle reads and writes a model bundle: the directory that
// holds one trained model and everything needed to serve and monitor it.
//
// In: a directory. Out: a *Bundle with the fitted feature pipeline, the
// model, its description (threshold, classes, lineage) and its input
// signature with an example request. The same directory is what
// `mlpipe train --out` writes and what the registry stores as a version.
//
// The files (each written atomically by Write):
//
//	training.json     Info: kind, classes, threshold, validation score, lineage
//	features.json     the fitted features.Pipeline
//	model.json        the model, in model.Save's envelope
//	signature.json    Signature: raw inputs, an example request and its output
//	leaderboard.json  every candidate's validation score (informational)
//	profile.json      the training split's profile: the drift baseline (registry)
//	evaluation.json   the test-split evaluation (registry)
//	reference*.arrow  the monitor's reference sample (registry)
//	record.json       Record: the run that made it, when, the gate's decision
//	manifest.json     every file above but the record, with its size and
//	                  sha256 (internal/manifest); written last, fsynced
//
// A bundle is content-addressed. Its digest, the sha256 of manifest.json,
// is its identity: the registry names a version by it and stores a model
// only once. Everything in the manifest is a function of the data, the
// config and the code (no times, no run ids, no timings), so the same
// model trained twice has the same digest; what differs from run to run
// is in record.json, outside the manifest.
//
// Load verifies every file against the manifest before it reads any
// (Verify): a changed bit, a file cut short, missing, replaced by a
// directory or added after the manifest is an error wrapping ErrCorrupt
// that names the file. Load needs only the first four files; serving
// imports this package and not the training pipeline.
package bundle
