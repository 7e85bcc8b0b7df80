package pipeline

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/evaluate"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/train"
	"github.com/mlpipe/mlpipe/train/catalog"
	"github.com/mlpipe/mlpipe/train/selection"
)

// What each cached stage stores, and what its outputs depend on. Tables
// (the feature matrices, the predictions) are Arrow IPC files, which map
// back into columns without parsing; the rest is JSON.

// --- profile -------------------------------------------------------------

func (profileStage) inputs(s *State) (map[string]any, error) {
	return map[string]any{"data": s.Fingerprint, "code": CodeVersion()}, nil
}

func (profileStage) save(dir string, s *State) error {
	return fsx.WriteJSON(filepath.Join(dir, "profile.json"), s.Profile)
}

func (profileStage) restore(dir string, s *State) error {
	s.Profile = &ingest.Profile{}
	return fsx.ReadJSON(filepath.Join(dir, "profile.json"), s.Profile)
}

// --- features ------------------------------------------------------------

func (featuresStage) inputs(s *State) (map[string]any, error) {
	in := map[string]any{"data": s.Fingerprint, "code": CodeVersion()}
	return in, configInputs(s.Config, in, "split", "label", "features", "seed")
}

// datasetsFile describes the three stored datasets.
type datasetsFile struct {
	Task    train.Task            `json:"task,omitempty"`
	Classes []string              `json:"classes"`
	Columns []features.ColumnInfo `json:"columns"`
}

// The split datasets' files: the feature matrix and the labels of each.
// The test split has no matrix (it is transformed a range at a time when
// scored, from the raw split, which a restored features stage keeps).
var datasetFiles = []struct {
	matrix, labels string
	ds             func(*State) **train.Dataset
}{
	{"train.arrow", "train-labels.arrow", func(s *State) **train.Dataset { return &s.TrainSet }},
	{"validation.arrow", "validation-labels.arrow", func(s *State) **train.Dataset { return &s.ValidSet }},
	{"", "test-labels.arrow", func(s *State) **train.Dataset { return &s.TestSet }},
}

// trainGroupsFile holds the training rows' groups, with split.group.
const trainGroupsFile = "train-groups.arrow"

func (featuresStage) save(dir string, s *State) error {
	if err := fsx.WriteJSON(filepath.Join(dir, "features.json"), s.Features); err != nil {
		return err
	}
	meta := datasetsFile{Task: s.TrainSet.Task, Classes: s.TrainSet.ClassNames, Columns: s.TrainSet.X.Cols}
	if err := fsx.WriteJSON(filepath.Join(dir, "datasets.json"), meta); err != nil {
		return err
	}
	if g := s.TrainSet.Groups; g != nil {
		ids := make([]float64, len(g))
		for i, id := range g {
			ids[i] = float64(id)
		}
		if err := writeColumns(filepath.Join(dir, trainGroupsFile), []string{"group"}, [][]float64{ids}); err != nil {
			return err
		}
	}
	for _, f := range datasetFiles {
		ds := *f.ds(s)
		if err := writeColumns(filepath.Join(dir, f.labels), []string{"label"}, [][]float64{ds.Y}); err != nil {
			return err
		}
		if f.matrix == "" {
			continue
		}
		names := make([]string, len(ds.X.Cols))
		for j, c := range ds.X.Cols {
			names[j] = c.Name
		}
		if err := writeColumns(filepath.Join(dir, f.matrix), names, ds.X.Data); err != nil {
			return err
		}
	}
	return nil
}

func (featuresStage) restore(dir string, s *State) error {
	p := &features.Pipeline{}
	if err := fsx.ReadJSON(filepath.Join(dir, "features.json"), p); err != nil {
		return err
	}
	var meta datasetsFile
	if err := fsx.ReadJSON(filepath.Join(dir, "datasets.json"), &meta); err != nil {
		return err
	}
	// The labels now; the matrices (most of the bytes) only when a stage
	// that has to run needs them: after a full cache hit none does.
	for _, f := range datasetFiles {
		y, err := readColumns(filepath.Join(dir, f.labels), 1)
		if err != nil {
			return err
		}
		x := &features.Matrix{Rows: len(y[0]), Cols: meta.Columns}
		*f.ds(s) = &train.Dataset{X: x, Y: y[0], Task: meta.Task, Classes: len(meta.Classes), ClassNames: meta.Classes}
	}
	if s.Config.Split.Group != "" { // the split is part of the key: the file is there
		ids, err := readColumns(filepath.Join(dir, trainGroupsFile), 1)
		if err != nil {
			return err
		}
		if len(ids[0]) != s.TrainSet.X.Rows {
			return fmt.Errorf("features: cached %s: %d rows, want %d", trainGroupsFile, len(ids[0]), s.TrainSet.X.Rows)
		}
		s.TrainSet.Groups = make([]int, len(ids[0]))
		for i, id := range ids[0] {
			s.TrainSet.Groups[i] = int(id)
		}
	}
	s.Features = p
	s.loadMatrices = func() error {
		for _, f := range datasetFiles {
			if f.matrix == "" {
				continue
			}
			x := (*f.ds(s)).X
			cols, err := readColumns(filepath.Join(dir, f.matrix), len(meta.Columns))
			if err != nil {
				return fmt.Errorf("features: cached matrix: %w", err)
			}
			if len(cols[0]) != x.Rows {
				return fmt.Errorf("features: cached matrix %s: %d rows, want %d", f.matrix, len(cols[0]), x.Rows)
			}
			x.Data = cols
		}
		return nil
	}
	return nil
}

