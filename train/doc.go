// Package train defines what a model is and how it is fitted, saved and
// loaded; the model families live in its subpackages.
//
// In: a Dataset (a features.Matrix and a label per row) for training and
// one for validation. Out: a Model that predicts class probabilities for
// a batch (PredictProba) or one row (PredictRow), saved and loaded in a
// versioned JSON envelope (Save, Load).
//
// Every trainer is seeded and deterministic for a fixed seed.
package train
