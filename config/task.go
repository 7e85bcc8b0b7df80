package config

import (
	"slices"
	"strings"

	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/suggest"
	"github.com/mlpipe/mlpipe/train"
)

// Task is the task the label defines: binary (the default), multiclass
// or regression.
func (c *Config) Task() train.Task {
	switch c.Label.Kind {
	case "multiclass":
		return train.Multiclass
	case ingest.KindRegression:
		return train.Regression
	}
	return train.Binary
}

// Metrics lists the metrics model selection and the gate can compare on
// for task, the default first. pipeline.SelectionMetric implements each.
func Metrics(task train.Task) []string {
	switch task {
	case train.Multiclass:
		return []string{"log_loss", "accuracy", "macro_f1"}
	case train.Regression:
		return []string{"rmse", "mae", "r2"}
	}
	return []string{"roc_auc", "pr_auc", "log_loss", "brier"}
}

// checkMetric reports whether metric name (at key) applies to the
// config's task; "" (the default) always does.
func (c *Config) checkMetric(key, name string) error {
	task := c.Task()
	if name == "" || slices.Contains(Metrics(task), name) {
		return nil
	}
	want := strings.Join(Metrics(task), ", ")
	switch {
	case task == train.Regression && (slices.Contains(Metrics(train.Binary), name) || slices.Contains(Metrics(train.Multiclass), name)):
		return keyErr(key, "%q is a classification metric; a regression is judged by %s", name, want)
	case task != train.Regression && slices.Contains(Metrics(train.Regression), name):
		return keyErr(key, "%q is a regression metric; a %s label is judged by %s", name, task, want)
	case slices.Contains(Metrics(train.Binary), name) || slices.Contains(Metrics(train.Multiclass), name):
		return keyErr(key, "%q does not apply to a %s label (want %s)", name, task, want)
	}
	if h := suggest.DidYouMean(name, Metrics(task), nil); h != "" {
		return keyErr(key, "unknown metric %q (%s)", name, h)
	}
	return keyErr(key, "unknown metric %q (want %s for a %s label)", name, want, task)
}

// validateRegressionLabel checks a regression's label section: a numeric
// column, no class rule, a known transform.
func (c *Config) validateRegressionLabel(col *ingest.ColumnSpec) error {
	l := c.Label
	if col.Type != "int64" && col.Type != "float64" {
		return keyErr("label.column", "%q is %s; a regression target must be an int64 or float64 column", l.Column, col.Type)
	}
	if l.Positive != "" {
		return keyErr("label.positive", "does not apply to a regression (the target is the column's value)")
	}
	switch l.Transform {
	case "", ingest.TransformLog1p:
	default:
		return keyErr("label.transform", "unknown transform %q (want log1p, or none)", l.Transform)
	}
	if l.Transform == ingest.TransformLog1p && col.Min != nil && *col.Min <= -1 {
		return keyErr("label.transform", "log1p needs every target above -1, and the schema allows %q down to %g", l.Column, *col.Min)
	}
	return nil
}
