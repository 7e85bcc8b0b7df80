package pipeline_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/pipeline"
)

// irisVariant loads configs/iris.yaml with the models and selection
// sections replaced.
func irisVariant(t *testing.T, models, selection string) *config.Config {
	t.Helper()
	b, err := os.ReadFile("../configs/iris.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	data, err := filepath.Abs("../data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	src = strings.Replace(src, "path: ../data/iris.csv", "path: "+data, 1)
	start, end := strings.Index(src, "\nmodels:"), strings.Index(src, "\nseed:")
	src = src[:start] + "\nmodels:\n" + models + "\nselection:\n" + selection + src[end:]
	path := filepath.Join(t.TempDir(), "iris.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// trainOn runs the stages of `mlpipe train` and returns the summary.
func trainOn(t *testing.T, cfg *config.Config) *pipeline.Summary {
	t.Helper()
	s := &pipeline.State{Config: cfg}
	t.Cleanup(s.Release)
	results, err := (&pipeline.Runner{Stages: pipeline.TrainStages(nil)}).Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	// No stage after train reads the float training matrix: it is
	// released, its shape kept.
	if x := s.TrainSet.X; x.Data != nil || x.Rows == 0 || len(x.Cols) == 0 {
		t.Errorf("training matrix after the train stage: %d rows, %d columns, held %v; want released with its shape", x.Rows, len(x.Cols), x.Data != nil)
	}
	return pipeline.Summarize(s, results)
}

// TestSelection runs model selection as the config sets it up: automatic
// cross-validation below config.CVBelowRows training rows (and its
// opting out), random search, and class weights, and checks what the
// summary says of each.
func TestSelection(t *testing.T) {
	t.Run("automatic cross-validation", func(t *testing.T) {
		sum := trainOn(t, irisVariant(t, "  - {name: logreg}\n  - {name: gbdt, params: {rounds: 20, max_leaves: 4}}", "  metric: log_loss\n"))
		if sum.Selection == nil || sum.Selection.Folds != config.DefaultCVFolds || sum.Selection.Candidates != 2 {
			t.Fatalf("selection %+v, want %d folds of 2 candidates", sum.Selection, config.DefaultCVFolds)
		}
		for _, e := range sum.Leaderboard {
			scores, _ := e["cv_scores"].([]float64)
			_, hasValid := e["valid"]
			if len(scores) != config.DefaultCVFolds || e["cv_mean"] == nil || hasValid != (e["best"] == true) {
				t.Errorf("entry %v: want %d fold scores, and a validation score for the best only", e, config.DefaultCVFolds)
			}
		}
	})
	t.Run("cross-validation off", func(t *testing.T) {
		sum := trainOn(t, irisVariant(t, "  - {name: logreg}", "  metric: log_loss\n  cv_folds: 1\n"))
		if sum.Selection.Folds != 0 || sum.Leaderboard[0]["valid"] == nil || sum.Leaderboard[0]["cv_mean"] != nil {
			t.Errorf("selection %+v, leaderboard %v: want no folds, a validation score", sum.Selection, sum.Leaderboard)
		}
	})
	t.Run("random search", func(t *testing.T) {
		cfg := irisVariant(t, "  - {name: logreg, search: default}\n  - {name: gbdt, params: {rounds: 10}, search: {max_leaves: [2, 4, 8]}}", "  metric: log_loss\n  trials: 5\n  cv_folds: 3\n")
		sum := trainOn(t, cfg)
		again := trainOn(t, cfg)
		if len(sum.Leaderboard) != 2+5 || sum.Selection.Candidates != 7 || sum.Selection.Folds != 3 {
			t.Fatalf("%d entries, selection %+v; want the 2 models and 5 trials, 3 folds", len(sum.Leaderboard), sum.Selection)
		}
		for i, e := range sum.Leaderboard[2:] {
			p := e["params"].(map[string]any)
			// Trials alternate between the two searched models.
			want := []string{"logreg", "gbdt"}[i%2]
			if e["trial"] != i+1 || e["model"] != want {
				t.Errorf("entry %v: want trial %d of %s", e, i+1, want)
			}
			if want == "logreg" {
				if c := p["c"].(float64); c < 1e-3 || c > 1e3 {
					t.Errorf("trial %d: c = %g, outside the documented range", i+1, c)
				}
			} else if l := p["max_leaves"]; l != 2 && l != 4 && l != 8 || p["rounds"] != 10 {
				t.Errorf("trial %d: params %v", i+1, p)
			}
			if fmt.Sprint(p) != fmt.Sprint(again.Leaderboard[i+2]["params"]) {
				t.Errorf("trial %d: %v, then %v with the same seed", i+1, p, again.Leaderboard[i+2]["params"])
			}
		}
	})
	t.Run("class weights", func(t *testing.T) {
		sum := trainOn(t, irisVariant(t, "  - {name: gbdt, params: {rounds: 10, class_weight: balanced}}", "  metric: log_loss\n"))
		w := sum.Model.ClassWeights
		// Balanced: n / (3·n_k) over the training rows of each class.
		var n float64
		for _, sp := range sum.Splits {
			if sp.Name == "train" {
				n = float64(sp.Rows)
				for c, share := range sp.Classes {
					if got, want := w[c], n/(3*share*n); math.Abs(got-want) > 1e-9 {
						t.Errorf("class %s: weight %g, want %g", c, got, want)
					}
				}
			}
		}
		if len(w) != 3 || n == 0 {
			t.Errorf("class weights %v", w)
		}
		if sum.Model.Importance == nil || sum.Model.Importance.Kind != "gain" || len(sum.Model.Importance.Inputs) != 4 {
			t.Errorf("importance %+v, want the gain of 4 inputs", sum.Model.Importance)
		}
	})
}
