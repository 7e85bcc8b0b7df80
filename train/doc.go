// Package train defines what a model is and how it is fitted, saved and
// loaded; the model families live in its subpackages.
//
// In: a Dataset (a features.Matrix and a label per row, with its Task:
// binary, multiclass or regression) for training and one for validation.
// Out: a Model that states its Task and predicts, for a batch (Predict)
// or one row (PredictRow), class probabilities or the target's value,
// saved and loaded in a versioned JSON envelope (Save, Load). A model
// that can explain its predictions is Explainable (explain.go): its
// Explainer attributes each margin to the row's columns.
//
// Every trainer is seeded and deterministic for a fixed seed.
package train
