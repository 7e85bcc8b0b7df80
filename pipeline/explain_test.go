package pipeline_test

import (
	"context"
	"math"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/pipeline"
)

// TestExplanations runs the pipeline on the fixture and checks the
// evaluation's explanations: a seeded sample of 1,000 of the 1,674 test
// rows, every input by decreasing importance with shares summing to 1,
// each importance the mean magnitude of the input's plotted
// contributions, and the model's base value.
func TestExplanations(t *testing.T) {
	cfg, err := config.Load("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &pipeline.State{Config: cfg}
	defer s.Release()
	if _, err := (&pipeline.Runner{Stages: pipeline.AllStages(nil)}).Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	x := s.Evaluation.Explanations
	if x == nil {
		t.Fatalf("no explanations of the %s model", s.Model.Kind())
	}
	if x.Rows != pipeline.ExplainRows || x.Of != 1_674 || len(x.Importance) != 5 || len(x.Inputs) != 5 {
		t.Fatalf("explained %d of %d rows, %d importances, %d inputs", x.Rows, x.Of, len(x.Importance), len(x.Inputs))
	}
	ex, err := explain.New(s.Features, s.Model)
	if err != nil {
		t.Fatal(err)
	}
	if x.Base[0] != ex.Base()[0] || x.Method != explain.Method(s.Model) {
		t.Errorf("base %v, method %s; the model's %v, %s", x.Base, x.Method, ex.Base(), explain.Method(s.Model))
	}
	if len(x.Sample) != x.Rows {
		t.Fatalf("%d sampled rows for %d explained", len(x.Sample), x.Rows)
	}
	// The stage transformed only the sampled rows: the explanations of
	// the same rows of the whole test matrix are the same, bit for bit.
	whole, err := s.Features.Transform(s.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	xs, err := ex.Sample(context.Background(), whole, x.Sample, 1)
	if err != nil {
		t.Fatal(err)
	}
	imp0 := explain.Importance(xs)
	index := map[string]int{}
	for g, in := range ex.Inputs() {
		index[in] = g
	}
	plotted := (x.Rows + x.Step - 1) / x.Step
	var shares float64
	for i, imp := range x.Importance {
		shares += imp.Share
		if i > 0 && imp.MeanAbs > x.Importance[i-1].MeanAbs {
			t.Errorf("importance not in decreasing order: %+v", x.Importance)
		}
		g := index[imp.Input]
		if want := imp0[g]; imp.MeanAbs != want {
			t.Errorf("%s: importance %v, the mean |contribution| of the sampled rows %v", imp.Input, imp.MeanAbs, want)
		}
		pts := x.Inputs[i]
		if pts.Input != imp.Input || len(pts.Contributions) != plotted || plotted > pipeline.PlotRows {
			t.Fatalf("input %d: %d points of %s, importance of %s; want %d points", i, len(pts.Contributions), pts.Input, imp.Input, plotted)
		}
		if n := max(len(pts.Values), len(pts.Categories)); n != plotted {
			t.Errorf("%s (%s): %d values for %d points (the fixture has no missing value)", pts.Input, pts.Kind, n, plotted)
		}
		for k, c := range pts.Contributions {
			// The points are rounded to 4 significant digits.
			if want := xs[k*x.Step].Output(0)[g]; math.Abs(c-want) > 1e-3*math.Abs(want) {
				t.Errorf("%s, point %d: contribution %v, the row's %v", imp.Input, k, c, want)
			}
		}
	}
	if math.Abs(shares-1) > 1e-12 {
		t.Errorf("shares sum to %v", shares)
	}
	kinds := map[string]string{}
	for _, p := range x.Inputs {
		kinds[p.Input] = p.Kind
	}
	want := map[string]string{"date": "time", "distance": "number", "origin": "category", "destination": "category", "origin × destination": "category"}
	for in, k := range want {
		if kinds[in] != k {
			t.Errorf("%s is plotted as %q, want %q", in, kinds[in], k)
		}
	}
}
