package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Split names.
const (
	SplitTrain = "train"
	SplitValid = "validation"
	SplitTest  = "test"
)

// Splits are the three parts of a dataset. Each table has the dataset's
// schema.
type Splits struct {
	Train, Valid, Test arrow.Table
}

// Release releases the three tables.
func (s *Splits) Release() {
	for _, t := range []arrow.Table{s.Train, s.Valid, s.Test} {
		if t != nil {
			t.Release()
		}
	}
}

// Tables returns the splits with their names, in order.
func (s *Splits) Tables() []NamedTable {
	return []NamedTable{{SplitTrain, s.Train}, {SplitValid, s.Valid}, {SplitTest, s.Test}}
}

// NamedTable is a table and its split name.
type NamedTable struct {
	Name  string
	Table arrow.Table
}

// Split divides tbl into train, validation and test.
//
// Method "time" (the default) never shuffles: train is t < ValidFrom,
// validation ValidFrom <= t < TestFrom, and test TestFrom <= t (and
// t < TestUntil if set; later rows are dropped). This is how a model is
// judged in production, on a period after the one it learned from. When
// the rows are already in time order (as the flights data is), the splits
// are zero-copy slices; otherwise each split is copied in one pass over
// the table's chunks, so any row order costs the same (see gather).
//
// Method "random" assigns each row by a seeded draw, or, with a Group
// column, each group: a row's split is drawn from a seeded hash of its
// group's value, so the rows of a group share a split wherever they lie
// in the data (a row with a null group is a group of its own).
//
// A split with no rows, or a null time, is an error wrapping ErrInvalid.
// The rows are assigned by an Assigner, which makes the same decision
// for data read a chunk at a time.
func Split(ctx context.Context, tbl arrow.Table, spec SplitSpec) (*Splits, error) {
	var latest time.Time
	if spec.timed() && spec.TestDays > 0 {
		_, latest, _ = TimeBounds(tbl, spec.Column)
	}
	a, err := NewAssigner(spec, tbl.Schema(), latest)
	if err != nil {
		return nil, err
	}
	assign, err := a.Assign(tbl)
	if err != nil {
		return nil, err
	}
	if err := a.Check(); err != nil {
		return nil, err
	}
	tables, err := gather(ctx, tbl, assign, 3)
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	return &Splits{Train: tables[0], Valid: tables[1], Test: tables[2]}, nil
}

// timed reports whether s splits by time.
func (s SplitSpec) timed() bool { return s.Method == "" || s.Method == "time" }

func (s SplitSpec) describe(k int) string {
	if s.Method == "random" {
		if s.Group != "" {
			return fmt.Sprintf("random split of the values of %s", s.Group)
		}
		return "random split"
	}
	day := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02") }
	switch k {
	case 0:
		return fmt.Sprintf("no rows with %s < %s", s.Column, day(s.ValidFrom))
	case 1:
		return fmt.Sprintf("no rows with %s <= %s < %s", day(s.ValidFrom), s.Column, day(s.TestFrom))
	}
	if !s.TestUntil.IsZero() {
		return fmt.Sprintf("no rows with %s <= %s < %s", day(s.TestFrom), s.Column, day(s.TestUntil))
	}
	return fmt.Sprintf("no rows with %s >= %s", s.Column, day(s.TestFrom))
}

// Assigner is Split's decision of which split each row goes to, made a
// chunk of rows at a time (a scan's chunks), for data that is never
// held whole: fed the rows of a table in order, in chunks of any size,
// it gives each row the split that Split gives it. Both methods stream:
// a time split compares each row's time with fixed bounds, and a random
// split draws one number per row, in row order, from one seeded PCG.
//
// A split by trailing days (SplitSpec.TestDays) counts its days back
// from the data's latest time, which must be known before the first row
// is assigned: the caller finds it first (TimeBounds of a table, or one
// pass over the time column of a scan) or knows it, and gives it to
// NewAssigner.
type Assigner struct {
	spec       SplitSpec // with TestDays resolved to dates
	vf, tf, tu int64     // a time split's bounds, in the column's unit
	unit       arrow.DataType
	rng        *rand.Rand // a random split's draws
	row        int64      // the rows assigned so far
	counts     [3]int64
}

