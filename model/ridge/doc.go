// Package ridge is a fitted ridge regression, apart from its trainer
// (train/ridge, closed form on gonum).
//
// In: a model's JSON (Decode, for model.Load) or a *Model the trainer
// built. Out: the predicted target for a batch (Predict) or one row
// (PredictRow), bit for bit the same, and each column's standardised
// coefficient (Importance).
//
// A numeric column contributes its weight times its value (nothing when
// NaN); a categorical column the weight of its code (model.Code: code 0
// for a value that is not one).
package ridge
