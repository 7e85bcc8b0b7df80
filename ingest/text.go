package ingest

import (
	"fmt"
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
// Lines readers do, for code that reads single values (serving).
func ParseTime(s string) (time.Time, error) { return parseTime(s) }

// ParseTimeBytes is ParseTime for bytes. The common layouts do not
// allocate (serving parses a timestamp per instance).
func ParseTimeBytes(b []byte) (time.Time, error) {
	if t, ok := parseTimeFast(b); ok {
		return t, nil
	}
	return parseTime(string(b))
}

// parseTime parses a naive local timestamp: "2001-06-15", "2001-06-15
// 08:30", "2001-06-15T08:30:00" or with a fraction of a second. The
// common layouts take a fast path without allocation. A time with a
// zone or offset is an error: the contract's timestamps are naive.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseTimeFast(s); ok {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return time.Time{}, fmt.Errorf("%q has a time zone; the schema wants naive local time (2001-06-15T08:30:00)", s)
	}
	return time.Time{}, valueError(s, "a timestamp (2001-06-15T08:30:00)")
}

func parseTimeFast[T string | []byte](s T) (time.Time, bool) {
	// YYYY-MM-DD, then optionally [T ]HH:MM, then optionally :SS.
	if len(s) != 10 && len(s) != 16 && len(s) != 19 {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for k := i; k < i+n; k++ {
			d := s[k] - '0'
			if d > 9 {
				return 0, false
			}
			v = v*10 + int(d)
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	var h, mi, sec int
	if len(s) >= 16 {
		var ok4, ok5 bool
		h, ok4 = num(11, 2)
		mi, ok5 = num(14, 2)
		if !ok4 || !ok5 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' {
			return time.Time{}, false
		}
	}
	if len(s) == 19 {
		var ok6 bool
		sec, ok6 = num(17, 2)
		if !ok6 || s[16] != ':' {
			return time.Time{}, false
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

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
