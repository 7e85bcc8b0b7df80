package ingest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/mlpipe/mlpipe/ingest/profile"
	"github.com/mlpipe/mlpipe/internal/tables"
)

// Streamed is what ReadSplits read of a source in one pass, chunk by
// chunk: everything the ingest stages produce, with the training rows
// left in the files.
type Streamed struct {
	// Dataset has the files' Parts and the load's Warnings, as Load and
	// DropUnlabelled leave them; its Table is nil.
	Dataset *Dataset
	// Report is Validate's report of every row read.
	Report *Report
	// Fingerprint is Fingerprint of every row read (before rows without
	// a label are dropped, as the load stage fingerprints).
	Fingerprint string
	// Profile is ProfileTable of the rows kept (every row, but for those
	// without a label under label.missing: drop).
	Profile *Profile
	// Rows and Columns are the shape of the rows kept.
	Rows    int64
	Columns int
	// Splits holds the validation and test rows, each table one chunk of
	// each source chunk's rows; Train is nil.
	Splits *Splits
	// Train reads the training rows again from the files, a range at a
	// time (SplitRows).
	Train tables.Source
	// TrainFrom and TrainTo are the first and last time of the training
	// rows (TimeBounds), TrainTimed whether there is one.
	TrainFrom, TrainTo time.Time
	TrainTimed         bool
	// TrainClasses are a multiclass label's classes on the training rows,
	// sorted, as Derive finds them; nil for other labels.
	TrainClasses []string
	// SplitErr is Split's error for these rows (an empty split, a null
	// time), which the split stage reports once validation has passed.
	SplitErr error
}

// ReadSplits reads src a chunk at a time (Scan) and does, for every
// chunk, what the ingest stages do to the whole table: it validates the
// rows (Validator), fingerprints them, leaves out rows without a label
// under label.missing: drop, profiles the rest, assigns each its split
// and keeps the validation and test rows. The training rows are not
// kept: Streamed.Train reads them again when asked. Every result is bit
// for bit that of Load, Validate, Fingerprint, DropUnlabelled,
// ProfileTable and Split on the whole table (TestReadSplits), while
// memory holds a few chunks, the validation and test rows and the
// profile's values (8 bytes a row of each numeric column), never the
// table. A split by time whose test period is its last TestDays days
// needs the latest time before any row can be assigned: the source is
// then read once more, first, for it.
//
// A problem with the files (unreadable, a missing column) is an error;
// a problem with the values is in Report, and one with the split in
// SplitErr.
func ReadSplits(ctx context.Context, src Source, schema Schema, opts *Options, label LabelSpec, spec SplitSpec) (*Streamed, error) {
	target, err := schema.ArrowSchema()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	files, err := resolve(src)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var latest time.Time
	if spec.Method != "random" && spec.TestDays > 0 {
		if latest, err = latestTime(ctx, src, schema, label, spec.Column); err != nil {
			return nil, err
		}
	}
	r := &readSplits{
		out:     &Streamed{Dataset: &Dataset{}, Columns: len(target.Fields())},
		fp:      NewFingerprinter(target),
		prof:    profile.NewBuilder(target, nil),
		label:   label,
		spec:    spec,
		latest:  latest,
		byFile:  map[string]int{},
		classes: map[string]bool{},
	}
	if r.val, err = NewValidator(src, schema, label); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// A split that cannot be made (no such time column) is the split
	// stage's error, once validation has passed.
	r.assign, r.out.SplitErr = NewAssigner(spec, target, latest)
	for k, f := range files {
		r.out.Dataset.Parts = append(r.out.Dataset.Parts, Part{Path: f.path, Format: f.format})
		r.byFile[f.path] = k
	}
	progress := opts.progress()
	err = Scan(ctx, src, schema, opts, func(c *Chunk) error {
		progress(c.Table.NumRows()) // the rows read, as Load tells them
		return r.add(ctx, c)
	})
	if err == nil {
		err = ctx.Err() // Scan ends quietly when cancelled between chunks
	}
	if err != nil {
		r.release()
		return nil, fmt.Errorf("load: %w", err)
	}
	return r.finish(ctx, src, schema, opts)
}

