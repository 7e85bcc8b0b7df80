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
// Method "random" assigns each row by a seeded draw.
//
// A split with no rows, or a null time, is an error wrapping ErrInvalid.
func Split(ctx context.Context, tbl arrow.Table, spec SplitSpec) (*Splits, error) {
	var assign []int8 // 0 train, 1 validation, 2 test, -1 dropped
	var err error
	switch spec.Method {
	case "", "time":
		assign, err = timeAssign(tbl, spec)
	case "random":
		assign = randomAssign(tbl.NumRows(), spec)
	default:
		return nil, fmt.Errorf("split: unknown method %q", spec.Method)
	}
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	var counts [3]int64
	for _, a := range assign {
		if a >= 0 {
			counts[a]++
		}
	}
	for k, name := range []string{SplitTrain, SplitValid, SplitTest} {
		if counts[k] == 0 {
			return nil, fmt.Errorf("split: %w", &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeEmpty, Column: spec.Column, RowGroup: -1,
				Message: fmt.Sprintf("the %s split is empty (%s)", name, spec.describe(k))}}})
		}
	}
	tables, err := gather(ctx, tbl, assign, 3)
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	return &Splits{Train: tables[0], Valid: tables[1], Test: tables[2]}, nil
}

func (s SplitSpec) describe(k int) string {
	if s.Method == "random" {
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

func timeAssign(tbl arrow.Table, spec SplitSpec) ([]int8, error) {
	j := tbl.Schema().FieldIndices(spec.Column)
	if len(j) != 1 {
		return nil, fmt.Errorf("time column %q is not in the data", spec.Column)
	}
	ts, ok := tbl.Schema().Field(j[0]).Type.(*arrow.TimestampType)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, not a timestamp", spec.Column, tbl.Schema().Field(j[0]).Type)
	}
	if spec.TestDays > 0 {
		_, hi, ok := TimeBounds(tbl, spec.Column)
		if !ok {
			return nil, fmt.Errorf("time column %q has no values", spec.Column)
		}
		end := hi.Truncate(24*time.Hour).AddDate(0, 0, 1)
		spec.TestFrom = end.AddDate(0, 0, -spec.TestDays)
		spec.ValidFrom = spec.TestFrom.AddDate(0, 0, -spec.ValidDays)
	}
	vf, tf := toUnit(spec.ValidFrom, ts.Unit), toUnit(spec.TestFrom, ts.Unit)
	tu := int64(1<<63 - 1)
	if !spec.TestUntil.IsZero() {
		tu = toUnit(spec.TestUntil, ts.Unit)
	}
	assign := make([]int8, 0, tbl.NumRows())
	var row int64
	for _, chunk := range tbl.Column(j[0]).Data().Chunks() {
		a := chunk.(*array.Timestamp)
		for i, v := range a.TimestampValues() {
			if a.IsNull(i) {
				return nil, &InvalidError{Issues: []Issue{{Severity: Error, Code: CodeNull, Column: spec.Column, Row: row + int64(i) + 1, RowGroup: -1,
					Message: "the time column of the split is null"}}}
			}
			t := int64(v)
			switch {
			case t < vf:
				assign = append(assign, 0)
			case t < tf:
				assign = append(assign, 1)
			case t < tu:
				assign = append(assign, 2)
			default:
				assign = append(assign, -1)
			}
		}
		row += int64(a.Len())
	}
	return assign, nil
}

func randomAssign(n int64, spec SplitSpec) []int8 {
	// PCG with the config's seed: the same seed gives the same split.
	rng := rand.New(rand.NewPCG(spec.Seed, 0x6d6c70697065)) // "mlpipe"
	assign := make([]int8, n)
	for i := range assign {
		u := rng.Float64()
		switch {
		case u < spec.ValidFraction:
			assign[i] = 1
		case u < spec.ValidFraction+spec.TestFraction:
			assign[i] = 2
		}
	}
	return assign
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
