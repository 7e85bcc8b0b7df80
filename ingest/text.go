package ingest

import (
	"fmt"
	"github.com/mlpipe/mlpipe/internal/timeparse"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// This file holds what the text readers (CSV, JSON Lines and JSON) share:
// turning text values into typed Arrow columns of the contract.

// column builds one contract column from text values.
type column struct {
	dt   arrow.DataType
	unit arrow.TimeUnit // for timestamps
	tp   *timeParser    // for timestamps
	b    array.Builder
}

// newColumns returns a builder for each contract column.
func (c *contract) newColumns(capacity int) []*column {
	cols := make([]*column, len(c.target.Fields()))
	for j, f := range c.target.Fields() {
		col := &column{dt: f.Type, b: array.NewBuilder(c.mem, f.Type), tp: c.times[j]}
		if ts, ok := f.Type.(*arrow.TimestampType); ok {
			col.unit = ts.Unit
		}
		col.b.Reserve(capacity)
		cols[j] = col
	}
	return cols
}

// appendText parses s as the column's type and appends it. An empty
// string is null. On error nothing is appended (the caller appends a
// null to keep the columns aligned) and the message says why.
func (c *column) appendText(s string) error {
	if s == "" {
		c.b.AppendNull()
		return nil
	}
	switch b := c.b.(type) {
	case *array.Int64Builder:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return valueError(s, "an int64")
		}
		b.Append(v)
	case *array.Float64Builder:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return valueError(s, "a float64")
			}
		}
		b.Append(v)
	case *array.BooleanBuilder:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return valueError(s, "a bool (true or false)")
		}
		b.Append(v)
	case *array.StringBuilder:
		b.Append(s)
	case *array.TimestampBuilder:
		t, err := c.tp.parse(s)
		if err != nil {
			return err
		}
		b.Append(arrow.Timestamp(toUnit(t, c.unit)))
	default:
		return fmt.Errorf("unsupported type %s", c.dt)
	}
	return nil
}

func valueError(s, want string) error {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Errorf("%q is not %s", s, want)
}

// ParseTime parses a naive local timestamp the way the CSV and JSON
// Lines readers do (timeparse.Parse), for code that reads single values.
func ParseTime(s string) (time.Time, error) { return timeparse.Parse(s) }

// ParseTimeBytes is ParseTime for bytes (timeparse.ParseBytes).
func ParseTimeBytes(b []byte) (time.Time, error) { return timeparse.ParseBytes(b) }

// parseTimeFast is timeparse.Fast.
func parseTimeFast[T string | []byte](s T) (time.Time, bool) { return timeparse.Fast(s) }

// rowIssues collects the per-row issues of one chunk of a text file,
// keeping the first few and counting the rest (all of them when all is
// set, as Scan asks).
type rowIssues struct {
	kept    []Issue
	dropped int64
	all     bool
}

// maxRowIssues is how many row issues a chunk keeps in full.
const maxRowIssues = 20

func (r *rowIssues) add(is Issue) {
	if len(r.kept) < maxRowIssues || r.all {
		r.kept = append(r.kept, is)
		return
	}
	r.dropped++
}
