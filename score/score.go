package score

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/mlpipe/mlpipe/bundle"
	"github.com/mlpipe/mlpipe/explain"
	"github.com/mlpipe/mlpipe/features"
	"github.com/mlpipe/mlpipe/ingest"
	"github.com/mlpipe/mlpipe/internal/fsx"
	"github.com/mlpipe/mlpipe/model"
	"github.com/mlpipe/mlpipe/serve"
)

// Output formats.
const (
	Parquet = "parquet"
	CSV     = "csv"
	JSONL   = "jsonl"
)

// ErrUsage means the options cannot work with this model or input: an
// unknown format, a kept column the input cannot provide or whose name an
// output column takes, explanations of a model that has none.
var ErrUsage = errors.New("bad options")

// Options say what Run writes. Out is required; every other field has a
// sensible zero value.
type Options struct {
	// Out is the file to write. It appears only when the run succeeds
	// (it is written under a temporary name and renamed).
	Out string
	// Format is Parquet, CSV or JSONL; empty means by Out's extension
	// (.parquet, .csv, .jsonl or .ndjson), Parquet for any other.
	Format string
	// Keep are input columns copied to the output, first, in this order.
	Keep []string
	// Explain adds the explanation of each row: its base value and the
	// contribution of each input (Top of them when Top > 0) to the margin
	// of the predicted class.
	Explain bool
	// Top, with Explain, writes the Top largest contributions of each
	// row (top1_input, top1_contribution, ...) instead of all of them.
	Top int
	// Skip leaves bad rows out, counts them and writes them to Rejects;
	// without it the first bad row stops the run.
	Skip bool
	// Columns describe the input's columns as a pipeline config's schema
	// does: a timestamp column's text format and time zone (Format,
	// Timezone; the training config's, so that new files are read as the
	// training data was), and, for a CSV file without a header line (the
	// source's Header false), the order of its fields. Only those fields
	// are used. Without Columns, timestamps are ISO 8601 and a file
	// without a header has the training data's columns, in order (the
	// bundle's profile).
	Columns []ingest.ColumnSpec
	// Rejects is the JSON Lines file of skipped rows; empty means Out
	// with ".rejects.jsonl" added. It is written only if a row is skipped.
	Rejects string
	// Parallelism is how many chunks are scored at once; 0 means
	// GOMAXPROCS.
	Parallelism int
	// Progress, when not nil, is called after each chunk is written with
	// the rows written so far and the share of the input read.
	Progress func(rows int64, read float64)
}

// Result says what a run did.
type Result struct {
	// Rows is the rows read; Scored those written, Rejected those
	// skipped. A line of a text file that is not a row at all (a ragged
	// CSV line) counts as read and rejected.
	Rows, Scored, Rejected int64
	// Unknown is the scored rows with an input in the unknown bucket.
	Unknown int64
	// Out and Rejects are the files written (Rejects empty when no row
	// was skipped).
	Out, Rejects string
	// Columns are the output's columns.
	Columns []string
}

// scorer holds what every chunk needs.
type scorer struct {
	m       *serve.Model
	pipe    *features.Pipeline
	model   model.Model
	rules   []serve.Rule
	schema  ingest.Schema // what is read (see readSchema)
	input   []int         // the read column of each input (rule)
	keep    []int         // the read column of each kept column
	ex      *explain.Explainer
	out     *arrow.Schema
	opts    Options
	classes []string
	version int64
	// labelDict and nameDict are the values of the label and model
	// columns (the class names, the model's name): each chunk writes
	// those columns as indices into them (see output).
	labelDict, nameDict arrow.Array
}

