package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlpipe/mlpipe/config"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/pipeline"
	"github.com/mlpipe/mlpipe/train"
)

// TestStreamedTraining: with gbdt the only model, the features stage
// bins the training split a range of rows at a time and never holds the
// float training matrix; the model is byte for byte the one fitted on
// the whole matrix (which the run with the step cache on holds, since
// the cache stores it), and so are the validation predictions.
func TestStreamedTraining(t *testing.T) {
	b, err := os.ReadFile("../testdata/flights-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "  - {name: logreg, grid: {c: [0.1, 1.0]}}\n", "", 1)
	src = strings.Replace(src, "path: flights-10k.parquet", "path: "+filepath.Join(mustAbs(t, "../testdata"), "flights-10k.parquet"), 1)
	path := filepath.Join(t.TempDir(), "gbdt.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Models) != 1 {
		t.Fatalf("%d models, want gbdt alone", len(cfg.Models))
	}
	run := func(cache *pipeline.Cache) (model []byte, held bool, valid []float64) {
		s := &pipeline.State{Config: cfg}
		t.Cleanup(s.Release)
		r := &pipeline.Runner{Stages: pipeline.TrainStages(nil), Cache: cache}
		var x *features.Matrix
		r.Stages = append(r.Stages[:len(r.Stages)-1], probe{func(s *pipeline.State) {
			held = s.TrainSet.X.Data != nil
			// Streamed, the validation split is binned and scored
			// from its raw rows too (TestStreamedValidation): its
			// whole matrix, for the comparison.
			if x = s.ValidSet.X; x.Data == nil {
				var err error
				if x, err = s.Features.Transform(s.Splits.Valid); err != nil {
					t.Fatal(err)
				}
			}
		}}, r.Stages[len(r.Stages)-1])
		if _, err := r.Run(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := train.Save(&buf, s.Model); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), held, s.Model.Predict(x)
	}
	// 1,000 rows at a time: the fixture's 6,000-odd training rows in
	// several ranges.
	restore := pipeline.SetStreamRows(1000)
	streamed, heldS, validS := run(nil)
	restore()
	whole, heldW, validW := run(&pipeline.Cache{Dir: t.TempDir()})
	if heldS || !heldW {
		t.Fatalf("float training matrix held: %v streamed, %v with the cache; want false, true", heldS, heldW)
	}
	if !bytes.Equal(streamed, whole) {
		t.Error("the streamed fit's model differs from the whole matrix's")
	}
	for i := range validS {
		if validS[i] != validW[i] {
			t.Fatalf("validation row %d: %v streamed, %v whole", i, validS[i], validW[i])
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// probe is a stage that only looks at the state.
type probe struct{ fn func(*pipeline.State) }

func (probe) Name() string { return "probe" }

func (p probe) Run(_ context.Context, s *pipeline.State) error {
	p.fn(s)
	return nil
}
