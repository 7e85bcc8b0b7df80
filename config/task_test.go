package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/train"
)

// regressionBase is a small valid regression config.
const regressionBase = `name: m
data:
  path: x.parquet
schema:
  columns:
    - {name: t, type: "timestamp[us]"}
    - {name: y, type: float64, min: 0}
    - {name: c, type: string}
label:
  column: y
  kind: regression
split:
  column: t
  validation_from: 2001-05-01
  test_from: 2001-06-01
`

// TestTaskKeys checks that every key particular to a kind of label is
// refused, with the key's line, for the other kinds, when the config
// loads (before any data is read).
func TestTaskKeys(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		old, new string
		want     string // "" for a valid config
	}{
		{"OK", regressionBase, "", "", ""},
		{"OK/everything", regressionBase, "name: m", `name: m
models: [{name: ridge, params: {alpha: 10}}, {name: gbdt, params: {objective: huber, delta: 5}}, {name: gbdt, params: {objective: quantile, alpha: 0.9}}]
selection: {metric: mae}
gate: {metric: r2}
monitor: {rmse_rise: 0.1}
features: [{column: c, transform: categorical, target_encoding: true}]`, ""},
		{"OK/log1p", regressionBase, "kind: regression", "kind: regression\n  transform: log1p", ""},
		{"ErrStringLabel", regressionBase, "column: y\n  kind", "column: c\n  kind", `label.column: "c" is string; a regression target must be an int64 or float64 column`},
		{"ErrPositive", regressionBase, "kind: regression", "kind: regression\n  positive: \"> 1\"", "label.positive: does not apply to a regression"},
		{"ErrTransform", regressionBase, "kind: regression", "kind: regression\n  transform: sqrt", `label.transform: unknown transform "sqrt"`},
		{"ErrLog1pRange", regressionBase, "min: 0}\n    - {name: c, type: string}\nlabel:\n  column: y\n  kind: regression", "min: -5}\n    - {name: c, type: string}\nlabel:\n  column: y\n  kind: regression\n  transform: log1p", `label.transform: log1p needs every target above -1, and the schema allows "y" down to -5`},
		{"ErrTransformBinary", base, `positive: "> 1"`, "positive: \"> 1\"\n  transform: log1p", "label.transform: applies to a regression target, not a binary label"},
		{"ErrSelectionMetric", regressionBase, "name: m", "name: m\nselection: {metric: roc_auc}", `selection.metric: "roc_auc" is a classification metric; a regression is judged by rmse, mae, r2`},
		{"ErrGateMetric", regressionBase, "name: m", "name: m\ngate: {metric: log_loss}", `cfg.yaml:2: gate.metric: "log_loss" is a classification metric`},
		{"ErrRegressionMetric", base, "name: m", "name: m\ngate: {metric: rmse}", `gate.metric: "rmse" is a regression metric; a binary label is judged by roc_auc, pr_auc, log_loss, brier`},
		{"ErrMulticlassMetric", base, "name: m", "name: m\nselection: {metric: macro_f1}", `selection.metric: "macro_f1" does not apply to a binary label`},
		{"ErrCostRatio", regressionBase, "name: m", "name: m\nevaluate: {cost_ratio: 5}", "evaluate.cost_ratio: applies to a binary label (it chooses the decision threshold), not a regression"},
		{"ErrAUCDrop", regressionBase, "name: m", "name: m\nmonitor: {auc_drop: 0.1}", "monitor.auc_drop: applies to a class label"},
		{"ErrRMSERise", base, "name: m", "name: m\nmonitor: {rmse_rise: 0.1}", "monitor.rmse_rise: applies to a regression"},
		{"ErrLogregRegression", regressionBase, "name: m", "name: m\nmodels: [{name: logreg}]", "models[0]: logreg does not fit a regression task (for a regression, use gbdt, ridge)"},
		{"ErrRidgeBinary", base, "name: m", "name: m\nmodels: [{name: ridge}]", "models[0]: ridge does not fit a binary task"},
		{"ErrObjective", base, "name: m", "name: m\nmodels: [{name: gbdt, params: {objective: huber}}]", "models[0]: gbdt: objective huber is for a regression; a binary label takes log_loss"},
		{"ErrObjectiveInGrid", regressionBase, "name: m", "name: m\nmodels: [{name: gbdt, grid: {objective: [huber, log_loss]}}]", "models[0]: gbdt: objective log_loss is for a class label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.base
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("test bug: %q not in base", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			cfg, err := config.Parse([]byte(src), "cfg.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.base == regressionBase && cfg.Task() != train.Regression {
					t.Errorf("Task() = %q", cfg.Task())
				}
				return
			}
			if err == nil || !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n  %v\nwant an ErrInvalid containing\n  %s", err, tt.want)
			}
		})
	}
}