// Run scores the rows of src with m and writes them to opts.Out.
func Run(ctx context.Context, m *serve.Model, src ingest.Source, opts Options) (*Result, error) {
	s, err := newScorer(ctx, m, src, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Out: opts.Out}
	for _, f := range s.out.Fields() {
		res.Columns = append(res.Columns, f.Name)
	}
	out, err := create(opts.Out)
	if err != nil {
		return nil, err
	}
	defer out.abort()
	w, err := newWriter(s.opts.Format, out.f, s.out)
	if err != nil {
		return nil, err
	}
	var rejects *output
	defer func() {
		if rejects != nil {
			rejects.abort()
		}
	}()
	writeRejects := func(rs []reject) error {
		if rejects == nil {
			if rejects, err = create(s.opts.Rejects); err != nil {
				return err
			}
		}
		var b []byte
		for _, r := range rs {
			b = append(r.appendJSON(b), '\n')
		}
		_, err := rejects.f.Write(b)
		return err
	}
	err = s.run(ctx, src, func(r *result) error {
		res.Rows += r.rows
		res.Rejected += int64(len(r.rejects))
		res.Unknown += r.unknown
		if len(r.rejects) > 0 {
			if err := writeRejects(r.rejects); err != nil {
				return fmt.Errorf("write %s: %w", s.opts.Rejects, err)
			}
		}
		if r.table != nil && r.table.NumRows() > 0 {
			res.Scored += r.table.NumRows()
			if err := w.write(r.table); err != nil {
				return fmt.Errorf("write %s: %w", opts.Out, err)
			}
		}
		if s.opts.Progress != nil {
			s.opts.Progress(res.Scored, r.read)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := w.close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", opts.Out, err)
	}
	if err := out.commit(); err != nil {
		return nil, err
	}
	if rejects != nil {
		if err := rejects.commit(); err != nil {
			return nil, err
		}
		res.Rejects = s.opts.Rejects
		rejects = nil
	}
	return res, nil
}

func newScorer(ctx context.Context, m *serve.Model, src ingest.Source, opts Options) (*scorer, error) {
	b := m.Bundle
	s := &scorer{m: m, pipe: b.Features, model: b.Model, rules: m.Rules(), opts: opts, classes: m.Classes(), version: int64(m.Version)}
	if opts.Out == "" {
		return nil, fmt.Errorf("score: %w: no output file", ErrUsage)
	}
	if s.opts.Format == "" {
		s.opts.Format = formatOf(opts.Out)
	}
	if s.opts.Format != Parquet && s.opts.Format != CSV && s.opts.Format != JSONL {
		return nil, fmt.Errorf("score: %w: format %q (want parquet, csv or jsonl)", ErrUsage, opts.Format)
	}
	if s.opts.Rejects == "" {
		s.opts.Rejects = opts.Out + ".rejects.jsonl"
	}
	if s.opts.Parallelism <= 0 {
		s.opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.Top < 0 {
		return nil, fmt.Errorf("score: %w: top %d (want 0 for every contribution, or more)", ErrUsage, opts.Top)
	}
	if opts.Explain {
		ex, err := explain.New(s.pipe, s.model)
		if err != nil {
			return nil, fmt.Errorf("score: %w: %w", ErrUsage, err)
		}
		s.ex = ex
	}
	if err := s.readSchema(ctx, src); err != nil {
		return nil, err
	}
	read, err := s.schema.ArrowSchema()
	if err != nil {
		return nil, err
	}
	if s.out, err = s.outputSchema(read); err != nil {
		return nil, err
	}
	s.labelDict, s.nameDict = stringArray(s.classes), stringArray([]string{m.Name})
	return s, nil
}

// readSchema sets the columns to read: the inputs with their contract
// types (nulls are let through the reader and judged by the rules) and
// the kept columns. A file with a header has the inputs first, then the
// kept columns that are not inputs, typed as in training or else as in
// the first file. A CSV file without one has every column of the
// training data in order, the ones neither used nor kept read as text.
func (s *scorer) readSchema(ctx context.Context, src ingest.Source) error {
	byName := func(cols []ingest.ColumnSpec, name string) int {
		return slices.IndexFunc(cols, func(c ingest.ColumnSpec) bool { return c.Name == name })
	}
	input := func(r serve.Rule) ingest.ColumnSpec {
		c := ingest.ColumnSpec{Name: r.Name, Type: r.Type, Nullable: true}
		if k := byName(s.opts.Columns, r.Name); k >= 0 {
			c.Format, c.Timezone = s.opts.Columns[k].Format, s.opts.Columns[k].Timezone
		}
		return c
	}
	cols := &s.schema.Columns
	s.input = make([]int, len(s.rules))
	if src.Header != nil && !*src.Header {
		order := s.opts.Columns
		if order == nil {
			order = TrainingColumns(s.m)
		}
		if order == nil {
			return fmt.Errorf("score: %w: a file without a header needs its columns in order: the bundle has no %s (pass the training config)", ErrUsage, bundle.ProfileFile)
		}
		for _, c := range order {
			if j := slices.IndexFunc(s.rules, func(r serve.Rule) bool { return r.Name == c.Name }); j >= 0 {
				s.input[j] = len(*cols)
				*cols = append(*cols, input(s.rules[j]))
				continue
			}
			typ := "string"
			if slices.Contains(s.opts.Keep, c.Name) {
				typ = c.Type
			}
			*cols = append(*cols, ingest.ColumnSpec{Name: c.Name, Type: typ, Nullable: true, Format: c.Format, Timezone: c.Timezone})
		}
		var names []string
		for _, c := range order {
			names = append(names, c.Name)
		}
		for _, r := range s.rules {
			if byName(*cols, r.Name) < 0 {
				return fmt.Errorf("score: %w: the model's input %q is not among the columns of a file without a header (%s)", ErrUsage, r.Name, strings.Join(names, ", "))
			}
		}
		for _, name := range s.opts.Keep {
			k := byName(*cols, name)
			if k < 0 {
				return fmt.Errorf("score: %w: --keep %q is not among the columns of a file without a header (%s)", ErrUsage, name, strings.Join(names, ", "))
			}
			s.keep = append(s.keep, k)
		}
		return nil
	}
	for j, r := range s.rules {
		s.input[j] = j
		*cols = append(*cols, input(r))
	}
	s.schema.AllowExtra = true
	var fileTypes map[string]string
	for _, name := range s.opts.Keep {
		if k := byName(*cols, name); k >= 0 {
			s.keep = append(s.keep, k)
			continue
		}
		var typ string
		if p := trainingProfile(s.m.Dir); p != nil {
			if k := slices.IndexFunc(p.Columns, func(c ingest.ColumnProfile) bool { return c.Name == name }); k >= 0 {
				typ = p.Columns[k].Type
			}
		}
		if typ == "" {
			if fileTypes == nil {
				var err error
				if fileTypes, err = ingest.FileTypes(ctx, src); err != nil {
					return err
				}
				if fileTypes == nil {
					fileTypes = map[string]string{} // text: every value is a string
				}
			}
			typ = fileTypes[name]
		}
		if typ == "" {
			typ = "string"
		}
		c := ingest.ColumnSpec{Name: name, Type: typ, Nullable: true}
		if k := byName(s.opts.Columns, name); k >= 0 {
			c.Format, c.Timezone = s.opts.Columns[k].Format, s.opts.Columns[k].Timezone
		}
		s.keep = append(s.keep, len(*cols))
		*cols = append(*cols, c)
	}
	return nil
}

// TrainingColumns are the columns of m's training data, in order, with
// their contract types (from the bundle's profile), or nil when the
// bundle has no profile.
func TrainingColumns(m *serve.Model) []ingest.ColumnSpec {
	p := trainingProfile(m.Dir)
	if p == nil {
		return nil
	}
	out := make([]ingest.ColumnSpec, len(p.Columns))
	for i, c := range p.Columns {
		out[i] = ingest.ColumnSpec{Name: c.Name, Type: c.Type}
	}
	return out
}

// trainingProfile is the profile of the training data of the bundle in
// dir (its profile.json), or nil.
func trainingProfile(dir string) *ingest.Profile {
	var p ingest.Profile
	if err := fsx.ReadJSON(filepath.Join(dir, bundle.ProfileFile), &p); err != nil {
		return nil
	}
	return &p
}

func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV
	case ".jsonl", ".ndjson":
		return JSONL
	}
	return Parquet
}

// outputSchema lists the output columns (see Options and doc.go).
func (s *scorer) outputSchema(read *arrow.Schema) (*arrow.Schema, error) {
	var fields []arrow.Field
	for _, k := range s.keep {
		fields = append(fields, read.Field(k))
	}
	f64 := arrow.PrimitiveTypes.Float64
	str := arrow.BinaryTypes.String
	// The label and the model's name take few values: they are written
	// as indices into their values (an Arrow dictionary array), which
	// a Parquet file stores as it would the strings (a dictionary page and
	// the indices) without hashing every row's string again. Read back,
	// they are plain strings.
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: str}
	switch {
	case s.model.Task() == model.Regression:
		fields = append(fields, arrow.Field{Name: "prediction", Type: f64})
	case s.m.Outputs() == 1:
		fields = append(fields, arrow.Field{Name: "probability", Type: f64}, arrow.Field{Name: "label", Type: dict})
	default:
		for _, c := range s.classes {
			fields = append(fields, arrow.Field{Name: "probability_" + c, Type: f64})
		}
		fields = append(fields, arrow.Field{Name: "label", Type: dict})
	}
	fields = append(fields,
		arrow.Field{Name: "unknown", Type: str},
		arrow.Field{Name: "model", Type: dict},
		arrow.Field{Name: "model_version", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	)
	if s.ex != nil {
		fields = append(fields, arrow.Field{Name: "base_value", Type: f64})
		if s.opts.Top > 0 {
			for k := 1; k <= min(s.opts.Top, len(s.ex.Inputs())); k++ {
				fields = append(fields, arrow.Field{Name: fmt.Sprintf("top%d_input", k), Type: str},
					arrow.Field{Name: fmt.Sprintf("top%d_contribution", k), Type: f64})
			}
		} else {
			for _, in := range s.ex.Inputs() {
				fields = append(fields, arrow.Field{Name: "contribution_" + in, Type: f64})
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range fields {
		if seen[f.Name] {
			if i < len(s.keep) {
				return nil, fmt.Errorf("score: %w: --keep names %q twice", ErrUsage, f.Name)
			}
			return nil, fmt.Errorf("score: %w: the kept column %q has the name of an output column", ErrUsage, f.Name)
		}
		seen[f.Name] = true
	}
	return arrow.NewSchema(fields, nil), nil
}

// stringArray is an Arrow array of the strings.
func stringArray(vals []string) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}

// output is a file written under a temporary name in its directory and
// renamed when complete.
type output struct {
	f    *os.File
	path string
}

func create(path string) (*output, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, fsx.TempPrefix+filepath.Base(path)+"-")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &output{f: f, path: path}, nil
}

// commit syncs, closes and renames the file into place.
func (o *output) commit() error {
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := o.f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	o.f = nil
	return fsx.SyncDir(filepath.Dir(o.path))
}

// abort removes the temporary file, unless it was committed.
func (o *output) abort() {
	if o.f != nil {
		o.f.Close()
		os.Remove(o.f.Name())
		o.f = nil
	}
}
