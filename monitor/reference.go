package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// The reference files of a bundle.
const (
	// ReferenceFile holds a seeded random sample of the training split's
	// raw input columns, with their contract types: the baseline of the
	// KS test and the Wasserstein distance, which need values and not
	// only quantiles, and of a timestamp's hour and day of the week.
	ReferenceFile = "reference.arrow"
	// ReferenceScoresFile holds the model's probabilities (a
	// regression's predictions) on a seeded random sample of the
	// validation split, in one float64 column named ScoreColumn: the
	// baseline of the predicted probability (value). Not the
	// training rows' scores: the model has fitted those rows, so their
	// scores are more confident (further from the base rate) than any
	// new row's will be, and live scores would look drifted from day one.
	ReferenceScoresFile = "reference-scores.arrow"
	// ScoreColumn is the column of ReferenceScoresFile.
	ScoreColumn = "probability"
	// DefaultReferenceRows is the sample size WriteReference takes for
	// n <= 0: enough that the sample's own noise is small beside the
	// thresholds (KS D of two samples of the same distribution stays
	// below 1.36·sqrt(1/20,000 + 1/n) at 95%), small enough to load in
	// milliseconds.
	DefaultReferenceRows = 20_000
)

// Schema metadata keys of the reference files.
const (
	metaVersion    = "mlpipe.reference.version"
	metaSourceRows = "mlpipe.reference.source_rows"
	metaSeed       = "mlpipe.reference.seed"
	referenceVer   = "1"
)

// Reference is a bundle's reference sample, read back by ReadReference.
type Reference struct {
	// Inputs holds the sampled training values of each input column, by
	// name, in the sample's order (the training split's), as a request
	// would carry them: int64, float64, string, bool, time.Time (naive,
	// read as UTC) or nil for a null.
	Inputs map[string][]any
	// Types are the inputs' contract types ("int64", "timestamp[us]").
	Types map[string]string
	// Rows is the number of sampled rows; TrainRows the number of
	// training rows they were drawn from.
	Rows      int
	TrainRows int64
	// Scores are the model's probabilities on the sampled validation
	// rows, and ValidRows the size of the validation split; Scores is nil
	// when the bundle has no ReferenceScoresFile.
	Scores    []float64
	ValidRows int64
	// Output names the model output Scores are: "probability" (a binary
	// model's, the default when empty) or "prediction" (a regression's).
	// LoadBaseline sets it from the bundle's task.
	Output string
	// Seed is the seed the sample was drawn with.
	Seed uint64
}

// WriteReference writes the reference files into the bundle directory
// dir: ReferenceFile with n rows (DefaultReferenceRows for n <= 0; every
// row if train has fewer) of train's columns named by inputs, drawn
// without replacement with a generator seeded by seed and kept in
// train's order; and, when validScores is not empty, ReferenceScoresFile
// with n of them drawn the same way (with a generator seeded by seed+1).
// The same arguments give byte-identical files. Each file is written
// atomically (internal/fsx): it is absent or complete, never half
// written.
//
// inputs must be columns of train of a contract type (int64, float64,
// string, bool or a timestamp); an error names the one that is not. A
// validation score that is NaN or infinite is an error too.
func WriteReference(dir string, train arrow.Table, inputs []string, validScores []float64, n int, seed uint64) error {
	d, err := drawReference(train, inputs, n, seed)
	if err != nil {
		return fmt.Errorf("write reference: %w", err)
	}
	defer d.release()
	return d.write(dir, validScores)
}