// NewAssigner returns an Assigner of the rows of tables with schema by
// spec. latest is the latest time in the data (TimeBounds' hi), used
// only by a time split with TestDays; there, the zero time means the
// time column has no values, an error. It fails as Split does for an
// unknown method or a time column missing or not a timestamp.
func NewAssigner(spec SplitSpec, schema *arrow.Schema, latest time.Time) (*Assigner, error) {
	switch spec.Method {
	case "", "time":
	case "random":
		if spec.Group != "" {
			j := schema.FieldIndices(spec.Group)
			if len(j) != 1 {
				return nil, fmt.Errorf("split: group column %q is not in the data", spec.Group)
			}
			if t := schema.Field(j[0]).Type; !groupable(t) {
				return nil, fmt.Errorf("split: group column %q is %s; a group is a string, integer, bool or timestamp", spec.Group, t)
			}
		}
		// PCG with the config's seed: the same seed gives the same split.
		return &Assigner{spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, 0x6d6c70697065))}, nil // "mlpipe"
	default:
		return nil, fmt.Errorf("split: unknown method %q", spec.Method)
	}
	j := schema.FieldIndices(spec.Column)
	if len(j) != 1 {
		return nil, fmt.Errorf("split: time column %q is not in the data", spec.Column)
	}
	ts, ok := schema.Field(j[0]).Type.(*arrow.TimestampType)
	if !ok {
		return nil, fmt.Errorf("split: column %q is %s, not a timestamp", spec.Column, schema.Field(j[0]).Type)
	}
	if spec.TestDays > 0 {
		if latest.IsZero() {
			return nil, fmt.Errorf("split: time column %q has no values", spec.Column)
		}
		end := latest.Truncate(24*time.Hour).AddDate(0, 0, 1)
		spec.TestFrom = end.AddDate(0, 0, -spec.TestDays)
		spec.ValidFrom = spec.TestFrom.AddDate(0, 0, -spec.ValidDays)
	}
	a := &Assigner{spec: spec, unit: ts, vf: toUnit(spec.ValidFrom, ts.Unit), tf: toUnit(spec.TestFrom, ts.Unit), tu: 1<<63 - 1}
	if !spec.TestUntil.IsZero() {
		a.tu = toUnit(spec.TestUntil, ts.Unit)
	}
	return a, nil
}

// Assign returns the split of each row of tbl, the next rows of the
// data: 0 train, 1 validation, 2 test, -1 dropped (a time split's rows
// at or after TestUntil). tbl must have the time column, of the type
// NewAssigner was given. A null time is an error wrapping ErrInvalid
// that names the row (1-based, counted over all the chunks).
func (a *Assigner) Assign(tbl arrow.Table) ([]int8, error) {
	return a.assign(tbl, nil)
}

// assign is Assign of the rows i of tbl with keep[i] (all rows if keep
// is nil): the others get -1 and are not seen, as if they had been
// removed from tbl first (they take no draw and no row number).
func (a *Assigner) assign(tbl arrow.Table, keep []bool) ([]int8, error) {
	out := make([]int8, tbl.NumRows())
	if a.rng != nil {
		var groups []uint64
		var null []bool
		if a.spec.Group != "" {
			var err error
			if groups, null, err = groupHashes(tbl, a.spec.Group); err != nil {
				return nil, fmt.Errorf("split: %w", err)
			}
		}
		for i := range out {
			if keep != nil && !keep[i] {
				out[i] = -1
				continue
			}
			a.row++
			var u float64
			switch {
			case groups == nil:
				u = a.rng.Float64()
			case null[i]:
				u = unitDraw(a.spec.Seed, uint64(a.row), seedNullGroup)
			default:
				u = unitDraw(a.spec.Seed, groups[i], seedGroup)
			}
			switch {
			case u < a.spec.ValidFraction:
				out[i] = 1
			case u < a.spec.ValidFraction+a.spec.TestFraction:
				out[i] = 2
			}
			a.counts[out[i]]++
		}
		return out, nil
	}
	j := tbl.Schema().FieldIndices(a.spec.Column)
	if len(j) != 1 || !arrow.TypeEqual(tbl.Schema().Field(j[0]).Type, a.unit) {
		return nil, fmt.Errorf("split: a chunk without the time column %q of type %s", a.spec.Column, a.unit)
	}
	// The row number and counts are locals in the loop: kept in
	// registers rather than stored through a on each row.
	row, counts, off := a.row, a.counts, 0
	defer func() { a.row, a.counts = row, counts }()
	for _, chunk := range tbl.Column(j[0]).Data().Chunks() {
		ts := chunk.(*array.Timestamp)
		for i, v := range ts.TimestampValues() {
			if keep != nil && !keep[off+i] {
				out[off+i] = -1
				continue
			}
			row++
			if ts.IsNull(i) {
				return nil, fmt.Errorf("split: %w", &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeNull, Column: a.spec.Column, Row: row, RowGroup: -1,
					Message: "the time column of the split is null"}}})
			}
			k := int8(-1)
			switch t := int64(v); {
			case t < a.vf:
				k = 0
			case t < a.tf:
				k = 1
			case t < a.tu:
				k = 2
			}
			out[off+i] = k
			if k >= 0 {
				counts[k]++
			}
		}
		off += ts.Len()
	}
	return out, nil
}

