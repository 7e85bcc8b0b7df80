// Package golearn is a fitted golearn baseline (kinds "golearn-id3" and
// "golearn-rf") in our own tree struct: its saved form and its
// prediction. It does not import golearn; only the trainer
// (train/golearn) does, to fit the trees it then copies into a Model.
//
// In: a model's JSON (Decode, for model.Load) or a *Model the trainer
// built. Out: class probabilities for a batch (Predict) or one row
// (PredictRow), bit for bit the same: each tree's leaf class shares,
// averaged over the trees of a forest.
package golearn