// write writes the reference files of the drawn sample d and of n of
// validScores (see WriteReference).
func (d *drawn) write(dir string, validScores []float64) error {
	const op = "write reference"
	scores, err := d.drawScores(validScores)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	meta := arrow.NewMetadata(
		[]string{metaVersion, metaSourceRows, metaSeed},
		[]string{referenceVer, strconv.FormatInt(d.trainRows, 10), strconv.FormatUint(d.seed, 10)})
	if err := writeIPC(filepath.Join(dir, ReferenceFile), arrow.NewSchema(d.fields, &meta), d.arrays, d.rows); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if len(validScores) == 0 {
		return nil
	}
	b := array.NewFloat64Builder(memory.NewGoAllocator())
	defer b.Release()
	b.AppendValues(scores, nil)
	sa := b.NewArray()
	defer sa.Release()
	smeta := arrow.NewMetadata(
		[]string{metaVersion, metaSourceRows, metaSeed},
		[]string{referenceVer, strconv.Itoa(len(validScores)), strconv.FormatUint(d.seed+1, 10)})
	sschema := arrow.NewSchema([]arrow.Field{{Name: ScoreColumn, Type: arrow.PrimitiveTypes.Float64}}, &smeta)
	if err := writeIPC(filepath.Join(dir, ReferenceScoresFile), sschema, []arrow.Array{sa}, len(scores)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// drawn is a drawn reference sample of a training table's inputs: the
// sampled columns (to release), the rows of the table they were drawn
// from, and the sample size and seed, which also draw the validation
// scores (drawScores).
type drawn struct {
	fields    []arrow.Field
	arrays    []arrow.Array
	rows      int
	trainRows int64
	n         int
	seed      uint64
}

func (d *drawn) release() {
	for _, a := range d.arrays {
		if a != nil {
			a.Release()
		}
	}
}

// drawReference draws the sample of the inputs WriteReference writes and
// NewBaseline keeps in memory (see WriteReference for the rules).
func drawReference(train arrow.Table, inputs []string, n int, seed uint64) (*drawn, error) {
	return drawFrom(context.Background(), tables.Whole(train), inputs, n, seed)
}

// drawFrom draws the reference sample of src's inputs: which rows is
// decided by src's row count, n and seed alone, and only those rows are
// read (src.Take). Each sampled column is copied into arrays of its own,
// so the sample's bytes do not depend on how src holds its rows.
func drawFrom(ctx context.Context, src tables.Source, inputs []string, n int, seed uint64) (*drawn, error) {
	if n <= 0 {
		n = DefaultReferenceRows
	}
	schema := src.Schema()
	d := &drawn{fields: make([]arrow.Field, len(inputs)), arrays: make([]arrow.Array, len(inputs)),
		trainRows: src.NumRows(), n: n, seed: seed}
	cols := make([]int, len(inputs))
	for k, name := range inputs {
		j := schema.FieldIndices(name)
		if len(j) != 1 {
			return nil, fmt.Errorf("input %q is not a column of the training table", name)
		}
		f := schema.Field(j[0])
		if !supportedType(f.Type) {
			return nil, fmt.Errorf("input %q has type %s; want int64, float64, string, bool or a timestamp", name, f.Type)
		}
		d.fields[k] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
		cols[k] = j[0]
	}
	if src.NumRows() > math.MaxInt32 {
		return nil, fmt.Errorf("%d training rows: a sample is drawn from at most %d", src.NumRows(), math.MaxInt32)
	}
	idx := sampleIndices(src.NumRows(), n, rand.New(rand.NewPCG(seed, 0x6d6f6e69746f72))) // "monitor"
	rows := make([]int32, len(idx))
	for k, i := range idx {
		rows[k] = int32(i)
	}
	sample, err := src.Take(ctx, rows)
	if err != nil {
		return nil, err
	}
	defer sample.Release()
	d.rows = len(idx)
	// The sample's columns are copied whole: rows 0 to d.rows-1.
	for k := range idx {
		idx[k] = int64(k)
	}
	mem := memory.NewGoAllocator()
	for k, j := range cols {
		a, err := take(mem, d.fields[k].Type, sample.Column(j).Data(), idx)
		if err != nil {
			d.release()
			return nil, fmt.Errorf("input %q: %w", inputs[k], err)
		}
		d.arrays[k] = a
	}
	return d, nil
}

// drawScores draws the sample of the validation scores that goes with d:
// n of them, with a generator seeded by d's seed+1; nil for no scores. A
// score that is NaN or infinite is an error.
func (d *drawn) drawScores(validScores []float64) ([]float64, error) {
	for i, p := range validScores {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("validation score %d is %v, not a finite number", i, p)
		}
	}
	if len(validScores) == 0 {
		return nil, nil
	}
	sidx := sampleIndices(int64(len(validScores)), d.n, rand.New(rand.NewPCG(d.seed+1, 0x6d6f6e69746f72)))
	scores := make([]float64, len(sidx))
	for k, i := range sidx {
		scores[k] = validScores[i]
	}
	return scores, nil
}

func supportedType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.STRING, arrow.BOOL, arrow.TIMESTAMP:
		return true
	}
	return false
}

