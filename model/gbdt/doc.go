// Package gbdt is a fitted gradient-boosted ensemble: its saved form,
// its prediction and its explanations, apart from the trainer
// (train/gbdt) that grows it.
//
// In: a model's JSON (Decode, for model.Load) or a *Model the trainer
// built. Out: class probabilities or the target's value for a batch
// (Predict) or one row (PredictRow), bit for bit the same; the gain
// importance of each column (Importance); exact path-dependent TreeSHAP
// values of a row (Explainer, shap.go).
//
// The saved Tree is flat arrays that compare raw values with raw
// thresholds; predict.go says how a model compiles them into the form a
// walk is fast in. A binary model's margin goes through the logistic
// function, a K-class model's K margins through softmax (link.go); a
// regression's margin is its prediction.
package gbdt
