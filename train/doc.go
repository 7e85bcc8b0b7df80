// Package train defines how a model is fitted; the trainers live in its
// subpackages, and what they fit lives in package model.
//
// In: a Dataset (a features.Matrix and a label per row, with its Task:
// binary, multiclass or regression) for training and one for validation.
// Out: a Model (package model: it states its Task, predicts for a batch
// or one row, saves and loads in a versioned JSON envelope and, when
// Explainable, explains its margins). Model, Task, Save, Load, Explain
// and the other names of package model are also declared here as
// aliases (model.go), so fitting code reads train.Model. Each trainer in
// train/NAME builds the fitted form in model/NAME, which serving imports
// without any fitting code.
//
// Log1p and WithClassWeight wrap a trainer; ModelSpec is a config's
// model entry. Every trainer is seeded and deterministic for a fixed
// seed.
package train