// --- train ---------------------------------------------------------------

func (trainStage) inputs(s *State) (map[string]any, error) {
	in := map[string]any{"upstream features": s.keys["features"], "code": CodeVersion()}
	// The threshold is chosen here, with the evaluate section's cost ratio.
	return in, configInputs(s.Config, in, "models", "selection", "seed", "evaluate.cost_ratio")
}

// trainFile is the train stage's stored result beside the model.
type trainFile struct {
	Threshold    float64            `json:"threshold"`
	Leaderboard  []cachedEntry      `json:"leaderboard"`
	Selection    *SelectionSummary  `json:"selection,omitempty"`
	ClassWeights map[string]float64 `json:"class_weights,omitempty"`
}

// cachedEntry is a leaderboard entry whose NaN score (a failed
// candidate) survives JSON.
type cachedEntry struct {
	selection.Entry
	Valid *float64 `json:"valid"`
}

func (trainStage) save(dir string, s *State) error {
	f, err := os.Create(filepath.Join(dir, "model.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := train.Save(f, s.Model); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	tf := trainFile{Threshold: s.Threshold, Selection: s.Selection, ClassWeights: s.ClassWeights}
	for _, e := range s.Leaderboard {
		ce := cachedEntry{Entry: e}
		if !math.IsNaN(e.Valid) {
			v := e.Valid
			ce.Valid = &v
		}
		tf.Leaderboard = append(tf.Leaderboard, ce)
	}
	if err := fsx.WriteJSON(filepath.Join(dir, "train.json"), tf); err != nil {
		return err
	}
	// With the step cache on, the validation matrix is held (binBuilder):
	// scoring it reads no input.
	proba, err := s.validPredictions(context.Background())
	if err != nil {
		return err
	}
	return writeColumns(filepath.Join(dir, "validation-proba.arrow"), []string{"proba"}, [][]float64{proba})
}

func (trainStage) restore(dir string, s *State) error {
	f, err := os.Open(filepath.Join(dir, "model.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := train.Load(f, catalog.Decoders())
	if err != nil {
		return err
	}
	var tf trainFile
	if err := fsx.ReadJSON(filepath.Join(dir, "train.json"), &tf); err != nil {
		return err
	}
	proba, err := readColumns(filepath.Join(dir, "validation-proba.arrow"), 1)
	if err != nil {
		return err
	}
	s.Model, s.Threshold, s.validProba = m, tf.Threshold, proba[0]
	s.Selection, s.ClassWeights = tf.Selection, tf.ClassWeights
	s.Leaderboard = nil
	for _, ce := range tf.Leaderboard {
		e := ce.Entry
		e.Valid = math.NaN()
		if ce.Valid != nil {
			e.Valid = *ce.Valid
		}
		s.Leaderboard = append(s.Leaderboard, e)
	}
	return nil
}

// --- evaluate ------------------------------------------------------------

func (evaluateStage) inputs(s *State) (map[string]any, error) {
	in := map[string]any{"upstream train": s.keys["train"], "code": CodeVersion()}
	return in, configInputs(s.Config, in, "evaluate")
}

func (evaluateStage) save(dir string, s *State) error {
	if err := fsx.WriteJSON(filepath.Join(dir, "evaluation.json"), s.Evaluation); err != nil {
		return err
	}
	return writeColumns(filepath.Join(dir, "test-proba.arrow"), []string{"proba"}, [][]float64{s.testProba}) // set by Run
}

func (evaluateStage) restore(dir string, s *State) error {
	r := &evaluate.Report{}
	if err := fsx.ReadJSON(filepath.Join(dir, "evaluation.json"), r); err != nil {
		return err
	}
	proba, err := readColumns(filepath.Join(dir, "test-proba.arrow"), 1)
	if err != nil {
		return err
	}
	s.Evaluation, s.testProba = r, proba[0]
	return nil
}

// --- Arrow IPC columns ---------------------------------------------------

// writeColumns writes equal-length float64 columns as one record batch
// of an Arrow IPC file. Columns of a multiclass model's probabilities
// may be longer than a split (rows × classes); all columns of one file
// have the same length.
func writeColumns(path string, names []string, cols [][]float64) error {
	fields := make([]arrow.Field, len(names))
	arrays := make([]arrow.Array, len(cols))
	for j, name := range names {
		fields[j] = arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64}
		// The slice's memory is wrapped, not copied.
		data := array.NewData(arrow.PrimitiveTypes.Float64, len(cols[j]),
			[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(cols[j]))}, nil, 0, 0)
		arrays[j] = array.NewFloat64Data(data)
		data.Release()
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecord(schema, arrays, int64(len(cols[0])))
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// readColumns reads the want float64 columns written by writeColumns.
// The returned slices are the Arrow buffers themselves.
func readColumns(path string, want int) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer r.Close()
	if r.NumRecords() != 1 || int(r.Schema().NumFields()) != want {
		return nil, fmt.Errorf("%s: %w: want one record batch of %d columns", path, errNoEntry, want)
	}
	rec, err := r.RecordAt(0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cols := make([][]float64, want)
	for j := range cols {
		a, ok := rec.Column(j).(*array.Float64)
		if !ok || a.NullN() > 0 {
			return nil, fmt.Errorf("%s: %w: column %d is not float64 without nulls", path, errNoEntry, j)
		}
		cols[j] = a.Float64Values()
	}
	// The Go allocator's buffers are garbage collected; the slices keep
	// them alive after the record is dropped.
	return cols, nil
}
