// Package logreg is a fitted logistic regression, binary or multinomial,
// apart from its trainer (train/logreg, on gonum's L-BFGS).
//
// In: a model's JSON (Decode, for model.Load) or a *Model the trainer
// built. Out: class probabilities for a batch (Predict) or one row
// (PredictRow), bit for bit the same; each column's standardised
// coefficient (Importance) and the named weights (Coefficients); exact
// linear SHAP values of a row (Explainer, shap.go).
//
// A numeric column contributes its weight times its value (nothing when
// NaN); a categorical column the weight of its code (model.Code: code 0
// for a value that is not one).
package logreg
