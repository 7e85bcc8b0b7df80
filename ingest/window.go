package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/compute"
)

// timeWindow is a Window resolved against a clock: [since, until) over
// column, either bound possibly open.
type timeWindow struct {
	column       string
	since, until time.Time
}

func (w timeWindow) active() bool { return !w.since.IsZero() || !w.until.IsZero() }

// bounds resolves LastDays against now.
func (w Window) bounds(now time.Time) (timeWindow, error) {
	tw := timeWindow{column: w.Column, since: w.Since, until: w.Until}
	if w.LastDays > 0 {
		if !w.Since.IsZero() {
			return tw, fmt.Errorf("window: last_days and since cannot both be set")
		}
		if tw.until.IsZero() {
			// Naive local times are compared as wall-clock readings.
			y, m, d := now.Date()
			h, mi, s := now.Clock()
			tw.until = time.Date(y, m, d, h, mi, s, now.Nanosecond(), time.UTC)
		}
		tw.since = tw.until.AddDate(0, 0, -w.LastDays)
	}
	if tw.active() && tw.column == "" {
		return tw, fmt.Errorf("window: column is required")
	}
	return tw, nil
}

// toUnit converts a wall-clock time to a timestamp value in unit.
func toUnit(t time.Time, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return t.Unix()
	case arrow.Millisecond:
		return t.UnixMilli()
	case arrow.Microsecond:
		return t.UnixMicro()
	}
	return t.UnixNano()
}

// apply keeps the rows of p inside the window and records which file
// rows they were. Rows whose time is null are kept, so that validation
// can report them.
func (w timeWindow) apply(ctx context.Context, p *piece, c *contract) error {
	j := c.target.FieldIndices(w.column)
	if len(j) != 1 {
		return fmt.Errorf("window: column %q is not in the schema", w.column)
	}
	ts, ok := c.target.Field(j[0]).Type.(*arrow.TimestampType)
	if !ok {
		return fmt.Errorf("window: column %q is %s, not a timestamp", w.column, c.target.Field(j[0]).Type)
	}
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !w.since.IsZero() {
		lo = toUnit(w.since, ts.Unit)
	}
	if !w.until.IsZero() {
		hi = toUnit(w.until, ts.Unit)
	}
	var kept []int64
	assign := make([]int8, 0, p.table.NumRows())
	var row int64
	for _, chunk := range p.table.Column(j[0]).Data().Chunks() {
		a := chunk.(*array.Timestamp)
		vals := a.TimestampValues()
		for i, v := range vals {
			if a.IsNull(i) || (int64(v) >= lo && int64(v) < hi) {
				kept = append(kept, row)
				assign = append(assign, 0)
			} else {
				assign = append(assign, -1)
			}
			row++
		}
	}
	if int64(len(kept)) == p.table.NumRows() {
		return nil // nothing to drop
	}
	out, err := gather(compute.WithAllocator(ctx, c.mem), p.table, assign, 1)
	if err != nil {
		return fmt.Errorf("window: %w", err)
	}
	p.table.Release()
	p.table = out[0]
	p.kept = kept
	return nil
}