type readSplits struct {
	out    *Streamed
	val    *Validator
	fp     *Fingerprinter
	prof   *profile.Builder
	assign *Assigner
	label  LabelSpec
	spec   SplitSpec
	latest time.Time      // the data's latest time (a split by TestDays)
	byFile map[string]int // each file's Part

	valid, test []arrow.Table // each chunk's validation and test rows
	// Of the training rows: the least and greatest time (timed: there is
	// one) in the time column's unit, and a multiclass label's classes.
	lo, hi  int64
	timed   bool
	unit    arrow.TimeUnit
	classes map[string]bool
}

func (r *readSplits) add(ctx context.Context, c *Chunk) error {
	r.val.Add(c)
	if err := r.fp.Add(ctx, c.Table); err != nil {
		return err
	}
	r.out.Dataset.Warnings = append(r.out.Dataset.Warnings, c.Warnings...)
	kept, err := r.keep(ctx, c)
	if err != nil {
		return err
	}
	defer kept.Release()
	r.part(c, kept.NumRows())
	r.out.Rows += kept.NumRows()
	if err := r.prof.Add(kept); err != nil {
		return err
	}
	if r.out.SplitErr != nil {
		return nil
	}
	assign, err := r.assign.Assign(kept)
	if err != nil {
		r.out.SplitErr = err
		return nil
	}
	r.train(kept, assign)
	// The validation and test rows are kept: 0 and 1 of the gather.
	for i, a := range assign {
		if a <= 0 {
			assign[i] = -1
		} else {
			assign[i] = a - 1
		}
	}
	held, err := gather(ctx, kept, assign, 2)
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	r.valid, r.test = append(r.valid, held[0]), append(r.test, held[1])
	return nil
}

// keep returns the chunk's rows that stay (keepRows). The caller
// releases the result.
func (r *readSplits) keep(ctx context.Context, c *Chunk) (arrow.Table, error) {
	keep, err := r.keepRows(c)
	if err != nil {
		return nil, err
	}
	if keep == nil || !slices.Contains(keep, false) {
		c.Table.Retain()
		return c.Table, nil
	}
	kept, err := gather(ctx, c.Table, keepAssign(keep), 1)
	if err != nil {
		return nil, fmt.Errorf("drop unlabelled: %w", err)
	}
	return kept[0], nil
}

// part counts a chunk's rows in its file's Part: the rows read (FileRows,
// and a Parquet row group's or Arrow batch's size in Groups) and the rows
// kept (Rows; Offset is set in finish).
func (r *readSplits) part(c *Chunk, kept int64) {
	p := &r.out.Dataset.Parts[r.byFile[c.File]]
	n := c.Table.NumRows()
	if c.Group >= 0 {
		p.Groups = append(p.Groups, n)
	}
	p.FileRows += n
	p.Rows += kept
}

// train records what the later stages need of the chunk's training rows
// (assign 0) without keeping them: their time range (as TimeBounds finds
// it) and a multiclass label's classes (as Derive finds them).
func (r *readSplits) train(tbl arrow.Table, assign []int8) {
	each := func(column string, fn func(a arrow.Array, i int)) {
		j := tbl.Schema().FieldIndices(column)
		if len(j) != 1 {
			return
		}
		row := 0
		for _, a := range tbl.Column(j[0]).Data().Chunks() {
			for i := range a.Len() {
				if assign[row+i] == 0 && a.IsValid(i) {
					fn(a, i)
				}
			}
			row += a.Len()
		}
	}
	if r.spec.Method != "random" {
		if ts, ok := fieldType(tbl.Schema(), r.spec.Column).(*arrow.TimestampType); ok {
			r.unit = ts.Unit
			each(r.spec.Column, func(a arrow.Array, i int) {
				v := int64(a.(*array.Timestamp).Value(i))
				if !r.timed || v < r.lo {
					r.lo = v
				}
				if !r.timed || v > r.hi {
					r.hi = v
				}
				r.timed = true
			})
		}
	}
	if r.label.Kind == "multiclass" {
		each(r.label.Column, func(a arrow.Array, i int) { r.classes[a.ValueStr(i)] = true })
	}
}

