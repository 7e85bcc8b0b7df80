package model_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/model"
)

// constModel predicts one value for every row: the smallest model to
// test the saved envelope with.
type constModel struct {
	Value float64    `json:"value"`
	Of    model.Task `json:"task"`
}

func (m *constModel) Kind() string     { return "const" }
func (m *constModel) Task() model.Task { return m.Of }
func (m *constModel) Outputs() int     { return 1 }
func (m *constModel) Predict(x *features.Matrix) []float64 {
	return model.PredictByRow(m, len(x.Data), x)
}
func (m *constModel) PredictRow(_ []float64, out []float64) { out[0] = m.Value }

var decoders = map[string]model.Decoder{"const": func(b []byte) (model.Model, error) {
	var m constModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}}

// TestLoad: what Save writes loads back (through Load and Unmarshal),
// members in any order; every damaged envelope is an error that wraps
// its sentinel and names what is wrong.
func TestLoad(t *testing.T) {
	var buf bytes.Buffer
	if err := model.Save(&buf, &constModel{Value: 0.25, Of: model.Binary}); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()
	const mdl = `"model":{"value":0.25,"task":"binary"}`
	tests := []struct {
		name    string
		data    string
		is      error  // nil: loads
		wantErr string // what the error names
	}{
		{"saved", saved, nil, ""},
		{"model first, unknown member", `{` + mdl + `,"extra":[1,{"a":null}],"kind":"const","version":1,"format":"mlpipe-model"}`, nil, ""},
		{"log1p regression", `{"format":"mlpipe-model","version":1,"kind":"const","target":"log1p","model":{"value":1,"task":"regression"}}`, nil, ""},
		{"not JSON", `{"format":`, model.ErrFormat, `"format"`},
		{"not an object", `[1]`, model.ErrFormat, "want an object"},
		{"trailing data", saved + `{}`, model.ErrFormat, "after the end"},
		{"format", `{"format":"other","version":1,"kind":"const",` + mdl + `}`, model.ErrFormat, `format "other"`},
		{"version", `{"format":"mlpipe-model","version":2,"kind":"const",` + mdl + `}`, model.ErrFormat, "version 2"},
		{"version not whole", `{"format":"mlpipe-model","version":1.5,"kind":"const",` + mdl + `}`, model.ErrFormat, "version 1.5"},
		{"version a string", `{"format":"mlpipe-model","version":"1","kind":"const",` + mdl + `}`, model.ErrFormat, `"version"`},
		{"kind", `{"format":"mlpipe-model","version":1,"kind":"knn",` + mdl + `}`, model.ErrUnknownModel, `"knn"`},
		{"target", `{"format":"mlpipe-model","version":1,"kind":"const","target":"sqrt",` + mdl + `}`, model.ErrFormat, `"sqrt"`},
		{"log1p classifier", `{"format":"mlpipe-model","version":1,"kind":"const","target":"log1p",` + mdl + `}`, model.ErrFormat, "log1p target on a binary"},
		{"no model", `{"format":"mlpipe-model","version":1,"kind":"const"}`, model.ErrFormat, `no "model"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, load := range []func() (model.Model, error){
				func() (model.Model, error) { return model.Load(strings.NewReader(tt.data), decoders) },
				func() (model.Model, error) { return model.Unmarshal([]byte(tt.data), decoders) },
			} {
				m, err := load()
				if tt.is == nil {
					if err != nil {
						t.Fatal(err)
					}
					out := []float64{0}
					if m.PredictRow(nil, out); out[0] != 0.25 && m.Task() != model.Regression {
						t.Errorf("loaded model predicts %v, want 0.25", out[0])
					}
					continue
				}
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one wrapping %v and naming %s", err, tt.is, tt.wantErr)
				}
			}
		})
	}
}