// sampleIndices draws min(n, rows) distinct indices in [0, rows) by
// Floyd's algorithm (every subset equally likely) and sorts them.
func sampleIndices(rows int64, n int, rng *rand.Rand) []int64 {
	if int64(n) >= rows {
		idx := make([]int64, rows)
		for i := range idx {
			idx[i] = int64(i)
		}
		return idx
	}
	chosen := make(map[int64]bool, n)
	idx := make([]int64, 0, n)
	for j := rows - int64(n); j < rows; j++ {
		t := rng.Int64N(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
		idx = append(idx, t)
	}
	slices.Sort(idx)
	return idx
}

// take copies the values of col at the sorted row indices idx.
func take(mem memory.Allocator, typ arrow.DataType, col *arrow.Chunked, idx []int64) (arrow.Array, error) {
	b := array.NewBuilder(mem, typ)
	defer b.Release()
	b.Reserve(len(idx))
	var offset int64 // first row of the current chunk
	k := 0
	for _, ch := range col.Chunks() {
		end := offset + int64(ch.Len())
		for ; k < len(idx) && idx[k] < end; k++ {
			i := int(idx[k] - offset)
			if ch.IsNull(i) {
				b.AppendNull()
				continue
			}
			switch a := ch.(type) {
			case *array.Int64:
				b.(*array.Int64Builder).Append(a.Value(i))
			case *array.Float64:
				b.(*array.Float64Builder).Append(a.Value(i))
			case *array.String:
				b.(*array.StringBuilder).Append(a.Value(i))
			case *array.Boolean:
				b.(*array.BooleanBuilder).Append(a.Value(i))
			case *array.Timestamp:
				b.(*array.TimestampBuilder).Append(a.Value(i))
			default:
				return nil, fmt.Errorf("chunk of type %s in a column of type %s", ch.DataType(), typ)
			}
		}
		offset = end
	}
	return b.NewArray(), nil
}

// seekBuffer is the io.WriteSeeker that ipc.NewFileWriter asks for; it
// only ever asks for the current position.
type seekBuffer struct{ bytes.Buffer }

func (b *seekBuffer) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("seekBuffer: only Seek(0, io.SeekCurrent) is supported")
	}
	return int64(b.Len()), nil
}