// fieldType is the type of schema's column name, nil if it has none.
func fieldType(schema *arrow.Schema, name string) arrow.DataType {
	j := schema.FieldIndices(name)
	if len(j) != 1 {
		return nil
	}
	return schema.Field(j[0]).Type
}

// finish assembles what the pass read.
func (r *readSplits) finish(ctx context.Context, src Source, schema Schema, opts *Options) (*Streamed, error) {
	out := r.out
	out.Report = r.val.Report()
	if len(r.val.parse) > 0 {
		// Rows that could not be read: Load fails, and the report is
		// ReportFromError's of its error.
		r.release()
		return nil, fmt.Errorf("load: %w", &InvalidError{Issues: out.Report.Issues})
	}
	out.Fingerprint = r.fp.Sum()
	var offset int64
	for k := range out.Dataset.Parts {
		p := &out.Dataset.Parts[k]
		p.Offset = offset
		offset += p.Rows
	}
	var err error
	if out.Profile, err = r.prof.Profile(ctx); err != nil {
		r.release()
		return nil, fmt.Errorf("profile: %w", err)
	}
	target, _ := schema.ArrowSchema()
	out.Splits = &Splits{Valid: concatTables(target, r.valid), Test: concatTables(target, r.test)}
	r.valid, r.test = nil, nil
	if out.SplitErr == nil {
		out.SplitErr = r.assign.Check()
	}
	if r.timed {
		out.TrainFrom, out.TrainTo, out.TrainTimed = fromUnit(r.lo, r.unit), fromUnit(r.hi, r.unit), true
	}
	if r.label.Kind == "multiclass" {
		for c := range r.classes {
			out.TrainClasses = append(out.TrainClasses, c)
		}
		sort.Strings(out.TrainClasses)
	}
	if out.SplitErr != nil {
		return out, nil
	}
	// The later passes read quietly: the load stage's progress counts
	// this one.
	quiet := Options{}
	if opts != nil {
		quiet = *opts
	}
	quiet.Progress = nil
	if out.Train, err = SplitRows(src, schema, &quiet, r.spec, r.latest, 0, r.assign.Counts()[0], r.keepRows); err != nil {
		r.release()
		out.Splits.Release()
		return nil, fmt.Errorf("split: %w", err)
	}
	return out, nil
}

// keepRows tells which of a chunk's rows stay (nil: all): LabelSpec.Keep.
func (r *readSplits) keepRows(c *Chunk) ([]bool, error) {
	return r.label.Keep(c.Table)
}

// release releases the rows held after an error.
func (r *readSplits) release() {
	for _, t := range append(r.valid, r.test...) {
		t.Release()
	}
	r.valid, r.test = nil, nil
}

// latestTime is the latest time in column of the rows of src that stay
// (see keepRows): what a split whose test period is its last TestDays
// days is measured from (TimeBounds on the whole table).
func latestTime(ctx context.Context, src Source, schema Schema, label LabelSpec, column string) (time.Time, error) {
	var hi int64
	var unit arrow.TimeUnit
	seen := false
	err := Scan(ctx, src, schema, nil, func(c *Chunk) error {
		ts, ok := fieldType(c.Table.Schema(), column).(*arrow.TimestampType)
		if !ok {
			return nil
		}
		unit = ts.Unit
		keep, err := label.Keep(c.Table)
		if err != nil {
			return err
		}
		row := 0
		for _, a := range c.Table.Column(c.Table.Schema().FieldIndices(column)[0]).Data().Chunks() {
			t := a.(*array.Timestamp)
			for i := range t.Len() {
				if t.IsValid(i) && (keep == nil || keep[row+i]) {
					if v := int64(t.Value(i)); !seen || v > hi {
						hi, seen = v, true
					}
				}
			}
			row += t.Len()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("load: %w", err)
	}
	if !seen {
		return time.Time{}, nil
	}
	return fromUnit(hi, unit), nil
}
