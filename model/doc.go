// Package model is what a fitted model is, apart from how it was fitted:
// the code that serving, batch scoring and evaluation run. It imports no
// fitting code; package train (the trainers) builds on it.
//
// In: a saved model (the versioned JSON envelope Save writes) and the
// decoders of its kinds (package model/kinds has them all). Out: a Model
// that states its Task and predicts, for a batch (Predict) or one row
// (PredictRow), class probabilities or the target's value; its Explainer
// when it is Explainable (explain.go), its column importance when it is
// an Importancer (importance.go), and Log1pModel for a regression fitted
// on log(1+y).
//
// Each model family has its fitted form in a subpackage, beside its
// trainer in train/: model/gbdt, model/logreg, model/ridge and
// model/golearn (the golearn baselines' trees in our own struct; no
// golearn import).
package model
