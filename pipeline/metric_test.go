package pipeline_test

import (
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/pipeline"
)

// TestSelectionMetricHint: a metric that does not apply says which do,
// or which one was probably meant.
func TestSelectionMetricHint(t *testing.T) {
	tests := []struct {
		name    string
		classes int
		want    string
	}{
		{"roc_auc", 2, ""},
		{"macro_f1", 3, ""},
		{"rocauc", 2, `metric "rocauc" does not apply to a binary task (did you mean roc_auc?)`},
		{"acuracy", 3, `(did you mean accuracy?)`},
		{"roc_auc", 3, `metric "roc_auc" does not apply to a multiclass task (want log_loss, accuracy, macro_f1)`},
	}
	for _, tt := range tests {
		_, err := pipeline.SelectionMetric(tt.name, tt.classes)
		if tt.want == "" {
			if err != nil {
				t.Errorf("SelectionMetric(%q, %d): %v", tt.name, tt.classes, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SelectionMetric(%q, %d) = %v, want %q", tt.name, tt.classes, err, tt.want)
		}
	}
}
