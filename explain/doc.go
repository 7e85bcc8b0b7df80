// Package explain says why a model predicted what it did, by raw input
// column.
//
// In: a fitted features.Pipeline and a model that explains itself
// (model.Explainable: gbdt with exact TreeSHAP, logreg with linear SHAP;
// see model/explain.go and each model's shap.go). Out: an Explainer
// whose Explain gives, for one feature vector, the contribution of each
// raw input to each output's margin (the log-odds of a binary model),
// the margin and, once, the base value, with
//
//	margin[k] = Base()[k] + Σ_inputs contribution[k][input]
//
// to within 1e-9 (the tests check every row of the fixtures); Top
// orders contributions by size; Sample explains many rows on several
// goroutines and Importance turns them into the mean |contribution| of
// each input, the global importance of the run report.
//
// An input's contribution is the sum of the model's attributions to the
// feature columns computed from it: the date's time parts, an airport's
// code and its target encoding. A cross of two inputs (the route,
// origin × destination) is an input of its own, named "a × b", rather
// than split between its two columns: its contribution is the route's,
// which neither airport has alone, and additivity holds either way.
//
// The package does no I/O and no logging; Sample takes a context
// because explaining many rows with a large tree model is long work.
package explain