// Counts returns the rows assigned so far to train, validation and test.
func (a *Assigner) Counts() [3]int64 { return a.counts }

// Check returns Split's error for a split with no rows (wrapping
// ErrInvalid), or nil: call it after the last chunk.
func (a *Assigner) Check() error {
	for k, name := range []string{SplitTrain, SplitValid, SplitTest} {
		if a.counts[k] == 0 {
			return fmt.Errorf("split: %w", &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeEmpty, Column: a.spec.Column, RowGroup: -1,
				Message: fmt.Sprintf("the %s split is empty (%s)", name, a.spec.describe(k))}}})
		}
	}
	return nil
}

// TimeBounds returns the earliest and latest non-null time in a timestamp
// column of tbl, as wall-clock times in UTC; ok is false if the column is
// missing, not a timestamp, or has no values.
func TimeBounds(tbl arrow.Table, column string) (lo, hi time.Time, ok bool) {
	j := tbl.Schema().FieldIndices(column)
	if len(j) != 1 {
		return lo, hi, false
	}
	ts, isTS := tbl.Schema().Field(j[0]).Type.(*arrow.TimestampType)
	if !isTS {
		return lo, hi, false
	}
	min, max := int64(1<<63-1), int64(-1<<63)
	for _, chunk := range tbl.Column(j[0]).Data().Chunks() {
		a := chunk.(*array.Timestamp)
		for i, v := range a.TimestampValues() {
			if a.IsValid(i) {
				ok = true
				if int64(v) < min {
					min = int64(v)
				}
				if int64(v) > max {
					max = int64(v)
				}
			}
		}
	}
	if !ok {
		return lo, hi, false
	}
	return fromUnit(min, ts.Unit), fromUnit(max, ts.Unit), true
}

// fromUnit converts a timestamp value in unit to a wall-clock time (UTC).
func fromUnit(v int64, unit arrow.TimeUnit) time.Time {
	switch unit {
	case arrow.Second:
		return time.Unix(v, 0).UTC()
	case arrow.Millisecond:
		return time.UnixMilli(v).UTC()
	case arrow.Microsecond:
		return time.UnixMicro(v).UTC()
	}
	return time.Unix(0, v).UTC()
}

// TimeSlice returns the rows of tbl whose time column lies in [from, to),
// in table order: zero-copy slices of the chunks where those rows are
// contiguous (data in time order), else a copy of them, in one pass
// whatever the row order (see gather). A backtest cuts its weekly windows
// with it. The caller releases the result.
func TimeSlice(ctx context.Context, tbl arrow.Table, column string, from, to time.Time) (arrow.Table, error) {
	j := tbl.Schema().FieldIndices(column)
	if len(j) != 1 {
		return nil, fmt.Errorf("time slice: time column %q is not in the data", column)
	}
	ts, ok := tbl.Schema().Field(j[0]).Type.(*arrow.TimestampType)
	if !ok {
		return nil, fmt.Errorf("time slice: column %q is %s, not a timestamp", column, tbl.Schema().Field(j[0]).Type)
	}
	lo, hi := toUnit(from, ts.Unit), toUnit(to, ts.Unit)
	assign := make([]int8, 0, tbl.NumRows())
	for _, chunk := range tbl.Column(j[0]).Data().Chunks() {
		a := chunk.(*array.Timestamp)
		for i, v := range a.TimestampValues() {
			if !a.IsNull(i) && int64(v) >= lo && int64(v) < hi {
				assign = append(assign, 0)
			} else {
				assign = append(assign, -1)
			}
		}
	}
	t, err := gather(ctx, tbl, assign, 1)
	if err != nil {
		return nil, fmt.Errorf("time slice: %w", err)
	}
	return t[0], nil
}
