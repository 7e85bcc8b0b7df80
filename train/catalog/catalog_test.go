package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
)

func TestTrainer(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		params map[string]any
		want   string // substring of the error; "" for none
	}{
		{"OK/gbdt", "gbdt", map[string]any{"learning_rate": 0.05, "max_leaves": 31, "rounds": 10}, ""},
		{"OK/gbdt-camel", "gbdt", map[string]any{"LearningRate": 0.05}, ""},
		{"OK/logreg", "logreg", map[string]any{"c": 0.5, "max_iter": 50}, ""},
		{"ErrUnknownModel", "xgboost", nil, "unknown model kind"},
		{"ErrUnknownParam", "gbdt", map[string]any{"learnin_rate": 0.1}, `unknown parameter "learnin_rate" (known:`},
		{"ErrWrongType", "logreg", map[string]any{"c": "high"}, "logreg: parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := catalog.Trainer(tt.model, tt.params, 7)
			if tt.want == "" {
				if err != nil || tr.Name() != tt.model {
					t.Fatalf("Trainer = %v, %v", tr, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if tt.name == "ErrUnknownModel" && !errors.Is(err, train.ErrUnknownModel) {
				t.Errorf("err does not wrap ErrUnknownModel")
			}
		})
	}
}

func TestDecoders(t *testing.T) {
	for _, name := range catalog.Names() {
		if catalog.Decoders()[name] == nil {
			t.Errorf("no decoder for %q", name)
		}
	}
}