// writeIPC writes one record batch as an Arrow IPC file, atomically.
func writeIPC(path string, schema *arrow.Schema, cols []arrow.Array, rows int) error {
	rec := array.NewRecord(schema, cols, int64(rows))
	defer rec.Release()
	var buf seekBuffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Write(rec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsx.WriteFile(path, buf.Bytes(), 0o644)
}

// ReadReference reads the reference files of the bundle directory dir.
// Without ReferenceFile it returns an error wrapping ErrNoReference (and
// fs.ErrNotExist); without ReferenceScoresFile, a Reference whose Scores
// are nil. A file that is not a reference file is an error naming it.
func ReadReference(dir string) (*Reference, error) {
	const op = "read reference"
	path := filepath.Join(dir, ReferenceFile)
	schema, cols, rows, err := readIPC(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s: %w: %w", op, path, ErrNoReference, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ref := &Reference{Inputs: map[string][]any{}, Types: map[string]string{}, Rows: rows}
	ref.TrainRows, ref.Seed = metaInts(schema)
	for j, f := range schema.Fields() {
		vals, err := values(cols[j])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: column %q: %w", op, path, f.Name, err)
		}
		ref.Inputs[f.Name] = vals
		ref.Types[f.Name] = typeName(f.Type)
	}
	spath := filepath.Join(dir, ReferenceScoresFile)
	schema, cols, _, err = readIPC(spath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ref, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	j := schema.FieldIndices(ScoreColumn)
	if len(j) != 1 {
		return nil, fmt.Errorf("%s: %s: no float64 column %q", op, spath, ScoreColumn)
	}
	a, ok := cols[j[0]].(*array.Float64)
	if !ok {
		return nil, fmt.Errorf("%s: %s: column %q is %s, not float64", op, spath, ScoreColumn, cols[j[0]].DataType())
	}
	ref.Scores = make([]float64, 0, a.Len())
	for i := 0; i < a.Len(); i++ {
		if p := a.Value(i); a.IsValid(i) && !math.IsNaN(p) && !math.IsInf(p, 0) {
			ref.Scores = append(ref.Scores, p)
		}
	}
	ref.ValidRows, _ = metaInts(schema)
	return ref, nil
}

// readIPC reads an Arrow IPC file's schema and its columns, the record
// batches concatenated.
func readIPC(path string) (*arrow.Schema, []arrow.Array, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: not an Arrow IPC file: %w", path, err)
	}
	defer r.Close()
	schema := r.Schema()
	if v, ok := schema.Metadata().GetValue(metaVersion); !ok || v != referenceVer {
		return nil, nil, 0, fmt.Errorf("%s: not a version-%s reference file (metadata %s = %q)", path, referenceVer, metaVersion, v)
	}
	var recs []arrow.Record
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	rows := 0
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordAt(i)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s: record batch %d: %w", path, i, err)
		}
		recs = append(recs, rec)
		rows += int(rec.NumRows())
	}
	cols := make([]arrow.Array, schema.NumFields())
	for j := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, rec := range recs {
			parts[i] = rec.Column(j)
		}
		if len(parts) == 0 {
			cols[j] = array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(j).Type, 0)
			continue
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s: column %d: %w", path, j, err)
		}
		cols[j] = c
	}
	return schema, cols, rows, nil
}

// metaInts reads the source-rows and seed metadata (0 when absent).
func metaInts(s *arrow.Schema) (rows int64, seed uint64) {
	if v, ok := s.Metadata().GetValue(metaSourceRows); ok {
		rows, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := s.Metadata().GetValue(metaSeed); ok {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	return rows, seed
}

// values converts a column to the values a request would carry.
func values(a arrow.Array) ([]any, error) {
	out := make([]any, a.Len())
	switch c := a.(type) {
	case *array.Int64:
		for i := range out {
			if c.IsValid(i) {
				out[i] = c.Value(i)
			}
		}
	case *array.Float64:
		for i := range out {
			if c.IsValid(i) {
				out[i] = c.Value(i)
			}
		}
	case *array.String:
		for i := range out {
			if c.IsValid(i) {
				out[i] = c.Value(i)
			}
		}
	case *array.Boolean:
		for i := range out {
			if c.IsValid(i) {
				out[i] = c.Value(i)
			}
		}
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		for i := range out {
			if c.IsValid(i) {
				out[i] = c.Value(i).ToTime(unit).UTC()
			}
		}
	default:
		return nil, fmt.Errorf("unsupported type %s", a.DataType())
	}
	return out, nil
}

// typeName is the contract type name of an Arrow type.
func typeName(t arrow.DataType) string {
	switch ts := t.(type) {
	case *arrow.TimestampType:
		return "timestamp[" + ts.Unit.String() + "]"
	case *arrow.StringType:
		return "string" // Arrow says "utf8"
	}
	return t.String()
}
