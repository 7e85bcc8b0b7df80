package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/compute"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/registry"
	"github.com/mlpipe/mlpipe/train"
)

// TestStreamedEvaluation: no stage of a registering run holds a float
// matrix of the test split (the evaluate stage and the gate transform
// and score it streamRows rows at a time), the validation matrix is
// released by the evaluate stage, and the test predictions, the gate's
// scores of the candidate and of the production model are bit for bit
// those of the whole test matrix; evaluating the saved model holds no
// float matrix and reports the same.
func TestStreamedEvaluation(t *testing.T) {
	const rangeRows = 300 // the fixture's 1,674 test rows in 6 ranges
	defer SetStreamRows(rangeRows)()
	cfg := logregFixture(t)
	cfg.Registry.Path = t.TempDir()
	var testHeld, validHeld bool
	run := func() *State {
		s := &State{Config: cfg, RunID: "test"}
		t.Cleanup(s.Release)
		var stages []Stage
		for _, st := range PromoteStages(&ingest.Options{}, true) {
			stages = append(stages, st, probeStage(func(s *State) {
				testHeld = testHeld || (s.TestSet != nil && s.TestSet.X.Data != nil)
				if st.Name() == "evaluate" {
					validHeld = s.ValidSet.X.Data != nil
				}
			}))
		}
		if _, err := (&Runner{Stages: stages}).Run(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run()      // registers the production model
	s := run() // its gate scores the production model, the same fit
	if testHeld || validHeld {
		t.Fatalf("a stage held the test matrix (%v), or the validation matrix after evaluate (%v)", testHeld, validHeld)
	}

	x, err := s.Features.Transform(s.Splits.Test)
	if err != nil {
		t.Fatal(err)
	}
	whole := s.Model.Predict(x)
	if len(s.testProba) != len(whole) {
		t.Fatalf("%d test predictions, want %d", len(s.testProba), len(whole))
	}
	for i := range whole {
		if s.testProba[i] != whole[i] {
			t.Fatalf("test row %d: %v streamed, %v from the whole matrix", i, s.testProba[i], whole[i])
		}
	}
	m, err := SelectionMetric(cfg.Gate.Metric, taskOf(s.TestSet))
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(s.TestSet.Y, whole, s.TestSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Gate
	if g.Candidate != want || g.Production == nil || *g.Production != want {
		t.Errorf("gate: candidate %v, production %v; want %v both (the same fit, scored on the whole matrix)", g.Candidate, g.Production, want)
	}

	// `mlpipe evaluate --model` of the registered model holds no float
	// matrix at all (it scores validation by ranges too), and its report
	// is the run's, which scored validation on the whole matrix.
	store, err := registry.Open(cfg.Registry.Path)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := store.VersionDir(cfg.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &State{Config: cfg}
	t.Cleanup(e.Release)
	held := false
	stages := EvaluateStages(&ingest.Options{}, b)
	stages = append(stages[:len(stages)-1:len(stages)-1], probeStage(func(s *State) { held = s.ValidSet.X.Data != nil || s.TestSet.X.Data != nil }), stages[len(stages)-1])
	if _, err := (&Runner{Stages: stages}).Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(e.Evaluation)
	if err != nil {
		t.Fatal(err)
	}
	want2, err := json.Marshal(s.Evaluation)
	if err != nil {
		t.Fatal(err)
	}
	if held || !bytes.Equal(got, want2) {
		t.Errorf("evaluate --model: a float matrix held (%v), or a report that differs from the run's (%v)", held, !bytes.Equal(got, want2))
	}

	// Every Predict call of the streamed scoring sees one range.
	rec := &rangeModel{Model: s.Model}
	p, err := predictTable(context.Background(), s.Features, rec, s.Splits.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := x.Rows
	if rec.most > rangeRows || rec.calls != (n+rangeRows-1)/rangeRows || len(p) != len(whole) {
		t.Errorf("%d rows scored in %d calls of at most %d rows; want %d calls of at most %d", len(p), rec.calls, rec.most, (n+rangeRows-1)/rangeRows, rangeRows)
	}
}

// rangeModel counts a model's Predict calls and the largest matrix one
// is given.
type rangeModel struct {
	train.Model
	calls, most int
}

func (m *rangeModel) Predict(x *features.Matrix) []float64 {
	m.calls++
	m.most = max(m.most, x.Rows)
	return m.Model.Predict(x)
}

// TestStreamedEvaluationMemory: the evaluate stage copies nothing of the
// test split but the explanations' 1,000 gathered rows, and frees them.
// On the fixture's test split tiled 30 times (50,220 rows), the Arrow
// memory it allocates at its peak, under a checked allocator, is under
// a tenth of what a copy of the split allocates, and all of it is
// released. (The float
// rows it transforms are Go memory: TestStreamedEvaluation bounds them
// by counting the rows of each Predict.)
func TestStreamedEvaluationMemory(t *testing.T) {
	cfg := logregFixture(t)
	s := &State{Config: cfg}
	t.Cleanup(s.Release)
	if _, err := (&Runner{Stages: AllStages(&ingest.Options{})}).Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	const k = 30
	test := s.Splits.Test
	s.Splits.Test = tile(test, k)
	test.Release()
	n := int(s.Splits.Test.NumRows())
	y := s.TestSet.Y
	for range k - 1 {
		s.TestSet.Y = append(s.TestSet.Y, y...)
	}
	s.TestSet.X.Rows, s.testProba, s.Evaluation = n, nil, nil

	mem := &peakAllocator{Allocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	if err := (evaluateStage{}).Run(compute.WithAllocator(context.Background(), mem), s); err != nil {
		t.Fatal(err)
	}
	if s.Evaluation.Explanations == nil || s.Evaluation.Explanations.Of != n || len(s.testProba) != n {
		t.Fatalf("evaluated %d rows, explained rows of %v; want %d", len(s.testProba), s.Evaluation.Explanations, n)
	}
	mem.Allocator.(*memory.CheckedAllocator).AssertSize(t, 0)
	// What a copy of the split allocates, gathered the same way: twice
	// that of every other row (all the rows, in order, are not copied).
	var half []int
	for i := 0; i < n; i += 2 {
		half = append(half, i)
	}
	gathered := &peakAllocator{Allocator: memory.NewGoAllocator()}
	if _, err := transformRows(compute.WithAllocator(context.Background(), gathered), s.Features, s.Splits.Test, half); err != nil {
		t.Fatal(err)
	}
	copied := 2 * gathered.peak
	t.Logf("Arrow memory at the peak: %d bytes in the evaluate stage, %d for a copy of the split's %d rows", mem.peak, copied, n)
	if mem.peak == 0 || mem.peak > copied/10 {
		t.Errorf("the evaluate stage allocated up to %d bytes of Arrow memory; want some (the explanations' rows) and at most a tenth of a copy of the split's %d", mem.peak, copied)
	}
}

// peakAllocator records the most bytes it had allocated at once.
type peakAllocator struct {
	memory.Allocator
	mu        sync.Mutex
	cur, peak int
}

func (a *peakAllocator) add(n int) {
	a.mu.Lock()
	a.cur += n
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
}

func (a *peakAllocator) Allocate(size int) []byte {
	a.add(size)
	return a.Allocator.Allocate(size)
}

func (a *peakAllocator) Reallocate(size int, b []byte) []byte {
	a.add(size - len(b))
	return a.Allocator.Reallocate(size, b)
}

func (a *peakAllocator) Free(b []byte) {
	a.add(-len(b))
	a.Allocator.Free(b)
}
