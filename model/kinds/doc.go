// Package kinds knows every kind of saved model: it maps each kind
// ("gbdt", "logreg", "ridge", "golearn-id3", "golearn-rf") to the decoder
// of its fitted form in model/..., and loads a saved model of any of
// them. It imports no trainer, so serving can load every model the
// pipeline registers.
//
// In: a saved model (model.Save's envelope). Out: the Model, or an error
// wrapping model.ErrUnknownModel or model.ErrFormat.
package kinds
