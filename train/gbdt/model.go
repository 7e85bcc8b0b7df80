package gbdt

import (
	"encoding/json"
	"fmt"

	"github.com/mlpipe/mlpipe/model"
	gbdtmodel "github.com/mlpipe/mlpipe/model/gbdt"
)

// The fitted ensemble, its prediction and its explanations are in
// package model/gbdt, which serving imports without this trainer. The
// trainer builds a *Model and names it through these aliases.

// Model is the fitted ensemble (model/gbdt.Model).
type Model = gbdtmodel.Model

// Tree is one saved tree (model/gbdt.Tree).
type Tree = gbdtmodel.Tree

// Name is the trainer and model kind.
const Name = gbdtmodel.Name

// Decode is model/gbdt.Decode.
func Decode(data []byte) (model.Model, error) { return gbdtmodel.Decode(data) }

// sigmoid is the logistic link prediction uses (model/gbdt.Sigmoid).
func sigmoid(s float64) float64 { return gbdtmodel.Sigmoid(s) }

// softmax is the K-class link prediction uses (model/gbdt.Softmax).
func softmax(s, p []float64) { gbdtmodel.Softmax(s, p) }

// savedParams is the JSON of the parameters a model records. Resolved
// parameters are finite numbers, so encoding them cannot fail.
func savedParams(p Params) json.RawMessage {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("gbdt: encode resolved parameters: %v", err))
	}
	return b
}

// ParamsOf returns the parameters m was trained with, defaults filled in.
func ParamsOf(m *Model) (Params, error) {
	var p Params
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return p, fmt.Errorf("gbdt params: %w", err)
	}
	return p, nil
}
